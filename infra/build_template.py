"""Build the deploy artifacts: `chalice package` with a merge template rendered from
chalicelib/resources.py. The local stack deploys these same artifacts (devstack.deploy).

    python -m infra.build_template --stage prod --out build

writes build/deployment.zip and build/sam.json (the merged template). The merge is deep and only
overrides plain strings (environment variable values), as Chalice merges dictionaries.
"""
from __future__ import annotations

import argparse
import fcntl
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chalice.utils import to_cfn_resource_name  # noqa: E402

from chalicelib import resources as r  # noqa: E402

# Files dropped from deployment.zip: PyYAML's optional libyaml binding (2.6 MB unpacked; PyYAML
# falls back to its pure-Python loader, fast enough for our small config files).
STRIP_FROM_ZIP = ("yaml/_yaml.cpython",)
# One `chalice package` at a time per project (see main): the lock every build takes.
PACKAGE_LOCK = ROOT / ".chalice" / "deployments" / ".package.lock"


def function_names(stage: str) -> list[str]:
    """The stage's functions (none for a stage .chalice/config.json does not define, such as the
    test suite's: its data resources still render)."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    return list(config["stages"].get(stage, {}).get("lambda_functions", {}).keys())


def logical_function_id(name: str) -> str:
    return "APIHandler" if name == "api_handler" else to_cfn_resource_name(name)


def table_definition(table: r.Table, name: str) -> dict[str, Any]:
    """A table's CreateTable-shaped properties (keys, attributes, indexes, stream)."""
    keys = [{"AttributeName": table.pk, "KeyType": "HASH"}]
    if table.sk:
        keys.append({"AttributeName": table.sk, "KeyType": "RANGE"})
    definition: dict[str, Any] = {
        "TableName": name,
        "KeySchema": keys,
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"} for a in table.attribute_names()],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if table.indexes:
        definition["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index.name,
                "KeySchema": [{"AttributeName": index.pk, "KeyType": "HASH"}]
                + ([{"AttributeName": index.sk, "KeyType": "RANGE"}] if index.sk else []),
                "Projection": {"ProjectionType": index.projection},
            }
            for index in table.indexes
        ]
    if table.stream:
        definition["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": table.stream}
    return definition


def table_resource(table: r.Table, stage: str) -> dict[str, Any]:
    props = table_definition(table, r.physical_name(stage, table.short))
    if "StreamSpecification" in props:  # CloudFormation takes only the view type
        props["StreamSpecification"] = {"StreamViewType": table.stream}
    props["PointInTimeRecoverySpecification"] = {"PointInTimeRecoveryEnabled": True}
    props["SSESpecification"] = {"SSEEnabled": True}
    if table.ttl_attribute:
        props["TimeToLiveSpecification"] = {"AttributeName": table.ttl_attribute, "Enabled": True}
    return {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain", "Properties": props}


def queue_resources(queue: r.Queue, stage: str) -> dict[str, Any]:
    if not queue.has_dlq:
        return {
            queue.logical_id: {
                "Type": "AWS::SQS::Queue",
                "Properties": {
                    "QueueName": r.physical_name(stage, queue.short),
                    "MessageRetentionPeriod": queue.dlq_retention_s,
                    "SqsManagedSseEnabled": True,
                },
            }
        }
    dlq_id = f"{queue.logical_id}Dlq"
    return {
        dlq_id: {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": r.physical_name(stage, queue.dlq_short),
                "MessageRetentionPeriod": queue.dlq_retention_s,
                "SqsManagedSseEnabled": True,
            },
        },
        queue.logical_id: {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": r.physical_name(stage, queue.short),
                "VisibilityTimeout": queue.visibility_timeout_s,
                **({"MessageRetentionPeriod": queue.retention_s} if queue.retention_s else {}),
                "SqsManagedSseEnabled": True,
                "RedrivePolicy": {
                    "deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]},
                    "maxReceiveCount": queue.max_receive_count,
                },
            },
        },
    }


def bucket_resource(stage: str) -> dict[str, Any]:
    return {
        "Type": "AWS::S3::Bucket",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "BucketName": {"Fn::Sub": f"{r.physical_name(stage, r.DATA_BUCKET.short)}-${{AWS::AccountId}}"},
            "NotificationConfiguration": {"EventBridgeConfiguration": {"EventBridgeEnabled": r.DATA_BUCKET.eventbridge}},
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
        },
    }


