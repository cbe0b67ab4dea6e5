"""Deploy what `make package` built (build/<stage>/sam.json + deployment.zip) into moto, and read
the deployed stack back: the local stack's only source of resources, functions and wiring.

Steps, each what an operator's `aws cloudformation deploy` would do, minus what moto lacks:

1. expand the SAM transform offline with aws-sam-translator (the library cfn-lint uses), code
   from an S3 upload of the same deployment.zip;
2. IAM roles: created through the IAM API with the template's names, trust and inline
   policies, because roles created by moto's CloudFormation break moto's IAM evaluation
   (`KeyError: 'policy_document'`, moto 5.2.5); their ARNs replace `Fn::GetAtt Role.Arn`;
3. gaps of moto's CloudFormation (README "Deployed locally"): CloudWatch alarms are created
   through PutMetricAlarm from the same properties; tables' TimeToLiveSpecification (ignored by
   moto's CloudFormation) is applied through UpdateTimeToLive; the API Gateway REST API (a swagger 2.0
   `Body`: moto's CloudFormation ignores it and its ImportRestApi takes OpenAPI 3 only), its
   deployment, stage and invoke permission are skipped: `chalice local` serves the same app.py
   routes, under the API function's role;
4. everything else (tables, queues and redrives, bucket, functions, schedules, event source
   mappings, their permissions) through CloudFormation CreateStack.

`read_stack` then lists what the runner needs from the deployed stack through moto's Lambda,
EventBridge, SQS and CloudFormation APIs.
"""
from __future__ import annotations

import copy
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REGION = "us-east-1"
# moto's CloudFormation cannot create these from a template (checked with moto 5.2.5); roles and
# alarms are created below from the same template values, these are skipped (nothing local uses them;
# moto's SNS delivers to an SQS subscriber without checking the queue policy).
SKIPPED = ("AWS::ApiGateway::RestApi", "AWS::ApiGateway::Deployment", "AWS::ApiGateway::Stage",
           "AWS::SQS::QueuePolicy")


def stack_name(stage: str) -> str:
    return f"newbooks-{stage}"


def expand(sam: dict[str, Any], code_uri: str, region: str = REGION) -> dict[str, Any]:
    """The SAM template as plain CloudFormation, as the service-side transform would produce it.
    `code_uri` (s3://bucket/key) replaces Chalice's local `./deployment.zip`, as
    `aws cloudformation package` does."""
    import boto3
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    sam = copy.deepcopy(sam)
    for resource in sam["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = code_uri
    translator = Translator({}, Parser(), boto_session=boto3.session.Session(region_name=region))
    return translator.translate(sam, parameter_values={})


@dataclass
class Split:
    """The expanded template cut into what CloudFormation deploys and what is created apart."""

    stack: dict[str, Any]
    roles: dict[str, dict[str, Any]] = field(default_factory=dict)
    alarms: dict[str, dict[str, Any]] = field(default_factory=dict)
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


def split(template: dict[str, Any]) -> Split:
    template = copy.deepcopy(template)
    out = Split(stack=template)
    resources = template["Resources"]
    for logical_id, resource in list(resources.items()):
        kind = resource["Type"]
        if kind == "AWS::IAM::Role":
            out.roles[logical_id] = resources.pop(logical_id)
        elif kind == "AWS::CloudWatch::Alarm":
            out.alarms[logical_id] = resources.pop(logical_id)
        elif kind == "AWS::SNS::Subscription":  # moto 5.2.5's CloudFormation: "not supported"
            out.subscriptions[logical_id] = resources.pop(logical_id)
        elif kind in SKIPPED or (kind == "AWS::Lambda::Permission"
                                 and resource["Properties"].get("Principal") == "apigateway.amazonaws.com"):
            out.skipped.append(f"{logical_id} ({kind})")
            resources.pop(logical_id)
    gone = {s.split(" ")[0] for s in out.skipped}
    template["Outputs"] = {k: v for k, v in template.get("Outputs", {}).items() if not _refers_to(v, gone)}
    return out


def _refers_to(value: Any, logical_ids: set[str]) -> bool:
    text = json.dumps(value)
    return any(f'"{i}"' in text or "${" + i in text for i in logical_ids)


def _replace_role_arns(value: Any, arns: dict[str, str]) -> Any:
    if isinstance(value, dict):
        if set(value) == {"Fn::GetAtt"} and value["Fn::GetAtt"][0] in arns:
            return arns[value["Fn::GetAtt"][0]]
        return {k: _replace_role_arns(v, arns) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_role_arns(v, arns) for v in value]
    return value


def role_name(stage: str, logical_id: str) -> str:
    return f"{stack_name(stage)}-{logical_id}"[:64]


def create_roles(iam: Any, stage: str, roles: dict[str, dict[str, Any]]) -> dict[str, str]:
    """The template's roles through the IAM API: same trust policy, same inline policies."""
    arns = {}
    for logical_id, resource in roles.items():
        props = resource["Properties"]
        name = role_name(stage, logical_id)
        arns[logical_id] = iam.create_role(
            RoleName=name, AssumeRolePolicyDocument=json.dumps(props["AssumeRolePolicyDocument"]))["Role"]["Arn"]
        for policy in props.get("Policies", []):
            iam.put_role_policy(RoleName=name, PolicyName=policy["PolicyName"],
                                PolicyDocument=json.dumps(policy["PolicyDocument"]))
        for managed in props.get("ManagedPolicyArns", []):
            iam.attach_role_policy(RoleName=name, PolicyArn=managed)
    return arns


def resolve(value: Any, physical: dict[str, str], attrs: dict[tuple[str, str], str]) -> Any:
    """The intrinsics alarms use (Ref, Fn::GetAtt, Fn::Sub of those) against the deployed stack."""
    if isinstance(value, dict):
        if set(value) == {"Ref"}:
            return physical[value["Ref"]]
        if set(value) == {"Fn::GetAtt"}:
            return attrs[tuple(value["Fn::GetAtt"])]  # type: ignore[index]
        return {k: resolve(v, physical, attrs) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, physical, attrs) for v in value]
    return value


