"""The one in-process retry of the senders (Slack Web API and incoming webhooks, X, webhooks).

A peer that answers 429 names its wait (`TransientError.retry_after_s`). A wait of at most
`max_inline_wait_s` is slept here and the call repeated; a longer wait, a transient error without
a wait, or the last attempt's error is raised, so the deliverer hands the message back to SQS with
that visibility delay instead of holding a Lambda. Any other error is raised at once.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from chalicelib.notify.errors import TransientError

T = TypeVar("T")


class InlineRetry:
    def __init__(self, max_inline_wait_s: float, attempts: int, sleep: Callable[[float], None]) -> None:
        self.max_inline_wait_s = max_inline_wait_s
        self.attempts = max(1, attempts)
        self.sleep = sleep

    def run(self, call: Callable[[], T]) -> T:
        for attempt in range(1, self.attempts + 1):
            try:
                return call()
            except TransientError as exc:
                wait = exc.retry_after_s
                if wait is None or wait > self.max_inline_wait_s or attempt == self.attempts:
                    raise
                self.sleep(wait)
        raise AssertionError("unreachable: the last attempt returns or raises")
