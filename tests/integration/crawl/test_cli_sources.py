"""Operator tools: `python -m crawlers NAME --file PATH` parses a saved body with source NAME's
configuration, and `python -m crawlers probe NAME` fetches it once from a real 127.0.0.1 peer and
reports what it parsed, storing nothing."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from devstack.samples import sample_path

ROOT = Path(__file__).resolve().parents[3]
KANG = ("metron-api", "mokkari__issue_series_name_Kang__3053a54_2025-10-26.DERIVED.json")


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    import os

    return subprocess.run([sys.executable, "-m", "crawlers", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, env={**os.environ, **(env or {})})


def test_configured_name_with_file_uses_that_sources_options():
    out = cli("metron", "--file", str(sample_path(*KANG)), "--crawl-date", "2026-12-03")
    assert out.returncode == 0, out.stderr
    records = json.loads(out.stdout)
    raw = json.loads(sample_path(*KANG).read_bytes())["results"]
    assert [r["id"] for r in records] == [f"metron:{item['id']}" for item in raw]
    assert [r["release_date"] for r in records] == [item["store_date"] for item in raw]


def test_probe_fetches_once_and_reports_without_storing(tmp_path):
    from devstack.peers import Peers

    peers = Peers().start()
    try:
        sources = tmp_path / "sources.yaml"
        sources.write_text(
            "sources:\n"
            "  - name: metron-local\n    kind: json\n"
            f"    url: {peers.url}/samples/{'/'.join(KANG)}\n"
            "    enabled: false\n    disabled_reason: unverified until probed\n"
            "    options: {source_name: metron, items: results,"
            " fields: {title: issue, code: to_string(id), release_date: store_date}}\n"
            "  - name: broken\n    kind: json\n"
            f"    url: {peers.url}/samples/metron-api/no-such-file.json\n"
            "    options: {items: results}\n", encoding="utf-8")
        out = cli("probe", "metron-local", "--sources", str(sources), "--allow-private", "--show", "2")
        assert out.returncode == 0, out.stderr
        report = json.loads(out.stdout)
        assert (report["count"], report["pages"], report["requests"], report["ok"]) == (7, 1, 1, True)
        assert [r["id"] for r in report["first"]] == ["metron:52876", "metron:36466"]
        assert report["enabled"] is False and report["disabled_reason"] == "unverified until probed"

        missing = json.loads(cli("probe", "broken", "--sources", str(sources), "--allow-private").stdout)
        assert missing["ok"] is False and "HTTP 404" in missing["error"]

        # Without --allow-private the prod address policy applies: loopback is refused, nothing sent.
        refused = cli("probe", "metron-local", "--sources", str(sources))
        assert refused.returncode == 1 and "refused" in json.loads(refused.stdout)["error"]
    finally:
        peers.stop()


def test_probe_unknown_name_is_one_line():
    out = cli("probe", "nope-not-configured")
    assert out.returncode == 2 and out.stderr.startswith("error: no source named 'nope-not-configured'")
    assert "Traceback" not in out.stderr