def create_alarms(clients: Any, stage: str, alarms: dict[str, dict[str, Any]], physical: dict[str, str]) -> list[str]:
    """CloudWatch alarms through PutMetricAlarm with the template's properties."""
    attrs = {}
    for logical_id, value in physical.items():  # the one attribute alarms use today: QueueName
        if value.startswith(("https://sqs.", "http")) and "/" in value:
            attrs[(logical_id, "QueueName")] = value.rsplit("/", 1)[1]
    names = []
    cloudwatch = clients("cloudwatch")
    for resource in alarms.values():
        props = resolve(resource["Properties"], physical, attrs)
        cloudwatch.put_metric_alarm(**props)
        names.append(props["AlarmName"])
    return names


@dataclass
class Deployment:
    stack_name: str
    roles: dict[str, str]  # logical id -> role ARN (created through IAM)
    alarms: list[str]
    skipped: list[str]
    seconds: float


def deploy(build_dir: Path, stage: str, clients: Any) -> Deployment:
    """Upload the code, expand, create roles/alarms/API apart, CreateStack the rest; wait."""
    started = time.monotonic()
    sam = json.loads((build_dir / "sam.json").read_text())
    s3 = clients("s3")
    artifacts = f"{stack_name(stage)}-artifacts"
    s3.create_bucket(Bucket=artifacts)
    s3.upload_file(str(build_dir / "deployment.zip"), artifacts, "deployment.zip")
    parts = split(expand(sam, f"s3://{artifacts}/deployment.zip"))
    role_arns = create_roles(clients("iam"), stage, parts.roles)
    body = _replace_role_arns(parts.stack, role_arns)
    cfn = clients("cloudformation")
    name = stack_name(stage)
    create_stack(cfn, name, body, poll_s=0.1)
    physical = physical_ids(cfn, name)
    apply_ttl(clients, body["Resources"])
    alarms = create_alarms(clients, stage, parts.alarms, physical)
    create_subscriptions(clients, parts.subscriptions, physical)
    return Deployment(name, role_arns, alarms, parts.skipped, time.monotonic() - started)


def create_subscriptions(clients: Any, subscriptions: dict[str, dict[str, Any]], physical: dict[str, str]) -> int:
    """SNS subscriptions through Subscribe with the template's properties (the ops topic's email
    addresses and the notifier queue)."""
    sqs, sns = clients("sqs"), clients("sns")
    attrs = {}
    for logical_id, value in physical.items():  # Fn::GetAtt [queue, Arn]
        if value.startswith("http") and "/" in value:
            try:
                attrs[(logical_id, "Arn")] = sqs.get_queue_attributes(
                    QueueUrl=value, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            except Exception:  # not a queue URL
                continue
    for resource in subscriptions.values():
        props = resolve(resource["Properties"], physical, attrs)
        attributes = {"RawMessageDelivery": "true"} if props.get("RawMessageDelivery") else {}
        sns.subscribe(TopicArn=props["TopicArn"], Protocol=props["Protocol"], Endpoint=props["Endpoint"],
                      Attributes=attributes)
    return len(subscriptions)


def create_stack(cfn: Any, name: str, template: dict[str, Any], poll_s: float) -> dict[str, Any]:
    """CreateStack and wait for it; the described stack, or RuntimeError naming why it failed."""
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(template))
    while True:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        if not stack["StackStatus"].endswith("IN_PROGRESS"):
            break
        time.sleep(poll_s)
    if stack["StackStatus"] != "CREATE_COMPLETE":
        raise RuntimeError(f"stack {name}: {stack['StackStatus']} {stack.get('StackStatusReason', '')}")
    return stack


