"""Structured JSON logs with a correlation id per event, and secret redaction.

One line per record: {"level", "message", "logger", "correlation_id", "function", ...extra}.
Every known secret value (see `chalicelib.secrets.register`) is replaced by "***" before a line
is written, so a token that leaks into an exception message still never reaches the logs.
"""
from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import sys
import time
from collections.abc import Iterator
from typing import Any

from chalicelib.settings import function_name, log_level

_correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("correlation_id", default=None)
_secrets: set[str] = set()
_STANDARD = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


def register_secret(value: str | None) -> None:
    """Never print this value (min length avoids redacting common short words)."""
    if value and len(value) >= 6:
        _secrets.add(value)


def redact(text: str) -> str:
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, "***")
    return text


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "correlation_id": _correlation_id.get(),
            "function": function_name(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return redact(json.dumps(payload, default=str, ensure_ascii=False))


def _configure() -> None:
    root = logging.getLogger("newbooks")
    if root.handlers:
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(log_level())
    root.propagate = False


def get_logger(name: str) -> logging.Logger:
    _configure()
    return logging.getLogger(f"newbooks.{name}")


def current_correlation_id() -> str | None:
    return _correlation_id.get()


@contextlib.contextmanager
def correlation(correlation_id: str | None) -> Iterator[None]:
    """Tag every log line inside the block with the id of the event being handled."""
    token = _correlation_id.set(correlation_id or f"local-{time.time_ns()}")
    try:
        yield
    finally:
        _correlation_id.reset(token)
