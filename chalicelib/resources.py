"""Every AWS resource newbooks uses, declared once.

`infra/build_template.py` renders these into the CloudFormation merge template for
`chalice package`, and `devstack` deploys that packaged template into moto server, so the
deployed and the local stack cannot drift. Runtime code never reads this module for names: it
reads the environment variable named by `env` (set by the template / the dev stack).

Physical names are `newbooks-<stage>-<short>` so the hand-written IAM policy files can name
their ARNs (`arn:aws:dynamodb:*:*:table/newbooks-*-releases`).

Access patterns (who reads what, by which key) sit next to each table. No request path scans.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Index:
    name: str
    pk: str
    sk: str | None = None
    projection: str = "ALL"  # ALL | KEYS_ONLY


@dataclass(frozen=True)
class Table:
    logical_id: str
    short: str
    env: str
    pk: str
    sk: str | None = None
    indexes: tuple[Index, ...] = ()
    stream: str | None = None  # StreamViewType, or None for no stream
    ttl_attribute: str | None = None
    access_patterns: tuple[str, ...] = ()

    def attribute_names(self) -> list[str]:
        names = [self.pk] + ([self.sk] if self.sk else [])
        for index in self.indexes:
            names += [index.pk] + ([index.sk] if index.sk else [])
        return list(dict.fromkeys(names))


@dataclass(frozen=True)
class Queue:
    logical_id: str
    short: str
    env: str  # holds the queue URL
    visibility_timeout_s: int = 60
    max_receive_count: int = 5  # after this many receives a message moves to the DLQ
    dlq_retention_s: int = 14 * 24 * 3600
    has_dlq: bool = True
    retention_s: int | None = None  # the queue's own MessageRetentionPeriod (None: SQS's 4 days)
    dead_letter_sink: bool = False  # the queue itself holds dead letters (Lambda OnFailure records)

    @property
    def dlq_short(self) -> str:
        return f"{self.short}-dlq"

    @property
    def dead_letter_name(self) -> str:
        """Its dead letters' name on /dlq: the short name without `notify-` (slack, crawl, ...)."""
        return self.short.removeprefix("notify-")

    @property
    def dead_letter_env(self) -> str:
        """The variable holding the URL its dead letters sit in: its DLQ, or the queue itself when it
        is a dead-letter destination (stream-failures: Lambda's OnFailure records)."""
        if self.dead_letter_sink or not self.has_dlq:
            return self.env
        return self.env.replace("_QUEUE_URL", "_DLQ_URL")


@dataclass(frozen=True)
class Bucket:
    logical_id: str
    short: str
    env: str
    eventbridge: bool = True
    prefixes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Mapping:
    """An event source mapping: a stream or queue feeding one Lambda function (Lambda semantics:
    batches, partial batch failure via ReportBatchItemFailures, retries, then DLQ)."""

    function: str  # the Chalice function name (app.lambda_function(name=...))
    source: str  # logical id of a Table (its stream) or a Queue
    batch_size: int = 10
    max_batching_window_s: int = 0
    # stream-only knobs
    starting_position: str = "TRIM_HORIZON"
    max_retry_attempts: int = 5
    bisect_on_error: bool = True
    filter_patterns: tuple[str, ...] = field(default=())  # JSON filter patterns (FilterCriteria)
    # queue-only: invocations running at once (ScalingConfig.MaximumConcurrency; 0 = Lambda's own)
    max_concurrency: int = 0


