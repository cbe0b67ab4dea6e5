"""Secrets from the environment first, then SSM Parameter Store (SecureString), cached.

Names are logical (`slack_bot_token`); the environment variable is the upper-case name and the
SSM parameter is `<NEWBOOKS_SSM_PREFIX><name>`, e.g. `/newbooks/prod/slack_bot_token`.
Every value found is registered with the log redactor.
"""
from __future__ import annotations

import os
import threading

from chalicelib import aws
from chalicelib.log import register_secret
from chalicelib.settings import get_settings

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

_cache: dict[str, str | None] = {}
_lock = threading.Lock()


def get_secret(name: str) -> str | None:
    """The secret's value, or None when it is configured nowhere (the feature then degrades,
    e.g. notifications go to the console)."""
    with _lock:
        if name in _cache:
            return _cache[name]
    value = os.environ.get(name.upper()) or _from_ssm(name)
    register_secret(value)
    with _lock:
        _cache[name] = value
    return value


def _from_ssm(name: str) -> str | None:
    if os.environ.get("NEWBOOKS_SSM_DISABLED", "").lower() in {"1", "true"}:
        return None
    try:
        response = aws.client("ssm").get_parameter(Name=f"{get_settings().ssm_prefix}{name}", WithDecryption=True)
    except Exception as exc:  # ParameterNotFound, no credentials, no endpoint: all mean "not set"
        if type(exc).__name__ in {"ImportError", "ModuleNotFoundError"}:
            raise
        return None
    return response["Parameter"]["Value"]


def register_environment() -> None:
    """Redact every known secret present in the environment from the start, including ones
    that reach the code only through `${VAR}` expansion in a config file."""
    for name in KNOWN:
        register_secret(os.environ.get(name.upper()))


def clear_cache() -> None:
    with _lock:
        _cache.clear()
