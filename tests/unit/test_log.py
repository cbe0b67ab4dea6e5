"""Structured logs: one JSON object per line, the event's correlation id on every line inside
the handler, and secret values never printed (even inside exception text)."""
import io
import json
import logging

from chalicelib.log import JsonFormatter, correlation, get_logger, register_secret


def capture():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = get_logger("test-capture")
    logger.addHandler(handler)
    return logger, stream, handler


def test_lines_are_json_with_correlation_id_and_extra_fields():
    logger, stream, handler = capture()
    try:
        with correlation("msg-123"):
            logger.warning("crawled", extra={"source": "pw", "items": 3})
        logger.warning("outside")
    finally:
        logger.removeHandler(handler)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["correlation_id"] == "msg-123" and first["source"] == "pw" and first["items"] == 3
    assert first["level"] == "WARNING" and first["message"] == "crawled"
    assert second["correlation_id"] is None


def test_registered_secrets_are_redacted_everywhere():
    secret = "xoxb-1234567890-SECRET"
    register_secret(secret)
    logger, stream, handler = capture()
    try:
        try:
            raise RuntimeError(f"slack said no to token {secret}")
        except RuntimeError:
            logger.exception("post failed", extra={"token": secret})
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert secret not in text
    assert text.count("***") >= 2  # the extra field and the exception message


def test_secrets_come_from_env_and_are_registered(monkeypatch):
    from chalicelib import secrets
    from chalicelib.log import redact

    monkeypatch.setenv("SLACK_SIGNING_SECRET", "sign-me-please-42")
    secrets.clear_cache()
    assert secrets.get_secret("slack_signing_secret") == "sign-me-please-42"
    assert redact("value=sign-me-please-42") == "value=***"
    assert secrets.get_secret("x_api_key") is None  # not configured anywhere: feature degrades
