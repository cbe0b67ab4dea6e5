"""`aws.conditional()` and `aws.all_items()` against DynamoDB in moto: the three ways boto3
raises a failed condition, and a query and a scan that span several pages."""
from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from chalicelib import aws


@pytest.fixture
def table():
    with mock_aws():
        ddb = boto3.resource("dynamodb", region_name="us-east-1")
        yield ddb.create_table(
            TableName="helpers", BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                  {"AttributeName": "sk", "AttributeType": "S"}],
        )


def test_first_writer_wins_through_the_resource_table(table):
    outcomes = []
    for by in ("a", "b"):
        with aws.conditional() as write:
            table.put_item(Item={"pk": "P", "sk": "S", "by": by}, ConditionExpression="attribute_not_exists(pk)")
        outcomes.append(write.held)
    assert outcomes == [True, False]
    assert table.get_item(Key={"pk": "P", "sk": "S"})["Item"]["by"] == "a"  # the loser wrote nothing


def test_update_and_delete_conditions_and_the_low_level_client(table):
    table.put_item(Item={"pk": "P", "sk": "S", "v": 1})
    with aws.conditional() as stale:
        table.update_item(Key={"pk": "P", "sk": "S"}, UpdateExpression="SET v = :n", ConditionExpression="v = :old",
                          ExpressionAttributeValues={":n": 3, ":old": 2})
    with aws.conditional() as gone:
        boto3.client("dynamodb", region_name="us-east-1").delete_item(TableName="helpers", Key={"pk": {"S": "P"}, "sk": {"S": "S"}},
            ConditionExpression="v = :x", ExpressionAttributeValues={":x": {"N": "9"}})
    assert not stale.held and not gone.held
    assert table.get_item(Key={"pk": "P", "sk": "S"})["Item"]["v"] == 1


def test_an_error_that_is_not_a_condition_propagates(table):
    with pytest.raises(table.meta.client.exceptions.ClientError) as caught, aws.conditional():
        table.put_item(Item={"pk": "P"}, ConditionExpression="attribute_not_exists(pk)")  # no sort key
    assert aws.error_code(caught.value) == "ValidationException"


def test_all_items_reads_every_page_of_a_query_and_a_scan(table):
    from boto3.dynamodb.conditions import Key

    with table.batch_writer() as batch:
        for n in range(7):
            batch.put_item(Item={"pk": "P", "sk": f"{n:02d}"})
        batch.put_item(Item={"pk": "OTHER", "sk": "00"})
    starts = []

    def query(**request):  # the real Query, recording where each page started
        starts.append(request.get("ExclusiveStartKey"))
        return table.query(**request)

    items = list(aws.all_items(query, KeyConditionExpression=Key("pk").eq("P"), Limit=3))
    assert [i["sk"] for i in items] == [f"{n:02d}" for n in range(7)]
    assert len(starts) >= 3 and starts[0] is None and starts[1] == {"pk": "P", "sk": "02"}
    scanned = list(aws.all_items(table.scan, Limit=2))
    assert sorted((i["pk"], i["sk"]) for i in scanned) == sorted([("OTHER", "00")] + [("P", f"{n:02d}") for n in range(7)])
    assert list(aws.all_items(table.query, KeyConditionExpression=Key("pk").eq("NONE"))) == []
