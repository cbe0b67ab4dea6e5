"""The resource declarations create cleanly in moto and the env mapping names every resource."""
from chalicelib import resources


def test_every_declared_resource_is_created(aws):
    import boto3

    tables = set(boto3.client("dynamodb").list_tables()["TableNames"])
    assert {resources.physical_name("test", t.short) for t in resources.TABLES} <= tables
    for table in resources.TABLES:
        assert aws[table.env] == f"newbooks-test-{table.short}"
    for queue in resources.QUEUES:
        assert aws[queue.env].endswith(f"newbooks-test-{queue.short}")


def test_mappings_name_declared_sources():
    for mapping in resources.MAPPINGS:
        assert resources.by_logical_id(mapping.source) is not None
