"""`aws.conditional()`: a failed condition is reported, every other error propagates (pure:
botocore's own ClientError, no AWS stand-in; the moto round trip is in
tests/integration/test_aws_helpers.py)."""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from chalicelib import aws


def _client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}}, "PutItem")


def test_a_failed_condition_is_held_false():
    with aws.conditional() as write:
        raise _client_error("ConditionalCheckFailedException")
    assert write.held is False


def test_a_write_that_returns_is_held():
    with aws.conditional() as write:
        pass
    assert write.held is True


@pytest.mark.parametrize("error", [_client_error("ProvisionedThroughputExceededException"),
                                   _client_error("ValidationException"), RuntimeError("boom")])
def test_other_errors_propagate(error):
    with pytest.raises(type(error)), aws.conditional():
        raise error


def test_error_code():
    assert aws.error_code(_client_error("NoSuchKey")) == "NoSuchKey"
    assert aws.error_code(ValueError("x")) is None