def mapping_resource(mapping: r.Mapping) -> dict[str, Any]:
    source = r.by_logical_id(mapping.source)
    props: dict[str, Any] = {
        "FunctionName": {"Ref": logical_function_id(mapping.function)},
        "BatchSize": mapping.batch_size,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "Enabled": True,
    }
    if mapping.max_batching_window_s:
        props["MaximumBatchingWindowInSeconds"] = mapping.max_batching_window_s
    if isinstance(source, r.Table):
        props.update(
            EventSourceArn={"Fn::GetAtt": [source.logical_id, "StreamArn"]},
            StartingPosition=mapping.starting_position,
            MaximumRetryAttempts=mapping.max_retry_attempts,
            BisectBatchOnFunctionError=mapping.bisect_on_error,
            DestinationConfig={
                "OnFailure": {"Destination": {"Fn::GetAtt": [r.STREAM_FAILURES_QUEUE.logical_id, "Arn"]}}
            },
        )
    else:
        props["EventSourceArn"] = {"Fn::GetAtt": [source.logical_id, "Arn"]}
        if mapping.max_concurrency:
            props["ScalingConfig"] = {"MaximumConcurrency": mapping.max_concurrency}
    if mapping.filter_patterns:
        props["FilterCriteria"] = {"Filters": [{"Pattern": p} for p in mapping.filter_patterns]}
    return {"Type": "AWS::Lambda::EventSourceMapping", "Properties": props}


def merge_template(stage: str) -> dict[str, Any]:
    res: dict[str, Any] = {}
    for table in r.TABLES:
        res[table.logical_id] = table_resource(table, stage)
    for queue in r.QUEUES:
        res.update(queue_resources(queue, stage))
    res.update(ops_resources(stage))
    res[r.DATA_BUCKET.logical_id] = bucket_resource(stage)
    for mapping in r.MAPPINGS:
        res[f"{logical_function_id(mapping.function)}{mapping.source}Mapping"] = mapping_resource(mapping)
    env = function_environment()
    public_url = public_url_environment(stage)
    for name in function_names(stage):
        variables = dict(env) if name == "api_handler" else {**env, **public_url}
        res[logical_function_id(name)] = {"Properties": {"Environment": {"Variables": variables}}}
    return {"Resources": res}