RELEASES = Table(
    logical_id="ReleasesTable",
    short="releases",
    env="RELEASES_TABLE",
    pk="pk",  # "REL#<release id>"  (release id: isbn:<13> | jan:<13> | <source>:<code> | ...)
    sk="sk",  # "META" for the release; "REF#<source ref>" for each source that listed it
    indexes=(
        # by month of release: "MONTH#2026-11", sort "2026-11-25#<id>" -> date ranges, this week
        Index("by_month", "gsi1pk", "gsi1sk"),
        # by series key: "SERIES#<series_key>", sort "<date>#<id>" -> follow lists, series filter
        Index("by_series", "gsi2pk", "gsi2sk"),
        # by day first seen: "SEEN#2026-11-22", sort "<first_seen>#<id>" -> "what's new" lists
        Index("by_seen", "gsi3pk", "gsi3sk"),
    ),
    stream="NEW_IMAGE",
    access_patterns=(
        "crawl worker: PutItem META with attribute_not_exists(pk) -> first sighting is 'new'",
        "crawl worker: PutItem REF#<source ref> with attribute_not_exists -> add a source ref",
        "API GET /releases/{id}: Query pk=REL#<id> (META + refs)",
        "API GET /releases/{id}: Query by_series gsi2pk=SERIES#<key>, gsi2sk within +-14 days -> editions of its work",
        "API GET /releases?from&to: Query by_month per month in range (bounded: <= 3 months)",
        "API / Slack follow lists: Query by_series gsi2pk=SERIES#<key>, gsi2sk between dates",
        "API GET /releases (no dates), feeds: Query by_seen per day, newest first (<= 7 days)",
        "fan-out: stream INSERT of sk=META -> 'release.new' event",
        "fan-out: stream MODIFY of sk=META with last_event release.date_changed -> that event (a date move)",
    ),
)

STATE = Table(
    logical_id="StateTable",
    short="state",
    env="STATE_TABLE",
    pk="pk",
    sk="sk",
    indexes=(
        # subscriptions by what they match: "MATCH#series#<key>" / "MATCH#publisher#<key>" /
        # "MATCH#source#<name>" / "MATCH#keyword" / "MATCH#target#<name>" / "MATCH#ops#*"
        Index("by_match", "gsi1pk", "gsi1sk"),
    ),
    stream="NEW_AND_OLD_IMAGES",
    access_patterns=(
        "crawl worker: GetItem pk=SOURCE#<name>, sk=STATE (etag, body hash, item count, health)",
        "crawl worker: UpdateItem SOURCE#<name>/STATE with version condition",
        "crawl dispatch: Query pk=SOURCES (health index: skip sources backing off or not due)",
        "API GET /sources: Query pk=SOURCES (one index item per source, sk=<name>)",
        "ping: Query pk=TARGETS -> runtime-added target configs (sk=<target name>)",
        "ping: GetItem pk=UPTIME, sk=DIRTY (consistent) -> targets whose state is not quiet",
        "ping: BatchGetItem pk=TARGET#<name>, sk=STATE only for dirty or failing targets (<=100 per call)",
        "ping: UpdateItem UPTIME/DIRTY SET/REMOVE T#<name> with a version condition",
        "ping: UpdateItem TARGET#<name>/STATE with version condition (idempotent transitions)",
        "API GET /status/{t}: GetItem TARGET#<t>/STATE",
        "subscriptions: pk=SUB#<destination>, sk=<kind>#<key>; Query pk to list a destination's",
        "fan-out: Query by_match gsi1pk=MATCH#<kind>#<key> -> destinations for an event",
        "fan-out: stream INSERT or MODIFY of TARGET#*/STATE, GROUP#*/STATE or SOURCE#*/STATE with a new last_event",
        "fan-out: digests: PutItem DIGEST#<dest>#<bucket>/<event id>; UpdateItem DIGESTS/<due>#<dest>#<bucket>",
        "digest flush: Query pk=DIGESTS, sk <= now; Query DIGEST#<dest>#<bucket>; BatchWriteItem deletes",
        "fan-out: UpdateItem BURST#<dest>/<hour> (instant posts per hour, position per event id)",
        "slash command: PutItem SLACKREQ#<signature>/<timestamp>, attribute_not_exists(pk) OR "
        "expires_at < now (replay guard; expires by TTL)",
        "Slack events: PutItem SLACKEVT#<event_id>/- attribute_not_exists(pk) OR expires_at < now (retry dedupe)",
        "Slack buttons: PutItem MUTE#<destination>/<series|target>#<key> (until < now) and ACK#<target>/<event id> "
        "(attribute_not_exists); Query MUTE#<destination> for the Home tab; deliverers GetItem the one mute",
        "incident threads: PutItem THREAD#<destination>/target#<name> (parent channel + ts), GetItem on reminder "
        "and recovery; grouped parents: PutItem/UpdateItem ADD THREAD#<destination>/group#<ts>",
    ),
    ttl_attribute="expires_at",
)

