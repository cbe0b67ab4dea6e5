"""Configuration from the environment (set by .chalice/config.json, the deploy template, or the
dev stack): every variable chalicelib reads is read here, and the README's configuration table
lists each one (tests/unit/test_settings_readme.py keeps the two in step). Secret values are
resolved through `chalicelib.secrets` (environment, then SSM); only their variable names live here.

`Settings` holds what is fixed for a container's life (read once, cached). The functions below
it are read when used: names built from a channel or webhook name, operator lists changed without
a cold start, and values needed before or without the cached Settings (logging, the event schema).
The crawler library keeps its own few in `crawlers/settings.py` (crawlers does not import chalicelib)."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from chalicelib import resources

_CONFIG_DIR = Path(__file__).resolve().parent / "config"


def _env(name: str, default: str = "") -> str:
    """The one place chalicelib reads os.environ."""
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
    public_url_configured: bool = False  # unset: the API handler links to the host a request came in on

    @property
    def user_agent(self) -> str:
        return f"newbooks/1.0 (+{self.user_agent_contact})"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Read once per Lambda container; tests call `get_settings.cache_clear()` after changing env."""
    stage = _env("NEWBOOKS_STAGE", "dev")

    def table(t: resources.Table) -> str:
        return _env(t.env, resources.physical_name(stage, t.short))

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
        sources_file=sources_file(),
        targets_file=Path(_env("NEWBOOKS_TARGETS_FILE", str(_CONFIG_DIR / "targets.yaml"))),
        user_agent_contact=_env("NEWBOOKS_CONTACT_URL", "https://github.com/newbooks/newbooks"),
        public_base_url=_env("NEWBOOKS_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/"),
        public_url_configured=bool(_env("NEWBOOKS_PUBLIC_URL")),
        allow_private_targets=_flag("NEWBOOKS_ALLOW_PRIVATE_TARGETS", False),
        ping_shard_size=int(_env("NEWBOOKS_PING_SHARD_SIZE", "500")),
        ssm_prefix=_env("NEWBOOKS_SSM_PREFIX", f"/newbooks/{stage}/"),
        slack_api_url=_env("SLACK_API_URL", "https://slack.com/api/"),
        x_api_url=_env("X_API_URL", "https://api.twitter.com").rstrip("/"),
        cover_images=_env("NEWBOOKS_COVER_IMAGES", "lazy").strip().lower() != "off",
        dlq_urls=dead_letter_urls(),
        dns_servers=_env("NEWBOOKS_DNS_SERVERS", ""),
        ping_shards_queue_url=_env(resources.PING_SHARDS_QUEUE.env),
        source_dead_after_days=int(_env("NEWBOOKS_SOURCE_DEAD_AFTER_DAYS", "7")),
        rdap_bootstrap_url=_env("NEWBOOKS_RDAP_BOOTSTRAP_URL", ""),
    )


def sources_file() -> Path:
    """The release sources to crawl (the crawler CLI reads the same file)."""
    return Path(_env("NEWBOOKS_SOURCES_FILE") or _CONFIG_DIR / "sources.yaml")


def dead_letter_urls() -> dict[str, str]:
    """Every dead-letter queue's URL by its /dlq name; set by the template per queue."""
    return {q.dead_letter_name: _env(q.dead_letter_env) for q in resources.QUEUES}


# --- read when used -------------------------------------------------------------------------

def _env_part(name: str) -> str:
    """A webhook or channel name as it appears inside a variable name (`ops-team` -> `OPS_TEAM`)."""
    return re.sub(r"[^A-Z0-9]", "_", name.upper())


def secret_env(name: str) -> str | None:
    """A secret's value from the environment: the variable is the upper-case logical name."""
    return _env(name.upper()) or None


def ssm_disabled() -> bool:
    """Tests and benchmarks: never ask SSM for a secret (the environment or nothing)."""
    return _flag("NEWBOOKS_SSM_DISABLED")


def config_value(name: str) -> str | None:
    """A `${NAME}` in a YAML config file: the file names the variable (chalicelib.configfile)."""
    return os.environ.get(name)


def log_level() -> str:
    """Level of the JSON logs on stdout (read when logging is first configured)."""
    return _env("NEWBOOKS_LOG_LEVEL", "INFO")


def function_name() -> str | None:
    """Set by Lambda; every log line names the function it came from."""
    return _env("AWS_LAMBDA_FUNCTION_NAME") or None


def event_schema_version() -> int:
    """The event schema this code writes; a rollout sets the new one on producers first."""
    return int(_env("NEWBOOKS_EVENT_SCHEMA_VERSION", "1"))


def subscriptions_file() -> str | None:
    """Configured routes (uptime targets, ops alerts, the local stack's sample follows)."""
    return _env("NEWBOOKS_SUBSCRIPTIONS_FILE") or None


def alert_route(channel: str) -> str | None:
    """A destination for targets' `alerts: [<channel>]`, overriding the subscriptions file."""
    return _env(f"NEWBOOKS_ALERT_{_env_part(channel)}") or None


def notify_burst_limit() -> int:
    """Release notifications per destination per hour before the rest are grouped."""
    return int(_env("NEWBOOKS_NOTIFY_BURST_LIMIT", "10"))


def work_window_days() -> int:
    """How far apart two sources' dates may be for one issue to be announced once (the default is
    crawlers.identity.DEFAULT_WINDOW_DAYS, not imported: settings stays free of crawlers)."""
    return int(_env("NEWBOOKS_WORK_WINDOW_DAYS", "14"))


def ledger_stale_s() -> float:
    """A delivery claimed this long ago with no outcome is taken over (its worker died)."""
    return float(_env("NEWBOOKS_LEDGER_STALE_S", "120"))


def webhook_url(name: str) -> str | None:
    """`webhook:<name>`'s URL from the environment (else the secret `webhook_url_<name>`)."""
    return _env(f"NEWBOOKS_WEBHOOK_{_env_part(name)}_URL") or None


def slack_webhook_channel(name: str) -> str | None:
    """The channel an incoming webhook posts to, so an uncertain post can be looked for."""
    return _env(f"NEWBOOKS_SLACK_WEBHOOK_{_env_part(name or 'default')}_CHANNEL") or None


def slack_target_admins() -> frozenset[str]:
    """Slack user ids allowed to add/remove monitoring targets; empty: anyone."""
    return frozenset(u.strip() for u in _env("NEWBOOKS_SLACK_TARGET_ADMINS").split(",") if u.strip())


def telegram_api_url() -> str:
    """Telegram Bot API base URL (tests: a 127.0.0.1 peer)."""
    return _env("TELEGRAM_API_URL", "https://api.telegram.org")


def ntfy_url() -> str:
    """ntfy server base URL."""
    return _env("NTFY_URL", "https://ntfy.sh")


def pagerduty_events_url() -> str:
    """PagerDuty Events API v2 base URL."""
    return _env("PAGERDUTY_EVENTS_URL", "https://events.pagerduty.com")


def smtp_url() -> str | None:
    """`smtp://host:port`, `smtps://...` or `smtp+starttls://...`; unset: email goes nowhere."""
    return _env("NEWBOOKS_SMTP_URL") or None


def smtp_user() -> str | None:
    """SMTP login (the password is the secret `smtp_password`)."""
    return _env("NEWBOOKS_SMTP_USER") or None


def email_from() -> str:
    """The From address of alert emails."""
    return _env("NEWBOOKS_EMAIL_FROM", "newbooks@localhost")
