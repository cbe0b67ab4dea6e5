"""The environment variables the crawler library reads, each read here and when used (the CLI and
tests change them between calls). crawlers does not import chalicelib (see guard.py), so these
few live apart from chalicelib/settings.py; the README's configuration table lists both files."""
from __future__ import annotations

import os


def _env(name: str, default: str = "") -> str:
    """The one place crawlers reads os.environ."""
    return os.environ.get(name, default)


def contact_url() -> str | None:
    """Named in the User-Agent of one-shot fetches (`python -m crawlers --url`)."""
    return _env("NEWBOOKS_CONTACT_URL") or None


def series_aliases_file() -> str | None:
    """An extra alias list (same JSON shape as crawlers/series_aliases.json) read after the shipped one."""
    return _env("NEWBOOKS_SERIES_ALIASES") or None


def unmerged_releases() -> frozenset[str]:
    """Release ids an operator split off: never folded into another edition's work."""
    return frozenset(x.strip() for x in _env("NEWBOOKS_UNMERGED_RELEASES").split(",") if x.strip())