CHECKS = Table(
    logical_id="ChecksTable",
    short="checks",
    env="CHECKS_TABLE",
    pk="pk",  # "TICK#<shard>" | "ROLLUP#<target>" | "ROLLUPDONE#<shard>"
    sk="sk",  # tick: "<YYYY-MM-DDTHH:MM>" (schedule time truncated); rollup: "<YYYY-MM-DDTHH>"
    stream="OLD_IMAGE",  # TTL REMOVE of raw ticks -> archive to S3 as NDJSON
    ttl_attribute="expires_at",
    access_patterns=(
        "ping: PutItem TICK#<shard>/<minute> with attribute_not_exists (one write per tick)",
        "ping: PutItem ROLLUP#<target>/<hour> once per hour (minute 5), rebuilt from the hour's TICK "
        "items, then ROLLUPDONE#<shard>/<hour> with the tick count; minute 20 re-reads the hour and "
        "rewrites only if the count changed",
        "ping: Query TICK#<shard> sk between minute+-8 (keys only) for missing-tick detection",
        "API GET /status/{t}: Query ROLLUP#<t> sk between (now-30d, now) (<= 720 items, paged)",
        "API GET /status/{t}: Query TICK#<shard> last N minutes for recent checks",
        "archive: stream REMOVE (TTL) of TICK#* -> s3://bucket/archive/ticks/<day>/...ndjson",
    ),
)

LEDGER = Table(
    logical_id="LedgerTable",
    short="ledger",
    env="LEDGER_TABLE",
    pk="pk",  # "<event id>#<destination>"
    ttl_attribute="expires_at",
    access_patterns=(
        "deliverer: PutItem claim with attribute_not_exists(pk) OR (status=claimed AND stale)",
        "deliverer: UpdateItem status=sent with condition claim token matches",
        "tests/ops: GetItem by (event id, destination)",
    ),
)

TABLES: tuple[Table, ...] = (RELEASES, STATE, CHECKS, LEDGER)

CRAWL_QUEUE = Queue("CrawlQueue", "crawl", "CRAWL_QUEUE_URL", visibility_timeout_s=360)
# Peers rate-limit and fail for minutes at a time: ten receives (with growing visibility backoff)
# before a message counts as poison. Permanent errors skip the count (the deliverer dead-letters).
NOTIFY_SLACK_QUEUE = Queue("NotifySlackQueue", "notify-slack", "NOTIFY_SLACK_QUEUE_URL", max_receive_count=10)
NOTIFY_X_QUEUE = Queue("NotifyXQueue", "notify-x", "NOTIFY_X_QUEUE_URL", max_receive_count=10)
NOTIFY_WEBHOOK_QUEUE = Queue("NotifyWebhookQueue", "notify-webhook", "NOTIFY_WEBHOOK_QUEUE_URL", max_receive_count=10)
NOTIFY_CONSOLE_QUEUE = Queue("NotifyConsoleQueue", "notify-console", "NOTIFY_CONSOLE_QUEUE_URL", max_receive_count=10)

# Slash-command work that does not fit Slack's 3-second budget, answered via response_url.
SLACK_JOBS_QUEUE = Queue("SlackJobsQueue", "slack-jobs", "SLACK_JOBS_QUEUE_URL", visibility_timeout_s=60, max_receive_count=3)

# One message per shard of a minute's ping tick, past NEWBOOKS_PING_SHARD_SIZE targets: each shard
# is its own `ping_shard` invocation, concurrently, idempotent on (minute, shard) through its tick
# item. Visibility exceeds the ping_shard function timeout (Lambda requires it for a mapping).
PING_SHARDS_QUEUE = Queue("PingShardsQueue", "ping-shards", "PING_SHARDS_QUEUE_URL", visibility_timeout_s=90, max_receive_count=3)

