"""Shared e2e fixture: ONE local stack (`python -m devstack`) for the whole session, as a
subprocess on a free port with an API key configured, up and serving crawled releases, stopped
with SIGINT at the end. test_api_schema, test_local_stack and test_pages_chromium all read it
(each stack costs a package, a CloudFormation deploy into moto and a first crawl: about a minute
on this 2-core machine). Tests that need a stack of their own (a fresh newcomer's, a defective
policy, chaos) still start one. Starting and stopping is tests/e2e/stack.py."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.newcomer_testkit import NewcomerRun
from tests.e2e.stack import BOOT_WAIT_S, PAGES_ROTATE_S, REPORT, Stack, get_json, wait_for

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

    def _start(self, rotate_s: float = 3600) -> Stack:
        # one sample week an hour at first (few releases: schemathesis's bounded GET /releases
        # queries stay quick on moto); see PAGES_ROTATE_S for the restart
        self.rotate_s = rotate_s
        return Stack(self.data_dir, self.log_path, env={"API_KEY": STACK_API_KEY}, rotate_s=rotate_s)

    @staticmethod
    def _ready(stack: Stack) -> float:
        """Wait until /releases lists crawled releases and /status has checked every target."""
        wait_for(lambda: (lambda s, b: s == 200 and b["releases"])(*get_json(stack.base + "/releases?limit=1")), BOOT_WAIT_S,
                 "crawled releases on /releases", stack)
        first = time.monotonic() - stack.started
        wait_for(lambda: (lambda s, b: s == 200 and b["targets"] and all(t["last_check"] for t in b["targets"]))(
            *get_json(stack.base + "/status")), BOOT_WAIT_S, "checked targets on /status", stack)
        return first

    @property
    def base(self) -> str:
        return self.stack.base

    def output(self) -> str:
        return self.stack.output()

    def stop(self) -> int:
        return self.stack.stop()

    def restart(self, rotate_s: float = PAGES_ROTATE_S) -> Stack:
        """Start again on the same data dir after `stop()`; returns the new stack once it serves.
        From then on the sample weeks advance every `rotate_s` (test_pages_chromium's busy week)."""
        self.stack = self._start(rotate_s)
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


def _is(item: pytest.Item, module: str) -> bool:
    return _is_module(item.nodeid, module)


# `make test` runs the e2e tests on 2 pytest-xdist workers (`--dist loadgroup`), one group each:
# the tests that start stacks of their own (chaos, the IAM defects, the newcomer's run in the
# background from the group's first test), and the tests on the shared stack. Most of their time
# is waiting on schedules (the serial run used 0.6 of a core).
OWN_STACKS = ("test_chaos", "test_iam_enforced", "test_newcomer")
# test_chaos first (its stack boots before the others'), test_local_stack on the freshly booted
# shared stack (its uptime figures are about a stack's first minutes) and test_api_schema before
# the pages restart it with more weeks.
ORDER = ("test_chaos", "test_local_stack", "test_api_schema", "test_iam_enforced", "test_pages_chromium", "test_newcomer")


def _group(nodeid: str) -> str:
    if "tests/e2e/" not in nodeid:
        return nodeid  # not ours: a work unit of its own
    return "own-stacks" if any(_is_module(nodeid, m) for m in OWN_STACKS) else "shared-stack"


def _is_module(nodeid: str, module: str) -> bool:
    return nodeid.split("::")[0].endswith(f"tests/e2e/{module}.py")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadgroup` by `_group`. (xdist 3.8's own loadgroup renames items through
    `item._nodeid`, which pytest 9 no longer reads, so its xdist_group marks group nothing.)"""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ByGroup(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _group(nodeid)

    return ByGroup(config, log)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Order the e2e tests as ORDER says (others after, in file order)."""
    slots = [n for n, item in enumerate(items) if "tests/e2e/" in item.nodeid]
    chosen = [items[n] for n in slots]
    ordered = [i for m in ORDER for i in chosen if _is(i, m)] + [i for i in chosen if not any(_is(i, m) for m in ORDER)]
    for n, item in zip(slots, ordered, strict=True):
        items[n] = item


@pytest.fixture(scope="session")
def _background_runs():
    runs: dict[str, NewcomerRun] = {}
    yield runs
    for run in runs.values():
        run.stop()


@pytest.fixture(autouse=True)
def _newcomer_in_background(request, _background_runs, tmp_path_factory):
    """Start the newcomer's run (tests/e2e/newcomer_testkit.py) at the first e2e test of
    test_newcomer's group, when it is in the session: its minutes of waiting (the next sample
    week, then a crawl) overlap test_chaos and test_iam_enforced."""
    from devstack.samples import samples_dir

    if ("newcomer" not in _background_runs and samples_dir() is not None
            and any(_is(item, "test_newcomer") and _group(item.nodeid) == _group(request.node.nodeid)
                    for item in request.session.items)):
        _background_runs["newcomer"] = NewcomerRun(tmp_path_factory.mktemp("newcomer"))


@pytest.fixture
def newcomer(_background_runs, tmp_path_factory) -> NewcomerRun:
    """The newcomer's run, started now when no earlier test started it."""
    if "newcomer" not in _background_runs:
        _background_runs["newcomer"] = NewcomerRun(tmp_path_factory.mktemp("newcomer"))
    return _background_runs["newcomer"]


def pytest_sessionfinish(session: pytest.Session) -> None:
    output = getattr(session.config, "workeroutput", None)  # an xdist worker's: sent to the controller
    if output is not None:
        output["newbooks_report"] = dict(REPORT)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:  # the controller: each worker's summary lines
    REPORT.update(getattr(node, "workeroutput", {}).get("newbooks_report", {}))


def pytest_terminal_summary(terminalreporter):
    for line in REPORT.values():
        terminalreporter.write_line(line)
