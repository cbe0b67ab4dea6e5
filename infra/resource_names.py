"""The names a stage's resources really get when its template is deployed, as ARNs, for
checking IAM policy resources against them (infra/iam_check.py).

Source of truth is the merge template (`infra.build_template.merge_template`, rendered from
chalicelib/resources.py): table, queue, bucket and topic names as the template writes them
(`Fn::Sub` resolved with a sample account and region), plus what Chalice and CloudFormation
name: functions `<stack>-<LogicalId>-<suffix>` with the stack named `newbooks-<stage>` (README,
Deploy), their log groups `/aws/lambda/<function>`, and SSM parameters under the stage's
`NEWBOOKS_SSM_PREFIX` (.chalice/config.json) for every known secret.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT, REGION = "123456789012", "us-east-1"  # any account/region: policies must not depend on them


@dataclass
class StageNames:
    stage: str
    arns: list[str] = field(default_factory=list)

    def matches(self, pattern: str) -> str | None:
        """The first ARN of this stage the IAM resource pattern matches, or None."""
        regex = _pattern(pattern)
        return next((arn for arn in self.arns if regex.fullmatch(arn)), None)

    def hint(self, service: str) -> str:
        names = sorted({_short(a) for a in self.arns if a.split(":", 3)[2] == service})
        return f"its {service} names: {', '.join(names[:8])}{' ...' if len(names) > 8 else ''}" if names else f"no {service} resources"


def _pattern(iam: str) -> re.Pattern[str]:
    """IAM resource wildcards: `*` any run of characters (also ':' and '/'), `?` one character."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in iam))


def _short(arn: str) -> str:
    tail = arn.split(":", 5)[5]
    return tail.split("/index/")[0].split("/stream/")[0]


def _literal(value: Any) -> str:
    """A template name: a plain string, or an Fn::Sub string with the pseudo parameters filled."""
    if isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str):
        value = value["Fn::Sub"].replace("${AWS::AccountId}", ACCOUNT).replace("${AWS::Region}", REGION)
    if not isinstance(value, str) or "${" in value:
        raise ValueError(f"template name {value!r} is not a literal the IAM check can resolve")
    return value


def _key_prefixes() -> list[str]:
    """S3 key prefixes declared for the data bucket ("raw/<sha256> ..." -> "raw/")."""
    from chalicelib import resources as r

    return [line.split()[0].split("<", 1)[0] for line in r.DATA_BUCKET.prefixes]


def stage_names(stage: str, root: Path = ROOT) -> StageNames:
    from chalicelib.secrets import KNOWN
    from infra.build_template import logical_function_id, merge_template

    config = json.loads((root / ".chalice" / "config.json").read_text())
    body = config["stages"][stage]
    arns: list[str] = []
    for res in merge_template(stage)["Resources"].values():
        kind, props = res.get("Type"), res.get("Properties", {})
        if kind == "AWS::DynamoDB::Table":
            base = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{_literal(props['TableName'])}"
            arns.append(base)
            arns += [f"{base}/index/{i['IndexName']}" for i in props.get("GlobalSecondaryIndexes", [])]
            if props.get("StreamSpecification"):
                arns.append(f"{base}/stream/2026-12-03T00:00:00.000")
        elif kind == "AWS::SQS::Queue":
            arns.append(f"arn:aws:sqs:{REGION}:{ACCOUNT}:{_literal(props['QueueName'])}")
        elif kind == "AWS::S3::Bucket":
            bucket = _literal(props["BucketName"])
            arns.append(f"arn:aws:s3:::{bucket}")
            arns += [f"arn:aws:s3:::{bucket}/{prefix}0" for prefix in _key_prefixes()]
        elif kind == "AWS::SNS::Topic":
            arns.append(f"arn:aws:sns:{REGION}:{ACCOUNT}:{_literal(props['TopicName'])}")
    stack = f"{config.get('app_name', 'newbooks')}-{stage}"
    for function in body.get("lambda_functions", {}):
        name = f"{stack}-{logical_function_id(function)}-A1B2C3D4E5F6"
        arns.append(f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{name}")
        arns.append(f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{name}:log-stream:0")
    env = {**config.get("environment_variables", {}), **body.get("environment_variables", {})}
    prefix = env.get("NEWBOOKS_SSM_PREFIX", f"/newbooks/{stage}/")
    arns += [f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{prefix}{secret}" for secret in KNOWN]
    return StageNames(stage, arns)
