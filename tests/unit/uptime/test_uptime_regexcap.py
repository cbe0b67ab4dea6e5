"""regexcap: a backtracking regex is killed at its time cap; normal ones answer."""
from __future__ import annotations

import asyncio
import re

import pytest

from chalicelib.uptime import regexcap


def test_answers_match_and_no_match():
    assert asyncio.run(regexcap.search(re.compile(r"^ok\d+$"), "ok42", 2.0)) is True
    assert asyncio.run(regexcap.search(r"^ok\d+$", "no", 2.0)) is False


def test_catastrophic_backtracking_is_killed_at_the_cap():
    async def go():
        other = asyncio.create_task(asyncio.sleep(0.05, "loop stayed free"))
        with pytest.raises(regexcap.RegexTimeout):
            await regexcap.search(r"^(a+)+$", "a" * 40 + "!", 0.3)
        return await other

    assert asyncio.run(go()) == "loop stayed free"


def test_no_time_left_is_a_timeout_without_forking():
    with pytest.raises(regexcap.RegexTimeout):
        asyncio.run(regexcap.search(r"x", "x", 0))