# Lambda's OnFailure destination for stream mappings whose records exhausted their retries.
# Nothing consumes it: an operator reads it (alarmed on any message) and its DLQ catches what was
# received too often; both keep messages for 14 days.
STREAM_FAILURES_QUEUE = Queue("StreamFailuresQueue", "stream-failures", "STREAM_FAILURES_QUEUE_URL",
                              max_receive_count=10, retention_s=14 * 24 * 3600, dead_letter_sink=True)

# CloudWatch alarm state changes, from the ops SNS topic (raw message delivery) into our own
# notify pipeline: `ops_alarm` turns each into an `ops.alarm` event for the `ops` subscriptions.
OPS_ALARMS_QUEUE = Queue("OpsAlarmsQueue", "ops-alarms", "OPS_ALARMS_QUEUE_URL", max_receive_count=5)

QUEUES: tuple[Queue, ...] = (
    CRAWL_QUEUE,
    STREAM_FAILURES_QUEUE,
    NOTIFY_SLACK_QUEUE,
    NOTIFY_X_QUEUE,
    NOTIFY_WEBHOOK_QUEUE,
    NOTIFY_CONSOLE_QUEUE,
    SLACK_JOBS_QUEUE,
    PING_SHARDS_QUEUE,
    OPS_ALARMS_QUEUE,
)

DATA_BUCKET = Bucket(
    logical_id="DataBucket",
    short="data",
    env="DATA_BUCKET",
    prefixes=(
        "raw/<sha256>                        raw crawled bodies, content-addressed (stored once)",
        "snapshots/<source>/latest.json      normalized releases of the last good crawl",
        "snapshots/<source>/<YYYY-MM-DD>.json the same, per day",
        "archive/ticks/<YYYY-MM-DD>/<shard>-<minute>.ndjson  expired raw check ticks",
    ),
)

MAPPINGS: tuple[Mapping, ...] = (
    Mapping("crawl_worker", CRAWL_QUEUE.logical_id, batch_size=1),
    Mapping(
        "release_fanout",
        RELEASES.logical_id,
        batch_size=100,
        filter_patterns=('{"eventName": ["INSERT"], "dynamodb": {"Keys": {"sk": {"S": ["META"]}}}}',
                         # issue 12: a date move (crawl/store.py) is a MODIFY carrying its event
                         '{"eventName": ["MODIFY"], "dynamodb": {"Keys": {"sk": {"S": ["META"]}}, "NewImage": '
                         '{"last_event": {"M": {"type": {"S": ["release.date_changed"]}}}}}}'),
    ),
    Mapping(
        "state_fanout",
        STATE.logical_id,
        batch_size=100,
        filter_patterns=('{"eventName": ["INSERT", "MODIFY"], "dynamodb": {"Keys": {"sk": {"S": ["STATE"]}}}}',),
    ),
    Mapping(
        "tick_archiver",
        CHECKS.logical_id,
        batch_size=500,
        max_batching_window_s=60,
        filter_patterns=('{"eventName": ["REMOVE"], "userIdentity": {"type": ["Service"]}}',),
    ),
    Mapping("deliver_slack", NOTIFY_SLACK_QUEUE.logical_id, batch_size=10),
    Mapping("deliver_x", NOTIFY_X_QUEUE.logical_id, batch_size=5),
    Mapping("deliver_webhook", NOTIFY_WEBHOOK_QUEUE.logical_id, batch_size=10),
    Mapping("deliver_console", NOTIFY_CONSOLE_QUEUE.logical_id, batch_size=10),
    Mapping("slack_worker", SLACK_JOBS_QUEUE.logical_id, batch_size=1),
    Mapping("ping_shard", PING_SHARDS_QUEUE.logical_id, batch_size=1, max_concurrency=5),
    Mapping("ops_alarm", OPS_ALARMS_QUEUE.logical_id, batch_size=10),
)


def physical_name(stage: str, short: str) -> str:
    return f"newbooks-{stage}-{short}"


def by_logical_id(logical_id: str) -> Table | Queue | Bucket:
    every: tuple[Table | Queue | Bucket, ...] = (*TABLES, *QUEUES, DATA_BUCKET)
    for resource in every:
        if resource.logical_id == logical_id:
            return resource
    raise KeyError(logical_id)
