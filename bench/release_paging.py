"""What a filtered GET /releases page reads: rows returned, Queries, items read, under moto.

    .venv/bin/python bench/release_paging.py [--crowd 2000]

Data: `--crowd` openbd releases first seen today (newest first), then 3 ndl releases first seen
two days ago, in the releases table created by devstack.deploy under moto `mock_aws`.
Two filters, first page, limit 2: sparse `source=ndl` (3 matches behind the crowd) and dense
`source=openbd` (every row matches). Two strategies of `chalicelib.queries.ReleaseQueries`, in
the same run on the same table:
  baseline  the previous fixed read: Query pages of 25 items, at most 12 Queries;
  growing   the current read: first page max(limit, 25) items, then 4x after a page whose rows the
            filters dropped, up to 1000.
Items read = the sum of the Queries' ScannedCount (what DynamoDB bills read units for: the
items read before in-memory filtering). Last line: JSON with both, and ratios growing/baseline.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1",
                   "NEWBOOKS_SSM_DISABLED": "1"})
os.environ.pop("AWS_ENDPOINT_URL", None)


class Counting:
    """The table, with every Query's ScannedCount added up."""

    def __init__(self, table: Any) -> None:
        self.table, self.queries, self.items = table, 0, 0

    def query(self, **kwargs: Any) -> dict[str, Any]:
        page: dict[str, Any] = self.table.query(**kwargs)
        self.queries += 1
        self.items += int(page.get("ScannedCount", len(page.get("Items", []))))
        return page


def seed(table: Any, crowd: int) -> None:
    from chalicelib.crawl.store import release_item

    now = datetime.now(timezone.utc).replace(microsecond=0)
    rows = [({"id": f"isbn:97841{n:08d}", "source": "openbd", "title": f"Crowd {n}", "series": f"Crowd {n}"},
             now - timedelta(seconds=n + 1)) for n in range(crowd)]
    rows += [({"id": f"ndl:R{n}", "source": "ndl", "title": f"名探偵コナン {n}", "series": "名探偵コナン"},
              now - timedelta(days=2, minutes=n)) for n in range(3)]
    with table.batch_writer() as batch:
        for record, seen in rows:
            batch.put_item(Item=release_item(record, series_key=record["series"], first_seen=seen.strftime("%Y-%m-%dT%H:%M:%SZ")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--crowd", type=int, default=2000)
    args = parser.parse_args(argv)
    from moto import mock_aws

    from chalicelib import aws
    from chalicelib.queries import ReleaseQueries
    from devstack.deploy import deploy_resources

    with mock_aws():
        env = deploy_resources("bench")
        aws.reset()
        table = aws.table(env["RELEASES_TABLE"])
        seed(table, args.crowd)
        out: dict[str, Any] = {"bench": "release_paging", "crowd": args.crowd, "limit": 2}
        for case in ("ndl", "openbd"):
            for strategy, filtered_read in (("baseline", 25), ("growing", 1000)):
                counting = Counting(table)
                page = ReleaseQueries(counting, sources={}, filtered_read=filtered_read).list({"source": case, "limit": "2"})
                out[f"{case}_{strategy}"] = {"rows": len(page["releases"]), "queries": counting.queries,
                                             "items_read": counting.items, "partial": page["partial"] is not None}
                print(f"source={case} {strategy:8} rows={len(page['releases'])} queries={counting.queries} "
                      f"items_read={counting.items} partial={page['partial'] is not None}")
            base, grow = out[f"{case}_baseline"], out[f"{case}_growing"]
            out[f"{case}_items_ratio"] = round(grow["items_read"] / max(1, base["items_read"]), 2)
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
