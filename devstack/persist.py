"""Keep the local stack's state across restarts: moto server lives in memory, so the local stack
dumps every table's items and every S3 object of the deployed stack under the data directory
(periodically and on Ctrl-C) and loads them back before the schedules start. Queued messages are
not kept: the schedules fire again at start, and every handler is idempotent. Tables and buckets
are named by the caller (the deployed stack's, devstack.deploy.StackView)."""
from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

_encoded: dict[str, tuple[str, str]] = {}  # object key -> (etag, base64 body) of the last dump


def dump(data_dir: Path, tables: list[str], bucket: str) -> dict[str, int]:
    """Read from moto's in-memory backends, which run in this process (the local stack's
    ThreadedMotoServer, or `mock_aws` in tests): a Scan of a few thousand items through moto
    server costs seconds of CPU, this costs milliseconds, so the periodic snapshot stays off the
    idle CPU bill."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends
    from moto.s3.models import s3_backends

    region = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
    snapshot: dict[str, Any] = {"tables": {}, "objects": {}}
    counts = {"items": 0, "objects": 0}
    ddb = dynamodb_backends[DEFAULT_ACCOUNT_ID][region]
    for name in tables:
        items = [_sdk_form(item.to_json()["Attributes"]) for item in ddb.get_table(name).all_items()]
        snapshot["tables"][name] = items
        counts["items"] += len(items)
    for key in list(s3_backends[DEFAULT_ACCOUNT_ID]["global"].get_bucket(bucket).keys.values()):
        cached = _encoded.get(key.name)
        if cached is None or cached[0] != key.etag:  # raw bodies never change: encode each once
            cached = _encoded[key.name] = (key.etag, base64.b64encode(key.value).decode())
        snapshot["objects"][key.name] = cached[1]
        counts["objects"] += 1
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = data_dir / "state.json.tmp"
    tmp.write_text(json.dumps(snapshot, default=_encode_bytes))
    os.replace(tmp, data_dir / "state.json")  # atomic: a kill mid-dump keeps the previous file
    return counts


def _sdk_form(attributes: dict[str, Any]) -> dict[str, Any]:
    """moto's wire form (binary as base64 text) -> what boto3 hands out and takes (bytes)."""

    def value(typed: dict[str, Any]) -> dict[str, Any]:
        (kind, raw), = typed.items()
        if kind == "B":
            return {kind: base64.b64decode(raw) if isinstance(raw, str) else raw}
        if kind == "BS":
            return {kind: [base64.b64decode(v) if isinstance(v, str) else v for v in raw]}
        if kind == "M":
            return {kind: {k: value(v) for k, v in raw.items()}}
        if kind == "L":
            return {kind: [value(v) for v in raw]}
        return typed

    return {name: value(typed) for name, typed in attributes.items()}


def _encode_bytes(value: Any) -> Any:
    """Binary attributes (DynamoDB "B" / "BS") survive as {"__b64__": ...}."""
    if isinstance(value, (bytes, bytearray)):
        return {"__b64__": base64.b64encode(value).decode()}
    raise TypeError(f"cannot save {type(value).__name__}")


def _decode_bytes(obj: dict) -> Any:
    return base64.b64decode(obj["__b64__"]) if set(obj) == {"__b64__"} else obj


def restore(data_dir: Path, tables: list[str], bucket: str) -> dict[str, int]:
    import boto3

    path = data_dir / "state.json"
    if not path.exists():
        return {"items": 0, "objects": 0}
    snapshot = json.loads(path.read_text(), object_hook=_decode_bytes)
    ddb, s3 = boto3.client("dynamodb"), boto3.client("s3")
    counts = {"items": 0, "objects": 0}
    for name, items in snapshot.get("tables", {}).items():
        if name not in tables:
            continue  # a table the template no longer declares
        for start in range(0, len(items), 25):
            requests = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
            ddb.batch_write_item(RequestItems={name: requests})
        counts["items"] += len(items)
    for key, body in snapshot.get("objects", {}).items():
        s3.put_object(Bucket=bucket, Key=key, Body=base64.b64decode(body))
        counts["objects"] += 1
    return counts