def public_url_environment(stage: str) -> dict[str, Any]:
    """NEWBOOKS_PUBLIC_URL for the background functions (notification links, Slack replies) when
    the stage does not set it: the stage's own API, as Chalice's EndpointURL output spells it.
    The API handler is left out (its API refers to it: a cycle); it links to the request's host
    (chalicelib.pages.service.pages). The dev stage runs locally, where the stack sets its port."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    configured = config["stages"].get(stage, {}).get("environment_variables", {})
    if stage == "dev" or "NEWBOOKS_PUBLIC_URL" in configured or not function_names(stage):
        return {}
    return {"NEWBOOKS_PUBLIC_URL": {"Fn::Sub": "https://${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}/api"}}


def function_environment() -> dict[str, Any]:
    """The resource names every function reads (environment variable -> Ref)."""
    env: dict[str, Any] = {r.DATA_BUCKET.env: {"Ref": r.DATA_BUCKET.logical_id}}
    for table in r.TABLES:
        env[table.env] = {"Ref": table.logical_id}
    for queue in r.QUEUES:
        env[queue.env] = {"Ref": queue.logical_id}
        if queue.has_dlq:
            env[queue.env.replace("_QUEUE_URL", "_DLQ_URL")] = {"Ref": f"{queue.logical_id}Dlq"}
    return env


# --- alarms and the ops topic (definitions: infra/alarms.py; who hears them: infra/ops.yaml) ----

OPS_TOPIC = "OpsTopic"


def ops_config(stage: str, path: Path = ROOT / "infra" / "ops.yaml") -> dict[str, Any]:
    from chalicelib.configfile import load_mapping

    raw = load_mapping(path).get(stage) or {}
    emails = raw.get("email") or []
    if not isinstance(emails, list) or not all(isinstance(e, str) and "@" in e for e in emails):
        raise ValueError(f"{path}: {stage}.email must be a list of addresses")
    return {"email": emails, "notifier": bool(raw.get("notifier", True))}


def alarm_resource(alarm: Any, stage: str) -> dict[str, Any]:
    if alarm.subject_kind == "queue":
        dimension = {"Name": "QueueName", "Value": {"Fn::GetAtt": [alarm.subject_ref, "QueueName"]}}
    else:
        dimension = {"Name": "FunctionName", "Value": {"Ref": alarm.subject_ref}}
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmName": alarm.name(stage),
            "AlarmDescription": alarm.description,
            "Namespace": alarm.namespace,
            "MetricName": alarm.metric,
            "Dimensions": [dimension],
            "Statistic": alarm.statistic,
            "Period": alarm.period_s,
            "EvaluationPeriods": alarm.evaluation_periods,
            "Threshold": alarm.threshold,
            "ComparisonOperator": alarm.comparison,
            "TreatMissingData": "notBreaching",
            "AlarmActions": [{"Ref": OPS_TOPIC}],
            "OKActions": [{"Ref": OPS_TOPIC}],
        },
    }


def ops_resources(stage: str, config: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ops topic, its subscriptions (email from infra/ops.yaml; our notifier through the
    ops-alarms queue) and every alarm with the topic as its action, for ALARM and OK."""
    from infra.alarms import alarm_definitions

    config = config or ops_config(stage)
    res: dict[str, Any] = {
        OPS_TOPIC: {"Type": "AWS::SNS::Topic", "Properties": {
            "TopicName": r.physical_name(stage, "ops"), "DisplayName": f"newbooks {stage} ops"}},
    }
    for position, address in enumerate(config["email"]):
        res[f"OpsEmailSubscription{position}"] = {"Type": "AWS::SNS::Subscription", "Properties": {
            "TopicArn": {"Ref": OPS_TOPIC}, "Protocol": "email", "Endpoint": address}}
    queue = r.OPS_ALARMS_QUEUE.logical_id
    if config["notifier"]:
        res["OpsNotifierSubscription"] = {"Type": "AWS::SNS::Subscription", "Properties": {
            "TopicArn": {"Ref": OPS_TOPIC}, "Protocol": "sqs", "Endpoint": {"Fn::GetAtt": [queue, "Arn"]},
            "RawMessageDelivery": True}}
        # SNS may send to the queue only for this topic (SNS Developer Guide, "Subscribing an
        # Amazon SQS queue to an Amazon SNS topic", read 2026-12-03).
        res["OpsAlarmsQueuePolicy"] = {"Type": "AWS::SQS::QueuePolicy", "Properties": {
            "Queues": [{"Ref": queue}],
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
                "Resource": {"Fn::GetAtt": [queue, "Arn"]},
                "Condition": {"ArnEquals": {"aws:SourceArn": {"Ref": OPS_TOPIC}}}}]}}}
    for alarm in alarm_definitions(stage):
        res[alarm.logical_id] = alarm_resource(alarm, stage)
    return res


def strip_zip(path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst:
        for info in src.infolist():
            if info.filename.startswith(STRIP_FROM_ZIP):
                continue
            dst.writestr(info, src.read(info.filename))
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stage", default="prod")
    parser.add_argument("--out", default="build")
    args = parser.parse_args(argv)
    out = (ROOT / args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    merge_path = out / "merge-template.json"
    merge_path.write_text(json.dumps(merge_template(args.stage), indent=2))
    pkg_dir = out / "package"
    shutil.rmtree(pkg_dir, ignore_errors=True)
    env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1")}
    chalice = str(Path(sys.executable).with_name("chalice"))
    # One `chalice package` at a time per project: it caches the dependency zip in
    # .chalice/deployments and rewrites it through a fixed `<zip>.tmp.zip`, so two builds at once
    # (parallel e2e stacks, `make run` beside the tests) would write the same files.
    PACKAGE_LOCK.parent.mkdir(parents=True, exist_ok=True)
    with open(PACKAGE_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        subprocess.run(
            [chalice, "package", "--stage", args.stage, "--merge-template", str(merge_path), str(pkg_dir)],
            cwd=ROOT,
            env=env,
            check=True,
        )
    strip_zip(pkg_dir / "deployment.zip")
    shutil.copy(pkg_dir / "deployment.zip", out / "deployment.zip")
    template = json.loads((pkg_dir / "sam.json").read_text())
    (out / "sam.json").write_text(json.dumps(template, indent=2))
    size = (out / "deployment.zip").stat().st_size
    print(json.dumps({"deployment_zip_bytes": size, "template": str(out / "sam.json")}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
