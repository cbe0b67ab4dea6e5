"""Create every resource declared in chalicelib.resources against whatever endpoint boto3 is
pointed at (moto server in the local stack, `mock_aws` in tests). Idempotent: existing
resources are left as they are, so a restarted stack keeps its data."""
from __future__ import annotations

import json
from typing import Any

from chalicelib import resources as r


def create_all(stage: str, region: str = "us-east-1") -> dict[str, str]:
    """Create tables, queues (+DLQs with redrive) and the bucket; return the environment
    variables (name -> physical name or URL) the application reads."""
    import boto3

    env: dict[str, str] = {}
    ddb = boto3.client("dynamodb", region_name=region)
    existing = set(ddb.list_tables()["TableNames"])
    for table in r.TABLES:
        name = r.physical_name(stage, table.short)
        if name not in existing:
            ddb.create_table(**table_definition(table, name))
            if table.ttl_attribute:
                ddb.update_time_to_live(
                    TableName=name,
                    TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
                )
        env[table.env] = name

    sqs = boto3.client("sqs", region_name=region)
    for queue in r.QUEUES:
        if not queue.has_dlq:
            env[queue.env] = sqs.create_queue(
                QueueName=r.physical_name(stage, queue.short),
                Attributes={"MessageRetentionPeriod": str(queue.dlq_retention_s)},
            )["QueueUrl"]
            continue
        dlq_url = sqs.create_queue(
            QueueName=r.physical_name(stage, queue.dlq_short),
            Attributes={"MessageRetentionPeriod": str(queue.dlq_retention_s)},
        )["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        url = sqs.create_queue(
            QueueName=r.physical_name(stage, queue.short),
            Attributes={
                "VisibilityTimeout": str(queue.visibility_timeout_s),
                "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": queue.max_receive_count}),
            },
        )["QueueUrl"]
        env[queue.env] = url
        env[queue.env.replace("_QUEUE_URL", "_DLQ_URL")] = dlq_url

    s3 = boto3.client("s3", region_name=region)
    bucket = r.physical_name(stage, r.DATA_BUCKET.short)
    existing_buckets = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if bucket not in existing_buckets:
        s3.create_bucket(Bucket=bucket)
    env[r.DATA_BUCKET.env] = bucket
    return env


def table_definition(table: r.Table, name: str) -> dict[str, Any]:
    """CreateTable arguments; the deploy template renders the same fields (infra/)."""
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
