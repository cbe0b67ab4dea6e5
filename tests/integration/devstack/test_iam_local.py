"""IAM enforced on each botocore request (devstack.iam_local) against moto: a function's assumed-role
credentials may do what its policy file allows and nothing else, the denial names the function, the
action and the resource, and the bucket-name mismatch of issue 10 is caught on the object ARN."""
from __future__ import annotations

import json
import os
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from chalicelib import resources as r
from devstack import iam_local

ROOT = Path(__file__).resolve().parents[3]
FUNCTION = "newbooks-test-CrawlWorker-ABC123"


def _policy(name: str) -> dict:
    """The shipped policy source rendered for this test's stage (infra/render_policies.py)."""
    from infra.render_policies import render

    return json.loads(render((ROOT / ".chalice" / "policies" / f"{name}.json").read_text(), "test"))


@pytest.fixture
def as_function(aws):
    """A boto3 session signing with the crawl worker role's assumed credentials, IAM enforced;
    `policy` replaces the role's policy (a copy of the shipped file)."""
    iam, sts = boto3.client("iam"), boto3.client("sts")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                     "Action": "sts:AssumeRole"}]}
    made = []

    def session(policy: dict) -> boto3.session.Session:
        role_name = f"crawl-worker-{len(made)}"
        arn = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        iam.put_role_policy(RoleName=role_name, PolicyName="p", PolicyDocument=json.dumps(policy))
        creds = sts.assume_role(RoleArn=arn, RoleSessionName=FUNCTION)["Credentials"]
        iam_local.register(creds["AccessKeyId"], iam_local.Identity(FUNCTION, arn, arn.split(":")[4],
                                                                    (json.dumps(policy),)))
        iam_local.register(os.environ["AWS_ACCESS_KEY_ID"], iam_local.SERVICE)  # the test's own calls
        iam_local.install()
        made.append(role_name)
        return boto3.session.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                                     aws_session_token=creds["SessionToken"], region_name="us-east-1")

    yield session
    iam_local.uninstall()


def _denial(exc: pytest.ExceptionInfo) -> str:
    return exc.value.response["Error"]["Code"] + ": " + exc.value.response["Error"]["Message"]


def test_shipped_crawl_worker_policy_allows_its_work_and_nothing_else(aws, as_function):
    session = as_function(_policy("crawl_worker"))
    s3, ddb = session.client("s3"), session.client("dynamodb")
    bucket = aws[r.DATA_BUCKET.env]
    s3.put_object(Bucket=bucket, Key="raw/abc", Body=b"x")  # allowed: raw bodies
    assert s3.get_object(Bucket=bucket, Key="raw/abc")["Body"].read() == b"x"
    ddb.put_item(TableName=aws[r.RELEASES.env], Item={"pk": {"S": "REL#1"}, "sk": {"S": "META"}})
    with pytest.raises(ClientError) as denied:
        s3.put_object(Bucket=bucket, Key="archive/ticks/x.ndjson", Body=b"x")  # the archiver's prefix
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    message = _denial(denied)
    assert FUNCTION in message and "s3:PutObject" in message and f"arn:aws:s3:::{bucket}/archive/ticks/x.ndjson" in message
    with pytest.raises(ClientError) as denied:
        ddb.delete_item(TableName=aws[r.RELEASES.env], Key={"pk": {"S": "REL#1"}, "sk": {"S": "META"}})
    assert "dynamodb:DeleteItem" in _denial(denied) and f"table/{aws[r.RELEASES.env]}" in _denial(denied)
    # nothing was deleted: the request never left the process
    assert boto3.client("dynamodb").get_item(TableName=aws[r.RELEASES.env],
                                             Key={"pk": {"S": "REL#1"}, "sk": {"S": "META"}}).get("Item")


