"""Helpers for the crawlers tests: real sample bodies only through devstack.samples."""
from __future__ import annotations

import re

from devstack.samples import read_sample

PW_TXT = "previewsworld-newreleases-txt"
PW_CSV = "previewsworld-newreleases-csv"
IMAGE = "publisher-release-html"
NDL = "ndl-opensearch"
OPENBD = "openbd"
RAKUTEN = "rakuten-books-api"
JP = "jp-publisher-web-manga-html"


def item_codes(folder: str, name: str) -> set[str]:
    """Diamond item codes of a weekly list, found with plain string ops (independent of the parser)."""
    text = read_sample(folder, name).decode("utf-8", "replace")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return {m.group(1) for ln in lines if (m := re.match(r"([A-Z]{3}\d{6})[\t,]", ln))}


def by_id(records):
    return {r.id: r for r in records}
