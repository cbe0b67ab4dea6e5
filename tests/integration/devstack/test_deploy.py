"""The packaged dev template deploys into moto through CloudFormation (devstack.deploy), and what the
runner reads back from the deployed stack is what the declarations and policy files say: functions
with their roles and environment, schedules, event source mappings with their knobs, queue
redrives, TTL, alarms."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from chalicelib import resources as r
from devstack import deploy

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("build")
    subprocess.run([sys.executable, "-m", "infra.build_template", "--stage", "dev", "--out", str(out)], cwd=ROOT,
                   check=True, stdout=subprocess.DEVNULL)
    return out


@pytest.fixture
def deployed(build_dir, monkeypatch):
    from moto import mock_aws

    with mock_aws():
        deployment = deploy.deploy(build_dir, "dev", boto3.client)
        yield deployment, deploy.read_stack(deployment.stack_name, boto3.client)


def test_stack_as_deployed_matches_the_declarations(deployed):
    deployment, view = deployed
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]["dev"]["lambda_functions"]
    handlers = {f.entry_point: f for f in view.functions.values()}
    assert set(handlers) == (set(config) - {"api_handler"}) | {"app"}  # the API function's handler is app.app
    for name, settings in config.items():
        function = handlers["app" if name == "api_handler" else name]
        assert function.timeout_s == settings["lambda_timeout"]
        assert function.reserved_concurrency == settings["reserved_concurrency"]
        assert function.environment["CRAWL_QUEUE_URL"].endswith("/newbooks-dev-crawl")
        assert function.environment[r.DATA_BUCKET.env].startswith("newbooks-dev-data-")
        assert function.environment[r.RELEASES.env] == "newbooks-dev-releases"
        # the role is the one created through IAM with the shipped policy file, unchanged
        policy = json.loads((ROOT / ".chalice" / settings["iam_policy_file"]).read_text())
        assert deploy.role_policies(boto3.client("iam"), function.role_arn) == [policy]

    assert sorted((s.expression, view.functions[s.function].entry_point) for s in view.schedules) == [
        ("rate(1 hour)", "crawl_dispatch"), ("rate(1 minute)", "ping"), ("rate(5 minutes)", "digest_flush")]

    by_function = {view.functions[m.function].entry_point: m for m in view.mappings}
    assert set(by_function) == {m.function for m in r.MAPPINGS}
    for declared in r.MAPPINGS:
        mapping = by_function[declared.function]
        assert mapping.batch_size == declared.batch_size and mapping.report_batch_item_failures
        assert mapping.filters == declared.filter_patterns
        source = r.by_logical_id(declared.source)
        if isinstance(source, r.Table):
            assert f":table/newbooks-dev-{source.short}/stream/" in mapping.source_arn
            assert mapping.max_retry_attempts == declared.max_retry_attempts and mapping.bisect_on_error
            assert mapping.on_failure_arn.endswith(":newbooks-dev-stream-failures")
        else:
            queue = view.queue_by_arn(mapping.source_arn)
            assert queue.redrive["maxReceiveCount"] == source.max_receive_count
            assert queue.redrive["deadLetterTargetArn"].endswith(f":newbooks-dev-{source.dlq_short}")
            assert queue.visibility_timeout_s == source.visibility_timeout_s

    ddb = boto3.client("dynamodb")
    for table in r.TABLES:
        ttl = ddb.describe_time_to_live(TableName=f"newbooks-dev-{table.short}")["TimeToLiveDescription"]
        assert (ttl.get("AttributeName") if ttl["TimeToLiveStatus"] == "ENABLED" else None) == table.ttl_attribute
    alarms = {a["AlarmName"] for a in boto3.client("cloudwatch").describe_alarms()["MetricAlarms"]}
    assert alarms == set(deployment.alarms) and "newbooks-dev-crawl-dlq-not-empty" in alarms
    assert any("AWS::ApiGateway::RestApi" in skipped for skipped in deployment.skipped)


def test_moto_never_consumes_what_the_runner_polls(deployed):
    """After detaching moto's docker invoker a message stays in its queue, unreceived."""
    _, view = deployed
    assert deploy.detach_moto_invoker() > 0
    queue = view.queue_by_arn(next(m.source_arn for m in view.mappings if m.source_arn.startswith("arn:aws:sqs")))
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=queue.url, MessageBody="{}")
    got = sqs.receive_message(QueueUrl=queue.url, AttributeNames=["ApproximateReceiveCount"])["Messages"]
    assert got[0]["Attributes"]["ApproximateReceiveCount"] == "1"
