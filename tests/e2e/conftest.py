"""Shared e2e fixture: the local stack (`python -m devstack`) as a subprocess on a free port with
an API key configured, up and serving crawled releases, stopped with SIGINT afterwards.
Starting and stopping is tests/e2e/stack.py, shared by every e2e test."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.stack import REPORT, Stack, get_json, wait_for

STACK_API_KEY = "e2e-api-key-5d1f"


@dataclass
class RunningStack:
    base: str
    api_key: str
    log_path: Path


@pytest.fixture(scope="module")
def api_stack(tmp_path_factory):
    """The local stack with API_KEY set; yields once /releases lists crawled releases and /status
    has checked the sample targets."""
    from devstack.samples import samples_dir

    if samples_dir() is None:
        pytest.skip("shared samples folder not found: the local stack serves them as its sources")
    base_dir = tmp_path_factory.mktemp("api-stack")
    stack = Stack(base_dir / "data", base_dir / "stack.log", env={"API_KEY": STACK_API_KEY}, rotate_s=3600)
    try:
        wait_for(lambda: (lambda s, b: s == 200 and b["releases"])(*get_json(stack.base + "/releases?limit=1")), 90,
                 "crawled releases on /releases", stack)
        wait_for(lambda: (lambda s, b: s == 200 and b["targets"] and all(t["last_check"] for t in b["targets"]))(
            *get_json(stack.base + "/status")), 90, "checked targets on /status", stack)
        yield RunningStack(stack.base, STACK_API_KEY, stack.log_path)
    finally:
        stack.stop()


def pytest_terminal_summary(terminalreporter):
    for line in REPORT.values():
        terminalreporter.write_line(line)
