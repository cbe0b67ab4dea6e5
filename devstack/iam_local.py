"""IAM enforced locally: every botocore request of this process is authorised against the policies
of the role whose credentials signed it, before it leaves the process.

Why not moto's own enforcement: moto 5.2.5 authorises most services against the resource "*"
(only S3 buckets, SQS queues, IAM and STS name a resource), so a policy naming
`arn:aws:dynamodb:*:*:table/newbooks-*-state` would deny every DynamoDB call, and a wrong bucket
pattern would go unnoticed on objects. Here each request becomes (action, resource ARN) pairs the
way AWS documents them (Service Authorization Reference, "Actions, resources, and condition keys"
for DynamoDB, S3, SQS, SSM, SNS; read 2026-12-03), evaluated with moto's policy evaluator
(`moto.iam.access_control.IAMPolicy`: Allow/Deny, Action/NotAction, wildcards, conditions on the
keys passed here). An explicit Deny wins; no Allow is an implicit deny.

Credentials identify the caller: `register()` maps an access key (from sts:AssumeRole of a
function's role) to that role's policies. The local stack's own operator key (deploying,
snapshotting, the TTL reaper standing in for DynamoDB) is registered as `SERVICE`; any other key
is denied. A denial raises botocore's ClientError with AWS's AccessDenied wording and is printed
with the function, the action and the resource.
"""
from __future__ import annotations

import json
import sys
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlparse

SERVICE = "service"  # policies value for the stack's own operator credentials: not evaluated
_lock = threading.Lock()
_identities: dict[str, Identity] = {}
_installed = False


@dataclass(frozen=True)
class Identity:
    function: str  # deployed function name (the role session name)
    role_arn: str
    account: str
    policies: tuple[str, ...]  # JSON policy documents

    @classmethod
    def from_json(cls, raw: str) -> Identity:
        spec = json.loads(raw)
        return cls(spec["function"], spec["role_arn"], spec["account"], tuple(spec["policies"]))

    @property
    def principal(self) -> str:
        role = self.role_arn.rsplit("/", 1)[1]
        return f"arn:aws:sts::{self.account}:assumed-role/{role}/{self.function}"


def register(access_key: str, identity: Identity | str) -> None:
    with _lock:
        _identities[access_key] = identity  # type: ignore[assignment]


# --- request -> (action, resource) ----------------------------------------------------------------

# IAM service prefixes that differ from botocore's service names.
_PREFIX = {"dynamodbstreams": "dynamodb", "monitoring": "cloudwatch"}
# Operations whose IAM action is not "<prefix>:<OperationName>" (one source: infra/iam_check.py).
_S3_BUCKET_OPERATIONS = {"ListObjects", "ListObjectsV2", "ListObjectVersions", "HeadBucket", "CreateBucket",
                         "DeleteBucket", "ListMultipartUploads"}


def _actions(prefix: str, operation: str) -> tuple[str, ...]:
    from infra.iam_check import iam_actions

    if (prefix, operation) == ("s3", "HeadObject"):
        return ("s3:GetObject",)  # s3:ListBucket only turns a missing key's 403 into 404
    return iam_actions(prefix, operation)


def _queue_arn(url: str, region: str, account: str) -> str:
    parts = urlparse(url).path.strip("/").split("/")
    return f"arn:aws:sqs:{region}:{parts[-2] if len(parts) >= 2 else account}:{parts[-1]}"


def _ssm_arn(name: str, region: str, account: str) -> str:
    return f"arn:aws:ssm:{region}:{account}:parameter/{name.lstrip('/')}"


def requested(service: str, operation: str, params: dict[str, Any], region: str, account: str) -> list[tuple[str, str]]:
    """The (action, resource ARN) pairs AWS authorises for one request."""
    prefix = _PREFIX.get(service, service)
    table = lambda name: f"arn:aws:dynamodb:{region}:{account}:table/{name}"  # noqa: E731
    if prefix == "dynamodb":
        if operation in ("BatchGetItem", "BatchWriteItem"):
            return [(f"dynamodb:{operation}", table(name)) for name in params.get("RequestItems", {})]
        if operation in ("TransactWriteItems", "TransactGetItems"):
            kinds = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                     "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}
            return [(f"dynamodb:{kinds[kind]}", table(body["TableName"]))
                    for item in params.get("TransactItems", []) for kind, body in item.items()]
        if "StreamArn" in params:
            return [(f"dynamodb:{operation}", params["StreamArn"])]
        if "ShardIterator" in params:  # moto's iterators start with their stream's ARN
            return [(f"dynamodb:{operation}", params["ShardIterator"].split("|", 1)[0])]
        if "TableName" in params:
            resource = table(params["TableName"])
            if params.get("IndexName"):
                resource += f"/index/{params['IndexName']}"
            elif operation == "ListStreams":
                resource += "/stream/*"
            return [(a, resource) for a in _actions(prefix, operation)]
        return [(a, "*") for a in _actions(prefix, operation)]
    if prefix == "s3":
        bucket = params.get("Bucket")
        if not bucket:
            return [(a, "*") for a in _actions(prefix, operation)]
        if operation == "CopyObject":
            source = params["CopySource"]
            source = source if isinstance(source, str) else f"{source['Bucket']}/{source['Key']}"
            return [("s3:GetObject", f"arn:aws:s3:::{unquote(source.lstrip('/').split('?', 1)[0])}"),
                    ("s3:PutObject", f"arn:aws:s3:::{bucket}/{params['Key']}")]
        if operation == "DeleteObjects":
            return [("s3:DeleteObject", f"arn:aws:s3:::{bucket}/{o['Key']}") for o in params["Delete"]["Objects"]]
        if "Key" in params and operation not in _S3_BUCKET_OPERATIONS:
            return [(a, f"arn:aws:s3:::{bucket}/{params['Key']}") for a in _actions(prefix, operation)]
        return [(a, f"arn:aws:s3:::{bucket}") for a in _actions(prefix, operation)]
    if prefix == "sqs":
        if "QueueUrl" in params:
            resource = _queue_arn(params["QueueUrl"], region, account)
        elif "QueueName" in params:
            resource = f"arn:aws:sqs:{region}:{params.get('QueueOwnerAWSAccountId', account)}:{params['QueueName']}"
        else:
            resource = "*"
        return [(a, resource) for a in _actions(prefix, operation)]
    if prefix == "ssm":
        names = params.get("Names") or [params.get("Name") or params.get("Path")]
        return [(a, _ssm_arn(n, region, account) if n else "*") for n in names for a in _actions(prefix, operation)]
    if prefix == "sns":
        arn = params.get("TopicArn") or params.get("TargetArn") or "*"
        return [(a, arn) for a in _actions(prefix, operation)]
    if prefix == "lambda" and "FunctionName" in params:
        name = params["FunctionName"]
        arn = name if name.startswith("arn:") else f"arn:aws:lambda:{region}:{account}:function:{name}"
        return [(a, arn) for a in _actions(prefix, operation)]
    return [(a, "*") for a in _actions(prefix, operation)]