def apply_ttl(clients: Any, resources: dict[str, Any]) -> list[str]:
    """moto's CloudFormation ignores a table's TimeToLiveSpecification (moto 5.2.5): the same
    setting through UpdateTimeToLive."""
    done = []
    for resource in resources.values():
        props = resource.get("Properties", {})
        if resource.get("Type") == "AWS::DynamoDB::Table" and props.get("TimeToLiveSpecification"):
            clients("dynamodb").update_time_to_live(TableName=props["TableName"],
                                                    TimeToLiveSpecification=props["TimeToLiveSpecification"])
            done.append(props["TableName"])
    return done


def detach_moto_invoker() -> int:
    """moto's own event source mapping runs the function in docker on every SQS send and stream
    write (receiving, and so counting towards maxReceiveCount, the very messages our runner
    polls). The runner is the Lambda service here: unhook moto's invoker from the queues and
    tables; the mappings stay listed by the Lambda API. Needs moto in this process (the local
    stack's ThreadedMotoServer)."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.sqs.models import sqs_backends

    count = 0
    for backends, collection in ((sqs_backends, "queues"), (dynamodb_backends, "tables")):
        for regions in backends.values():
            for backend in regions.values():
                for resource in getattr(backend, collection).values():
                    count += len(resource.lambda_event_source_mappings)
                    resource.lambda_event_source_mappings.clear()
    return count


def physical_ids(cfn: Any, name: str) -> dict[str, str]:
    return {r["LogicalResourceId"]: r["PhysicalResourceId"]
            for r in cfn.describe_stack_resources(StackName=name)["StackResources"]
            if r.get("PhysicalResourceId") and "LogicalResourceId" in r}


# --- the deployed stack, read back ----------------------------------------------------------------


@dataclass(frozen=True)
class Function:
    logical_id: str
    name: str  # deployed function name
    handler: str  # "app.crawl_worker"
    role_arn: str
    environment: dict[str, str]
    timeout_s: int
    reserved_concurrency: int | None

    @property
    def entry_point(self) -> str:
        """The attribute of app.py the handler names."""
        return self.handler.split(".", 1)[1]


@dataclass(frozen=True)
class Schedule:
    rule: str
    expression: str
    function: str  # logical id


@dataclass(frozen=True)
class Mapping:
    function: str  # logical id
    source_arn: str
    batch_size: int
    filters: tuple[str, ...]
    bisect_on_error: bool
    max_retry_attempts: int | None
    on_failure_arn: str | None
    report_batch_item_failures: bool
    max_concurrency: int = 1  # ScalingConfig.MaximumConcurrency (SQS sources): batches at once


@dataclass(frozen=True)
class Queue:
    arn: str
    url: str
    visibility_timeout_s: int
    redrive: dict[str, Any] | None  # {"deadLetterTargetArn": ..., "maxReceiveCount": n}


@dataclass
class StackView:
    name: str
    physical: dict[str, str]  # logical id -> physical id
    types: dict[str, str]  # logical id -> resource type
    functions: dict[str, Function]
    schedules: list[Schedule]
    mappings: list[Mapping]
    queues: dict[str, Queue]  # by ARN

    def of_type(self, kind: str) -> dict[str, str]:
        return {k: self.physical[k] for k, t in self.types.items() if t == kind and k in self.physical}

    def table_names(self) -> list[str]:
        return list(self.of_type("AWS::DynamoDB::Table").values())

    def bucket_names(self) -> list[str]:
        return list(self.of_type("AWS::S3::Bucket").values())

    def function_by_arn(self, arn: str) -> Function:
        name = arn.split(":function:", 1)[1].split(":")[0]
        return next(f for f in self.functions.values() if f.name == name)

    def queue_by_arn(self, arn: str) -> Queue:
        return self.queues[arn]


def read_stack(name: str, clients: Any) -> StackView:
    cfn, lam, events, sqs = clients("cloudformation"), clients("lambda"), clients("events"), clients("sqs")
    # moto lists resource types its CloudFormation does not support without ids: skip those
    described = [r for r in cfn.describe_stack_resources(StackName=name)["StackResources"] if "LogicalResourceId" in r]
    types = {r["LogicalResourceId"]: r["ResourceType"] for r in described}
    physical = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in described if r.get("PhysicalResourceId")}
    functions: dict[str, Function] = {}
    for logical_id, function_name in physical.items():
        if types[logical_id] != "AWS::Lambda::Function":
            continue
        got = lam.get_function(FunctionName=function_name)
        config = got["Configuration"]
        functions[logical_id] = Function(
            logical_id, function_name, config["Handler"], config["Role"],
            dict(config.get("Environment", {}).get("Variables", {})), int(config.get("Timeout", 3)),
            got.get("Concurrency", {}).get("ReservedConcurrentExecutions"))
    by_name = {f.name: f.logical_id for f in functions.values()}
    schedules = []
    for logical_id, rule in physical.items():
        if types[logical_id] != "AWS::Events::Rule":
            continue
        expression = events.describe_rule(Name=rule).get("ScheduleExpression")
        for target in events.list_targets_by_rule(Rule=rule)["Targets"]:
            function_name = target["Arn"].split(":function:", 1)[1].split(":")[0]
            if expression and function_name in by_name:
                schedules.append(Schedule(rule, expression, by_name[function_name]))
    mappings = []
    for function in functions.values():
        for esm in lam.list_event_source_mappings(FunctionName=function.name)["EventSourceMappings"]:
            esm = lam.get_event_source_mapping(UUID=esm["UUID"])
            if esm.get("State", "Enabled") != "Enabled":
                continue
            mappings.append(Mapping(
                function.logical_id, esm["EventSourceArn"], int(esm.get("BatchSize") or 10),
                tuple(f["Pattern"] for f in (esm.get("FilterCriteria") or {}).get("Filters", [])),
                bool(esm.get("BisectBatchOnFunctionError")), esm.get("MaximumRetryAttempts"),
                ((esm.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination"),
                "ReportBatchItemFailures" in (esm.get("FunctionResponseTypes") or []),
                int((esm.get("ScalingConfig") or {}).get("MaximumConcurrency") or 1)))
    queues = {}
    for logical_id, url in physical.items():
        if types[logical_id] != "AWS::SQS::Queue":
            continue
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        redrive = json.loads(attributes["RedrivePolicy"]) if attributes.get("RedrivePolicy") else None
        queues[attributes["QueueArn"]] = Queue(attributes["QueueArn"], url, int(attributes.get("VisibilityTimeout", 30)),
                                               redrive)
    return StackView(name, physical, types, functions, schedules, mappings, queues)


def role_policies(iam: Any, role_arn: str) -> list[dict[str, Any]]:
    """The role's inline and attached policy documents, from IAM (what the deploy created)."""
    name = role_arn.rsplit("/", 1)[1]
    documents = []
    for policy_name in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=name, PolicyName=policy_name)["PolicyDocument"]
        documents.append(json.loads(document) if isinstance(document, str) else document)
    for attached in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
        policy = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]
        version = iam.get_policy_version(PolicyArn=attached["PolicyArn"], VersionId=policy["DefaultVersionId"])
        document = version["PolicyVersion"]["Document"]
        documents.append(json.loads(document) if isinstance(document, str) else document)
    return documents


# --- data resources only, for in-process moto (tests, benchmarks) --------------------------------

DATA_TYPES = ("AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::S3::Bucket")


def deploy_resources(stage: str, clients: Any = None) -> dict[str, str]:
    """The merge template's tables, queues and bucket through CloudFormation, where no function
    runs (`mock_aws` in tests and benchmarks; no `chalice package` needed). Returns the
    environment the template gives every function (variable -> physical name or URL)."""
    from infra.build_template import function_environment, merge_template

    if clients is None:
        import boto3

        clients = boto3.client
    template = merge_template(stage)
    resources = {k: v for k, v in template["Resources"].items() if v.get("Type") in DATA_TYPES}
    env = function_environment()
    outputs = {name.replace("_", ""): {"Value": value} for name, value in env.items()}
    cfn = clients("cloudformation")
    name = f"{stack_name(stage)}-data"
    stack = create_stack(cfn, name, {"Resources": resources, "Outputs": outputs}, poll_s=0.05)
    apply_ttl(clients, resources)
    by_key = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    return {variable: by_key[variable.replace("_", "")] for variable in env}
