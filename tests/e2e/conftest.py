"""Shared e2e fixture: ONE local stack (`python -m devstack`) for the whole session, as a
subprocess on a free port with an API key configured, up and serving crawled releases, stopped
with SIGINT at the end. test_api_schema, test_local_stack and test_pages_chromium all read it
(each stack costs a package, a CloudFormation deploy into moto and a first crawl: about a minute
on this 2-core machine). Tests that need a stack of their own (a fresh newcomer's, a defective
policy, chaos) still start one. Starting and stopping is tests/e2e/stack.py."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.e2e.stack import REPORT, Stack, get_json, wait_for

STACK_API_KEY = "e2e-api-key-5d1f"


class SharedStack:
    """The session's local stack. `restart()` stops it with Ctrl-C (SIGINT) and starts it again
    on the same data dir (test_local_stack's persistence check); read `base` when you need it."""

    def __init__(self, base_dir: Path):
        self.api_key = STACK_API_KEY
        self.data_dir, self.log_path = base_dir / "data", base_dir / "stack.log"
        self.stack = self._start()
        try:
            # seconds from start to the first crawled releases on /releases (test_local_stack's bound)
            self.first_releases_s = self._ready(self.stack)
        except BaseException:
            self.stack.stop()
            raise

    def _start(self) -> Stack:
        # rotate_s=30: the sample weeks advance quickly, so the pages test finds a releases week
        # with hundreds of items (test_pages_chromium.BUSY_WEEK_MIN)
        return Stack(self.data_dir, self.log_path, env={"API_KEY": STACK_API_KEY}, rotate_s=30)

    @staticmethod
    def _ready(stack: Stack) -> float:
        """Wait until /releases lists crawled releases and /status has checked every target."""
        wait_for(lambda: (lambda s, b: s == 200 and b["releases"])(*get_json(stack.base + "/releases?limit=1")), 120,
                 "crawled releases on /releases", stack)
        first = time.monotonic() - stack.started
        wait_for(lambda: (lambda s, b: s == 200 and b["targets"] and all(t["last_check"] for t in b["targets"]))(
            *get_json(stack.base + "/status")), 120, "checked targets on /status", stack)
        return first

    @property
    def base(self) -> str:
        return self.stack.base

    def output(self) -> str:
        return self.stack.output()

    def stop(self) -> int:
        return self.stack.stop()

    def restart(self) -> Stack:
        """Start again on the same data dir after `stop()`; returns the new stack once it serves."""
        self.stack = self._start()
        self._ready(self.stack)  # restored from the data dir: releases and checks are there at once
        return self.stack


@pytest.fixture(scope="session")
def shared_stack(tmp_path_factory):
    """The session's local stack with API_KEY set; yields once /releases lists crawled releases
    and /status has checked the sample targets."""
    from devstack.samples import samples_dir

    if samples_dir() is None:
        pytest.skip("shared samples folder not found: the local stack serves them as its sources")
    running = SharedStack(tmp_path_factory.mktemp("shared-stack"))
    try:
        yield running
    finally:
        if running.stack.proc.poll() is None:
            running.stop()


@pytest.fixture
def api_stack(shared_stack) -> SharedStack:
    return shared_stack


def pytest_terminal_summary(terminalreporter):
    for line in REPORT.values():
        terminalreporter.write_line(line)
