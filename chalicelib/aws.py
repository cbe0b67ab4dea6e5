"""The one place boto3 is touched: lazily built, cached per Lambda container.

boto3 honours `AWS_ENDPOINT_URL` itself (>= 1.28), so the same code reaches AWS on Lambda,
moto server in the local stack, and `mock_aws` in unit tests. boto3 is imported lazily so that
importing `app` stays cheap on cold start and works where boto3 is absent (packaging checks).
"""
from __future__ import annotations

import threading
from typing import Any, Callable

_lock = threading.Lock()
_clients: dict[tuple[str, str], Any] = {}
# Called with (service, botocore client) for every client built here: instrumentation such as
# request counting in benchmarks or fault injection in the local chaos runs. Empty on Lambda.
client_hooks: list[Callable[[str, Any], None]] = []


def _config() -> Any:
    from botocore.config import Config

    # Adaptive retries absorb throttling (ProvisionedThroughputExceeded, SlowDown) with backoff.
    return Config(
        retries={"max_attempts": 6, "mode": "adaptive"},
        connect_timeout=3,
        read_timeout=10,
        max_pool_connections=50,
    )


def client(service: str) -> Any:
    """A cached low-level boto3 client for `service`."""
    return _cached("client", service)


def resource(service: str) -> Any:
    """A cached boto3 resource (DynamoDB tables read/write plain Python types through it)."""
    return _cached("resource", service)


def table(name: str) -> Any:
    return resource("dynamodb").Table(name)


def _cached(kind: str, service: str) -> Any:
    key = (kind, service)
    found = _clients.get(key)
    if found is not None:
        return found
    with _lock:
        if key not in _clients:
            import boto3

            factory = boto3.session.Session().client if kind == "client" else boto3.session.Session().resource
            built = factory(service, config=_config())
            for hook in client_hooks:
                hook(service, built if kind == "client" else built.meta.client)
            _clients[key] = built
        return _clients[key]


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore ClientError ("ConditionalCheckFailedException",
    "NoSuchKey", "404", ...), or None for any other exception."""
    response = getattr(exc, "response", None) or {}
    code: str | None = response.get("Error", {}).get("Code")
    return code


def is_conditional_failure(exc: BaseException) -> bool:
    """A conditional write lost: the idempotency primitive's "already done" answer."""
    return error_code(exc) == "ConditionalCheckFailedException"


def reset() -> None:
    """Forget cached clients (tests switch endpoints/credentials between cases)."""
    with _lock:
        _clients.clear()
