"""Composition root: wires the real adapters once per Lambda container, lazily.

Each service module exposes `build(settings) -> Service`; tests build services themselves with
other collaborators instead of patching these. The return types are imported for the type
checker only: at run time each factory imports its own module when first called, so a cold start
loads only the service its function uses (bench/import_time.py).
"""
from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from chalicelib import secrets as _secrets
from chalicelib.settings import get_settings

if TYPE_CHECKING:
    from chalicelib.crawl.service import CrawlService
    from chalicelib.notify.delivery import DeliveryService
    from chalicelib.notify.dlq import DlqAdmin
    from chalicelib.notify.fanout import FanoutService
    from chalicelib.notify.subscriptions import SubscriptionService
    from chalicelib.queries import ReleaseQueries
    from chalicelib.slackbot.interactions import SlackInteractions
    from chalicelib.slackbot.service import SlackCommands
    from chalicelib.uptime.service import UptimeService

_secrets.register_environment()


@cache
def crawl_service() -> CrawlService:
    from chalicelib.crawl.service import build

    return build(get_settings())


@cache
def release_queries() -> ReleaseQueries:
    from chalicelib.queries import build

    return build(get_settings())


@cache
def uptime_service() -> UptimeService:
    from chalicelib.uptime.service import build

    return build(get_settings())


@cache
def fanout_service() -> FanoutService:
    from chalicelib.notify.fanout import build

    return build(get_settings())


@cache
def delivery_service() -> DeliveryService:
    from chalicelib.notify.delivery import build

    return build(get_settings())


@cache
def subscription_service() -> SubscriptionService:
    from chalicelib.notify.subscriptions import build

    return build(get_settings())


@cache
def dlq_admin() -> DlqAdmin:
    from chalicelib.notify.dlq import build

    return build(get_settings())


@cache
def slack_commands() -> SlackCommands:
    from chalicelib.slackbot.service import build

    return build(get_settings())


@cache
def slack_interactions() -> SlackInteractions:
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
