"""Uptime monitoring: Gatus-style targets checked every minute, a per-target PENDING/UP/DOWN
state machine with thresholds, grouped alerts (down, reminders, recovery), hourly rollups and
daily summaries (catch-up on any later tick), heartbeat monitors and a TTL archive.

Modules: `conditions` (pure parser/evaluator), `targets` (config model, YAML loading,
validation), `maintenance` (windows), `ssrf` (address policy), `checker` (asyncio I/O, one
deadline per target), `http1` (linear HTTP/1.1 codec), `resolver` (non-blocking DNS),
`regexcap` (time-capped regex), `rdap` ([DOMAIN_EXPIRATION]), `heartbeat` (pure rules and
verdicts), `decide` (pure state machine), `rollup` (pure aggregation and THE uptime figures),
`store` (DynamoDB/S3 adapter), `service` (`build(settings) -> UptimeService`)."""
