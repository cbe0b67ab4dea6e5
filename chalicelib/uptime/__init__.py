"""Uptime monitoring: Gatus-style targets checked every minute, a per-target UP/DOWN state
machine with thresholds, grouped alerts, hourly rollups (written once per hour from the tick
items) and a TTL archive.

Modules: `conditions` (pure parser/evaluator), `targets` (config model, YAML loading,
validation), `maintenance` (windows), `ssrf` (address policy), `checker` (asyncio + h11 I/O),
`decide` (pure state machine), `rollup` (pure aggregation), `store` (DynamoDB/S3 adapter),
`service` (`build(settings) -> UptimeService`)."""