def test_bucket_name_mismatch_is_denied_on_the_object_arn(aws, as_function, capfd):
    """Issue 10's defect: `newbooks-*-data/...` never matches `newbooks-<stage>-data-<account>`."""
    policy = _policy("crawl_worker")
    for statement in policy["Statement"]:
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        statement["Resource"] = [x.replace("-data-*", "-data") for x in resources]
    session = as_function(policy)
    bucket = aws[r.DATA_BUCKET.env]
    with pytest.raises(ClientError) as denied:
        session.client("s3").put_object(Bucket=bucket, Key="raw/abc", Body=b"x")
    assert f"s3:PutObject on resource: arn:aws:s3:::{bucket}/raw/abc" in _denial(denied)
    printed = capfd.readouterr().err
    assert f"IAM DENIED function={FUNCTION} action=s3:PutObject resource=arn:aws:s3:::{bucket}/raw/abc" in printed


def test_one_action_removed_is_denied(aws, as_function):
    policy = _policy("crawl_worker")
    releases = [s for s in policy["Statement"] if str(s["Resource"]).endswith("-releases']")]
    assert len(releases) == 1 and "dynamodb:PutItem" in releases[0]["Action"], "update this test with the policy"
    releases[0]["Action"] = [a for a in releases[0]["Action"] if a != "dynamodb:PutItem"]
    session = as_function(policy)
    with pytest.raises(ClientError) as denied:
        session.client("dynamodb").put_item(TableName=aws[r.RELEASES.env], Item={"pk": {"S": "REL#2"}, "sk": {"S": "META"}})
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    assert f"dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:123456789012:table/{aws[r.RELEASES.env]}" \
        in _denial(denied)


def test_explicit_deny_wins_and_unknown_credentials_are_refused(aws, as_function):
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sqs:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:*:*:newbooks-*-crawl"}]}
    sqs = as_function(policy).client("sqs")
    sqs.get_queue_attributes(QueueUrl=aws[r.CRAWL_QUEUE.env], AttributeNames=["QueueArn"])
    with pytest.raises(ClientError) as denied:
        sqs.send_message(QueueUrl=aws[r.CRAWL_QUEUE.env], MessageBody="x")
    assert "sqs:SendMessage on resource: arn:aws:sqs:us-east-1:123456789012:newbooks-test-crawl" in _denial(denied)
    stranger = boto3.session.Session(aws_access_key_id="AKIASTRANGER", aws_secret_access_key="x", region_name="us-east-1")
    with pytest.raises(ClientError) as refused:
        stranger.client("sqs").get_queue_attributes(QueueUrl=aws[r.CRAWL_QUEUE.env], AttributeNames=["QueueArn"])
    assert "belong to no function role" in _denial(refused)


@pytest.mark.parametrize("service,operation,params,expected", [
    ("s3", "HeadObject", {"Bucket": "b", "Key": "raw/k"}, [("s3:GetObject", "arn:aws:s3:::b/raw/k")]),
    ("s3", "ListObjectsV2", {"Bucket": "b", "Prefix": "raw/"}, [("s3:ListBucket", "arn:aws:s3:::b")]),
    ("dynamodb", "Query", {"TableName": "t", "IndexName": "by_match"},
     [("dynamodb:Query", "arn:aws:dynamodb:us-east-1:1:table/t/index/by_match")]),
    ("dynamodb", "BatchWriteItem", {"RequestItems": {"a": [], "b": []}},
     [("dynamodb:BatchWriteItem", "arn:aws:dynamodb:us-east-1:1:table/a"),
      ("dynamodb:BatchWriteItem", "arn:aws:dynamodb:us-east-1:1:table/b")]),
    ("dynamodbstreams", "GetRecords", {"ShardIterator": "arn:aws:dynamodb:us-east-1:1:table/t/stream/s|1|xyz"},
     [("dynamodb:GetRecords", "arn:aws:dynamodb:us-east-1:1:table/t/stream/s")]),
    ("sqs", "SendMessageBatch", {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/1/q"},
     [("sqs:SendMessage", "arn:aws:sqs:us-east-1:1:q")]),
    ("ssm", "GetParameter", {"Name": "/newbooks/dev/slack"},
     [("ssm:GetParameter", "arn:aws:ssm:us-east-1:1:parameter/newbooks/dev/slack")]),
])
def test_requests_map_to_documented_actions_and_resources(service, operation, params, expected):
    assert iam_local.requested(service, operation, params, "us-east-1", "1") == expected
