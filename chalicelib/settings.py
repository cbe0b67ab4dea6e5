"""Configuration from the environment (set by .chalice/config.json, the deploy template, or the
dev stack). Secrets are resolved through `chalicelib.secrets`, never read here."""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from chalicelib import resources

_CONFIG_DIR = Path(__file__).resolve().parent / "config"


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def _flag(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    stage: str
    releases_table: str
    state_table: str
    checks_table: str
    ledger_table: str
    data_bucket: str
    crawl_queue_url: str
    slack_jobs_queue_url: str
    notify_queue_urls: dict[str, str]  # channel type -> queue URL
    sources_file: Path
    targets_file: Path
    user_agent_contact: str
    public_base_url: str
    allow_private_targets: bool  # dev stage only: lets the local stack check 127.0.0.1
    ping_shard_size: int
    ssm_prefix: str
    slack_api_url: str
    x_api_url: str
    cover_images: bool  # False: placeholders only (the local stack: sample covers live on public CDNs)
    dlq_urls: dict[str, str]  # every dead-letter queue by its /dlq name (Queue.dead_letter_name) -> URL
    dns_servers: str = ""  # uptime checks' name servers ("ip[:port], ..."); empty: /etc/resolv.conf
    ping_shards_queue_url: str = ""  # set: a tick past one shard fans out, one message per shard
    source_dead_after_days: int = 7  # a release source degraded this long is DEAD (ops alert)
    rdap_bootstrap_url: str = ""  # [DOMAIN_EXPIRATION]: RFC 9224 bootstrap; empty: IANA's

    @property
    def user_agent(self) -> str:
        return f"newbooks/1.0 (+{self.user_agent_contact})"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Read once per Lambda container; tests call `get_settings.cache_clear()` after changing env."""
    stage = _env("NEWBOOKS_STAGE", "dev")
    table = lambda t: _env(t.env, resources.physical_name(stage, t.short))  # noqa: E731
    return Settings(
        stage=stage,
        releases_table=table(resources.RELEASES),
        state_table=table(resources.STATE),
        checks_table=table(resources.CHECKS),
        ledger_table=table(resources.LEDGER),
        data_bucket=_env(resources.DATA_BUCKET.env, resources.physical_name(stage, "data")),
        crawl_queue_url=_env(resources.CRAWL_QUEUE.env),
        slack_jobs_queue_url=_env(resources.SLACK_JOBS_QUEUE.env),
        notify_queue_urls={
            "slack": _env(resources.NOTIFY_SLACK_QUEUE.env),
            "x": _env(resources.NOTIFY_X_QUEUE.env),
            "webhook": _env(resources.NOTIFY_WEBHOOK_QUEUE.env),
            "console": _env(resources.NOTIFY_CONSOLE_QUEUE.env),
        },
        sources_file=Path(_env("NEWBOOKS_SOURCES_FILE", str(_CONFIG_DIR / "sources.yaml"))),
        targets_file=Path(_env("NEWBOOKS_TARGETS_FILE", str(_CONFIG_DIR / "targets.yaml"))),
        user_agent_contact=_env("NEWBOOKS_CONTACT_URL", "https://github.com/newbooks/newbooks"),
        public_base_url=_env("NEWBOOKS_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/"),
        allow_private_targets=_flag("NEWBOOKS_ALLOW_PRIVATE_TARGETS", False),
        ping_shard_size=int(_env("NEWBOOKS_PING_SHARD_SIZE", "500")),
        ssm_prefix=_env("NEWBOOKS_SSM_PREFIX", f"/newbooks/{stage}/"),
        slack_api_url=_env("SLACK_API_URL", "https://slack.com/api/"),
        x_api_url=_env("X_API_URL", "https://api.twitter.com").rstrip("/"),
        cover_images=_env("NEWBOOKS_COVER_IMAGES", "lazy").strip().lower() != "off",
        dlq_urls={q.dead_letter_name: _env(q.dead_letter_env) for q in resources.QUEUES},
        dns_servers=_env("NEWBOOKS_DNS_SERVERS", ""),
        ping_shards_queue_url=_env(resources.PING_SHARDS_QUEUE.env),
        source_dead_after_days=int(_env("NEWBOOKS_SOURCE_DEAD_AFTER_DAYS", "7")),
        rdap_bootstrap_url=_env("NEWBOOKS_RDAP_BOOTSTRAP_URL", ""),
    )
