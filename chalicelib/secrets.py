"""Secrets from the environment first, then SSM Parameter Store (SecureString), cached.

Names are logical (`slack_bot_token`); the environment variable is the upper-case name and the
SSM parameter is `<NEWBOOKS_SSM_PREFIX><name>`, e.g. `/newbooks/prod/slack_bot_token`.
Every value found is registered with the log redactor.

Absent and unreadable are different answers. Only `ParameterNotFound` means "not configured"
(the feature then degrades, e.g. notifications go to the console). Any other failure (throttled,
AccessDenied, endpoint down, no credentials) is retried by botocore (chalicelib.aws: adaptive
retries) and then raised as `SecretUnavailable`: the caller's work fails, SQS retries the
message, and nothing is cached, so the next invocation asks SSM again. Caching an unreadable
secret as "not set" once sent Slack alerts to the console and the ledger recorded them as sent.
"""
from __future__ import annotations

import threading

from chalicelib import aws
from chalicelib.log import register_secret
from chalicelib.settings import get_settings, secret_env, ssm_disabled

KNOWN = (
    "slack_bot_token",
    "slack_signing_secret",
    "slack_webhook_url",
    "x_api_key",
    "x_api_secret",
    "x_access_token",
    "x_access_token_secret",
    "webhook_signing_secret",
    "api_key",
    "rakuten_application_id",
    "rakuten_access_key",
    "metron_user",
    "metron_password",
)

# The one SSM answer that means "this secret is not configured" (GetParameter's documented
# error for a missing name; AWS Systems Manager API Reference, GetParameter, read 2026-12-03).
NOT_FOUND = "ParameterNotFound"

_cache: dict[str, str | None] = {}
_lock = threading.Lock()


class SecretUnavailable(RuntimeError):
    """SSM could not answer (after botocore's retries). Not "not configured": fail the work so
    it is retried, never degrade. The message names the secret and the error, never a value."""


def get_secret(name: str) -> str | None:
    """The secret's value, or None when it is configured nowhere (no environment variable, and
    SSM answers ParameterNotFound). Raises SecretUnavailable when SSM cannot be read."""
    with _lock:
        if name in _cache:
            return _cache[name]
    value = secret_env(name) or _from_ssm(name)
    register_secret(value)
    with _lock:
        _cache[name] = value
    return value


def _from_ssm(name: str) -> str | None:
    if ssm_disabled():
        return None
    parameter = f"{get_settings().ssm_prefix}{name}"
    try:
        response = aws.client("ssm").get_parameter(Name=parameter, WithDecryption=True)
    except (ImportError, ModuleNotFoundError):
        raise
    except Exception as exc:
        code = aws.error_code(exc)
        if code == NOT_FOUND:
            return None
        raise SecretUnavailable(f"secret {name!r} ({parameter}) could not be read from SSM: "
                                f"{code or type(exc).__name__}") from None
    value: str = response["Parameter"]["Value"]
    return value


def register_environment() -> None:
    """Redact every known secret present in the environment from the start, including ones
    that reach the code only through `${VAR}` expansion in a config file."""
    for name in KNOWN:
        register_secret(secret_env(name))


def clear_cache() -> None:
    with _lock:
        _cache.clear()
