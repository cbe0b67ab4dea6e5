"""Importing `crawlers` stays light, checked in a fresh interpreter (a subprocess; moved from
tests/unit/crawlers/test_crawl_normalize.py)."""
from __future__ import annotations

import subprocess
import sys


def test_import_is_light():
    code = "import sys, crawlers; print(sorted(m for m in ('bs4', 'defusedxml', 'yaml', 'httpx') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
