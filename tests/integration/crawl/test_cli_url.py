"""`python -m crawlers <source> --url URL` fetches through the shared polite fetcher from a real
local HTTP server and prints the same records as `--file`."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from devstack.samples import read_sample, sample_path

ROOT = Path(__file__).resolve().parents[3]
WEEK = ("previewsworld-newreleases-txt", "slem1_comicspreviews-parser__catalog-2020-02-19__23c5b25.txt")


def run_cli(*args: str) -> list[dict]:
    out = subprocess.run([sys.executable, "-m", "crawlers", *args], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_url_fetches_and_parses_like_file():
    from devstack.peers import Peers

    codes = set(re.findall(rb"^([A-Z]{3}\d{6})\t", read_sample(*WEEK), re.M))
    peers = Peers().start()
    try:
        by_url = run_cli("previewsworld", "--url", f"{peers.url}/samples/{'/'.join(WEEK)}")
    finally:
        peers.stop()
    by_file = run_cli("previewsworld", "--file", str(sample_path(*WEEK)))
    assert len(by_url) == len(codes)
    assert {r["diamond_code"] for r in by_url} == {c.decode() for c in codes}
    assert by_url == by_file
