"""The senders' shared pieces: the inline 429 retry and the HTTP status classification (pure)."""
from __future__ import annotations

import pytest

from chalicelib.notify.errors import PermanentError, TransientError
from chalicelib.notify.http_post import status_error
from chalicelib.notify.retry import InlineRetry
from chalicelib.notify.slack import classify


class Peer:
    """Answers each call with the next outcome: an exception to raise or a value to return."""

    def __init__(self, *outcomes):
        self.outcomes = list(outcomes)
        self.calls = 0

    def __call__(self):
        self.calls += 1
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def test_a_short_retry_after_is_slept_and_the_call_repeated():
    waits: list[float] = []
    peer = Peer(TransientError("429", retry_after_s=2), "ts-1")
    assert InlineRetry(5, 3, waits.append).run(peer) == "ts-1"
    assert waits == [2] and peer.calls == 2


def test_a_long_wait_or_no_wait_is_handed_back_at_once():
    waits: list[float] = []
    with pytest.raises(TransientError) as long:
        InlineRetry(5, 3, waits.append).run(Peer(TransientError("429", retry_after_s=30)))
    assert long.value.retry_after_s == 30
    peer = Peer(TransientError("502"), "never")
    with pytest.raises(TransientError):
        InlineRetry(5, 3, waits.append).run(peer)
    assert waits == [] and peer.calls == 1


def test_the_last_attempt_raises_even_with_a_short_wait():
    waits: list[float] = []
    peer = Peer(*[TransientError("429", retry_after_s=1, ambiguous=True)] * 2)
    with pytest.raises(TransientError) as caught:
        InlineRetry(5, 2, waits.append).run(peer)
    assert caught.value.ambiguous and waits == [1] and peer.calls == 2


def test_permanent_errors_are_not_retried():
    peer = Peer(PermanentError("bad channel"), "never")
    with pytest.raises(PermanentError):
        InlineRetry(5, 3, lambda s: None).run(peer)
    assert peer.calls == 1


def test_status_error_classes_and_scrubbed_body():
    url = "https://hooks.example.invalid/services/T0/B0/s3cr3t-token"
    rate = status_error("webhook", 429, "", {"Retry-After": "7"}, url)
    assert isinstance(rate, TransientError) and rate.retry_after_s == 7 and rate.reason == "webhook: 429"
    for status in (408, 500, 503):
        err = status_error("teams", status, "oops", {}, url)
        assert isinstance(err, TransientError) and err.reason == f"teams: HTTP {status}" and not err.ambiguous
    bad = status_error("discord", 404, f"unknown webhook {url} s3cr3t-token " + "x" * 500, {}, url)
    assert isinstance(bad, PermanentError) and bad.reason.startswith("discord: HTTP 404 unknown webhook ***")
    assert "s3cr3t" not in bad.reason and len(bad.reason) <= len("discord: HTTP 404 ") + 200
    assert status_error("ntfy", 403, "", {}, url).reason == "ntfy: HTTP 403"


def test_slack_codes():
    assert isinstance(classify(200, "channel_not_found", {}), PermanentError)
    limited = classify(429, None, {"retry-after": "3"})
    assert isinstance(limited, TransientError) and limited.retry_after_s == 3
    assert isinstance(classify(200, "service_unavailable", {}), TransientError)
    assert classify(502, None, {}).reason == "slack: HTTP 502"
