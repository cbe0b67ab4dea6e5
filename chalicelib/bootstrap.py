"""Composition root: wires the real adapters once per Lambda container, lazily.

Each service module exposes `build(settings) -> Service`; tests build services themselves with
other collaborators instead of patching these.
"""
from __future__ import annotations

from functools import cache
from typing import Any

from chalicelib import secrets as _secrets
from chalicelib.settings import get_settings

_secrets.register_environment()


@cache
def crawl_service() -> Any:
    from chalicelib.crawl.service import build

    return build(get_settings())


@cache
def release_queries() -> Any:
    from chalicelib.queries import build

    return build(get_settings())


@cache
def uptime_service() -> Any:
    from chalicelib.uptime.service import build

    return build(get_settings())


@cache
def fanout_service() -> Any:
    from chalicelib.notify.fanout import build

    return build(get_settings())


@cache
def delivery_service() -> Any:
    from chalicelib.notify.delivery import build

    return build(get_settings())


@cache
def subscription_service() -> Any:
    from chalicelib.notify.subscriptions import build

    return build(get_settings())


@cache
def dlq_admin() -> Any:
    from chalicelib.notify.dlq import build

    return build(get_settings())


@cache
def slack_commands() -> Any:
    from chalicelib.slackbot.service import build

    return build(get_settings())


@cache
def slack_interactions() -> Any:
    from chalicelib.slackbot.interactions import build

    return build(get_settings())


def reset() -> None:
    """Drop every wired service (tests and the dev runner after changing the environment)."""
    from chalicelib import aws, secrets

    for factory in (crawl_service, release_queries, uptime_service, fanout_service, delivery_service,
                    subscription_service, dlq_admin, slack_commands, slack_interactions):
        factory.cache_clear()
    get_settings.cache_clear()
    aws.reset()
    secrets.clear_cache()
