"""Fault injection for the local stack (`NEWBOOKS_CHAOS`, a JSON object), off by default.

    {"seed": 7,
     "aws_fault_rate": 0.05,      # share of AWS requests answered with a retryable fault:
                                  #   DynamoDB ProvisionedThroughputExceeded / Throttling,
                                  #   S3 SlowDown (503) / InternalError (500), SQS 500 on sends
     "duplicate_rate": 0.3,       # share of queue/stream batches delivered twice
     "late_rate": 0.2,            # share of stream batches delivered again later (stale)
     "duplicate_schedule_rate": 0.5, "skip_schedule_rate": 0.2}

Faults are injected at botocore's `before-send`, so the SDK's own retry logic sees them exactly
as it would see AWS's answers. Counters go to `<data dir>/chaos-<pid>.json` for the tests.
"""
from __future__ import annotations

import json
import os
import random
import threading
from collections import Counter
from pathlib import Path
from typing import Any

_FAULTS = {
    "dynamodb": [
        (400, {"__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException", "message": "chaos"}),
        (400, {"__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException", "message": "chaos"}),
    ],
    "s3": [(503, "SlowDown"), (500, "InternalError")],
    "sqs": [(500, {"__type": "com.amazonaws.sqs#InternalError", "message": "chaos"})],
}


class _Raw:
    def __init__(self, body: bytes):
        self._body = body

    def stream(self, **_kwargs: Any):
        yield self._body


class Chaos:
    def __init__(self, config: dict[str, Any], data_dir: Path | None = None):
        self.config = config
        self.random = random.Random(config.get("seed", 1))
        self.lock = threading.Lock()
        self.counts: Counter = Counter()
        self.data_dir = data_dir

    @classmethod
    def from_env(cls, data_dir: Path | None = None) -> Chaos | None:
        raw = os.environ.get("NEWBOOKS_CHAOS")
        return cls(json.loads(raw), data_dir) if raw else None

    def chance(self, name: str) -> bool:
        rate = float(self.config.get(name, 0))
        with self.lock:
            hit = rate > 0 and self.random.random() < rate
            if hit:
                self.counts[name] += 1
        if hit:
            self.save()
        return hit

    def install(self) -> None:
        from chalicelib import aws

        aws.client_hooks.append(self._attach)

    def _attach(self, service: str, client: Any) -> None:
        if service in _FAULTS:
            client.meta.events.register("before-send", lambda request, **kw: self._maybe_fault(service, request, **kw))

    def _maybe_fault(self, service: str, request: Any, **kwargs: Any) -> Any:
        from botocore.awsrequest import AWSResponse

        if service == "sqs" and "SendMessage" not in str(request.headers.get("X-Amz-Target", b"")):
            return None  # only sends fail: receives and deletes belong to the runner itself
        if not self.chance("aws_fault_rate"):
            return None
        with self.lock:
            status, error = self.random.choice(_FAULTS[service])
            self.counts[f"fault:{service}:{status}"] += 1
        if isinstance(error, str):  # S3 answers XML
            body = f"<Error><Code>{error}</Code><Message>chaos</Message></Error>".encode()
            headers = {"Content-Type": "application/xml"}
        else:
            body = json.dumps(error).encode()
            headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-query-error": ""}
        return AWSResponse(request.url, status, headers, _Raw(body))

    def save(self) -> None:
        if self.data_dir is None:
            return
        with self.lock:
            snapshot = dict(self.counts)
        path = self.data_dir / f"chaos-{os.getpid()}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(snapshot))
        os.replace(tmp, path)
