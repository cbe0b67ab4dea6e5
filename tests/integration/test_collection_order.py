"""Test folders collect in any order (issue 16 point 8): the pair from the issue, both ways, in
fresh `pytest --collect-only` processes. Every folder alone and every ordered pair:
`make check-collect` (python -m tests.collect_check)."""
from __future__ import annotations

import re

import pytest

from tests.collect_check import collect


@pytest.mark.parametrize("args", [
    ["tests/integration/notify", "tests/integration/fetcher"],
    ["tests/integration/fetcher", "tests/integration/notify"],
])
def test_folder_pairs_collect(args):
    ok, tail = collect(args)
    assert ok, tail
    assert re.fullmatch(r"[1-9][0-9]* tests? collected in [0-9.]+s", tail.splitlines()[-1]), tail