# --- evaluation -----------------------------------------------------------------------------------


def decide(identity: Identity, action: str, resource: str, conditions: dict[str, str]) -> bool:
    from moto.iam.access_control import IAMPolicy, PermissionResult

    allowed = False
    for document in identity.policies:
        result = IAMPolicy(document).is_action_permitted(action, resource, incoming_condition_values=conditions)
        if result == PermissionResult.DENIED:
            return False
        allowed = allowed or result == PermissionResult.PERMITTED
    return allowed


def _denied(operation: str, service: str, message: str) -> Exception:
    from botocore.exceptions import ClientError

    code = "AccessDeniedException" if service in ("dynamodb", "dynamodbstreams", "ssm", "sns", "lambda") else "AccessDenied"
    return ClientError({"Error": {"Code": code, "Message": message},
                        "ResponseMetadata": {"HTTPStatusCode": 403}}, operation)


def _before_parameter_build(params: dict[str, Any], model: Any, context: dict[str, Any], **_kw: Any) -> None:
    context["newbooks_iam_params"] = params


def _before_call(model: Any, context: dict[str, Any], request_signer: Any = None, **_kw: Any) -> None:
    service = model.service_model.service_name
    operation = model.name
    if (service, operation) == ("sts", "GetCallerIdentity"):
        return  # needs no permission on AWS either
    credentials = getattr(request_signer, "_credentials", None)
    access_key = credentials.get_frozen_credentials().access_key if credentials is not None else None
    identity = _identities.get(access_key or "")
    if identity == SERVICE:
        return
    region = context.get("client_region") or "us-east-1"
    if not isinstance(identity, Identity):
        message = f"credentials {access_key!r} belong to no function role of the local stack: {service}:{operation} denied"
        print(f"IAM DENIED function=? action={service}:{operation} resource=? ({message})", file=sys.stderr, flush=True)
        raise _denied(operation, service, message)
    params = context.get("newbooks_iam_params") or {}
    conditions = {"aws:RequestedRegion": region, "aws:PrincipalArn": identity.role_arn}
    for action, resource in requested(service, operation, params, region, identity.account):
        if not decide(identity, action, resource, conditions):
            message = (f"User: {identity.principal} is not authorized to perform: {action} on resource: {resource} "
                       f"because no identity-based policy allows the {action} action")
            print(f"IAM DENIED function={identity.function} action={action} resource={resource}",
                  file=sys.stderr, flush=True)
            raise _denied(operation, service, message)


def install() -> None:
    """Authorise every botocore client created in this process from now on (idempotent)."""
    global _installed
    import botocore.handlers

    with _lock:
        if _installed:
            return
        botocore.handlers.BUILTIN_HANDLERS.extend([
            ("before-parameter-build", _before_parameter_build),
            ("before-call", _before_call),
        ])
        _installed = True


def uninstall() -> None:
    """Undo install() for clients created from now on, and forget every identity (tests)."""
    global _installed
    import botocore.handlers

    with _lock:
        for spec in (("before-parameter-build", _before_parameter_build), ("before-call", _before_call)):
            while spec in botocore.handlers.BUILTIN_HANDLERS:
                botocore.handlers.BUILTIN_HANDLERS.remove(spec)
        _identities.clear()
        _installed = False


def identity_from_env(environ: dict[str, str]) -> None:
    """In a function's process: register the credentials it was started with (see runner)."""
    raw = environ.get("NEWBOOKS_LOCAL_IAM")
    if raw:
        register(environ["AWS_ACCESS_KEY_ID"], Identity.from_json(raw))
        install()
