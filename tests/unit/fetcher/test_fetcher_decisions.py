"""The pure decisions behind the fetcher (no sockets)."""

from __future__ import annotations

import random
from datetime import datetime, timezone

from hypothesis import given
from hypothesis import strategies as st

from crawlers.fetcher import (
    FetchState,
    backoff_s,
    conditional_headers,
    format_user_agent,
    is_retryable_status,
    next_state,
    parse_retry_after,
)
from crawlers.robots import RobotsPolicy, policy_from_response, product_token


def test_parse_retry_after_forms():
    now = datetime(2024, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Mon, 01 Jan 2024 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Mon, 01 Jan 2024 11:00:00 GMT", now=now) == 0.0  # past
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
    assert parse_retry_after("-5") is None


@given(
    attempt=st.integers(min_value=0, max_value=30),
    base=st.floats(min_value=0.01, max_value=10),
    cap=st.floats(min_value=0.01, max_value=120),
    seed=st.integers(),
)
def test_backoff_is_within_full_jitter_bounds(attempt, base, cap, seed):
    wait = backoff_s(attempt, base_s=base, cap_s=cap, rng=random.Random(seed))
    assert 0.0 <= wait <= min(cap, base * 2**attempt)


def test_retryable_statuses():
    assert [s for s in (200, 304, 400, 404, 429, 500, 503) if is_retryable_status(s)] == [
        429,
        500,
        503,
    ]


def test_conditional_headers_and_user_agent():
    assert conditional_headers(None) == {}
    assert conditional_headers(FetchState(etag='"e"', last_modified="LM")) == {
        "If-None-Match": '"e"',
        "If-Modified-Since": "LM",
    }
    assert format_user_agent("newbooks/1.0", "https://x.example") == (
        "newbooks/1.0 (+https://x.example)"
    )
    assert format_user_agent("newbooks/1.0", None) == "newbooks/1.0"
    assert product_token("newbooks/1.0 (+https://x.example)") == "newbooks"


@given(body=st.binary(max_size=256))
def test_next_state_detects_change_by_hash_only(body):
    changed, state = next_state(None, 200, {}, body)
    assert changed is True
    again, same = next_state(state, 200, {}, body)
    assert (again, same) == (False, state)
    not_modified, kept = next_state(state, 304, {}, b"")
    assert (not_modified, kept) == (False, state)


def test_robots_policy_mapping():
    assert policy_from_response(404, b"").can_fetch("newbooks", "http://h/x")
    assert not policy_from_response(403, b"").can_fetch("newbooks", "http://h/x")
    policy = policy_from_response(200, b"User-agent: newbooks\nDisallow: /a\nRequest-rate: 1/5\n")
    assert not policy.can_fetch("newbooks/1.0", "http://h/a/b")
    assert policy.can_fetch("newbooks/1.0", "http://h/b")
    assert policy.delay_s("newbooks/1.0") == 5.0
    assert RobotsPolicy.allow_all().delay_s("newbooks") is None
    for status in (429, 500, 503):
        try:
            policy_from_response(status, b"")
        except Exception as exc:
            assert type(exc).__name__ == "RobotsUnavailable"
        else:
            raise AssertionError(f"{status} must make robots.txt unavailable")
