"""AWS requests of an unchanged re-crawl of every sample source (goal: 0 S3 puts, 0 DynamoDB writes).

Method: moto `mock_aws` with every declared resource; the local peers server
(devstack/peers.py) serves the real sample bodies on 127.0.0.1 with ETags; each source in
devstack/config/sources.yaml is crawled once (the baseline: a first crawl's requests), then again
for the next schedule hour. botocore `before-call` hooks count requests per operation.
Every source must be ok after its first crawl (the bench stops otherwise). Kinds include the generic
json (paged) and feed kinds (metron, rakuten-2026, gigaviewer-zenon) and, bench only, the table kind.
Last line: {"bench": "recrawl", "sources", "s3_puts", "ddb_writes", "first_crawl": {...}}.
"""
from __future__ import annotations

import json
import os
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


def main() -> None:
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1",
                      NEWBOOKS_STAGE="bench", NEWBOOKS_SSM_DISABLED="1", NEWBOOKS_LOG_LEVEL="ERROR")
    os.environ.pop("AWS_ENDPOINT_URL", None)
    from moto import mock_aws

    from devstack.peers import Peers
    from devstack.samples import samples_dir

    if samples_dir() is None:
        raise SystemExit("shared samples folder not found: set NEWBOOKS_SAMPLES")
    peers = Peers(rotate_s=10**9).start()
    os.environ["NEWBOOKS_PEERS_URL"] = peers.url
    os.environ["NEWBOOKS_SOURCES_FILE"] = str(ROOT / "devstack" / "config" / "sources.yaml")
    try:
        with mock_aws():
            first, again = run()
    finally:
        peers.stop()
    s3_puts = again["PutObject"]
    ddb_writes = sum(again[op] for op in WRITES)
    print("method: moto mock_aws, samples served on 127.0.0.1 with ETags, botocore before-call hooks")
    print(f"first crawl requests: {dict(first)}")
    print(f"unchanged re-crawl requests: {dict(again)}")
    print(f"kinds crawled: {again.get('_kinds')}")
    print(json.dumps({"bench": "recrawl", "sources": again.get("_sources", 0), "s3_puts": s3_puts,
                      "ddb_writes": ddb_writes, "first_crawl": {"s3_puts": first["PutObject"],
                      "ddb_writes": sum(first[op] for op in WRITES)}}))


def run() -> tuple[Counter, Counter]:
    from chalicelib import aws, bootstrap
    from chalicelib.crawl.service import build
    from chalicelib.settings import get_settings
    from crawlers.fetcher import Fetcher
    from devstack.deploy import deploy_resources

    os.environ.update(deploy_resources("bench"))
    bootstrap.reset()
    service = build(get_settings())
    service.fetcher_factory = lambda: Fetcher(user_agent="newbooks-bench", min_host_delay_s=0, sleep=lambda s: None)
    counts: Counter = Counter()

    def record(model, **_kwargs):
        counts[model.name] += 1

    for client in (aws.client("s3"), aws.resource("dynamodb").meta.client):
        client.meta.events.register("before-call.*.*", record)
    from chalicelib.crawl.sources_config import SourceConfig

    # The table kind too (bench only, not in the local stack: its ids would duplicate previewsworld-csv's
    # releases under another source name): a real PREVIEWSworld CSV read by column position.
    csv_url = (os.environ["NEWBOOKS_PEERS_URL"] + "/samples/previewsworld-newreleases-csv/"
               "vokurka_comics__raw_Export_csv_releaseDate_2017-03-08.csv")
    service.sources = [*service.sources, SourceConfig("table-csv", "table", (csv_url,), {
        "source_name": "pw-table", "header": False, "columns": {"code": 1, "title": 2, "price": 3},
        "code_pattern": r"^[A-Z]{3}\d{6}$", "currency": "USD"})]
    names = [s.name for s in service.sources if s.enabled]
    for name in names:
        service.crawl({"schema_version": 1, "source": name, "scheduled_at": "2026-11-22T10:00Z"})
    first = counts.copy()
    counts.clear()
    for name in names:
        service.crawl({"schema_version": 1, "source": name, "scheduled_at": "2026-11-22T11:00Z"})
    again = counts.copy()
    again["_sources"] = len(names)
    again["_kinds"] = ", ".join(sorted({s.kind for s in service.sources if s.enabled}))  # type: ignore[assignment]
    for name in names:  # every source parsed: a degraded one would not show the re-crawl cost
        status = service.states.get(name).get("status")
        if status != "ok":
            raise SystemExit(f"source {name} is {status} after its first crawl: {service.states.get(name).get('reason')}")
    return first, again


if __name__ == "__main__":
    main()
