"""Starting and driving the local stack (`python -m devstack`) as a subprocess, for e2e tests."""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Summary lines e2e tests want printed at the end of the run (see conftest.pytest_terminal_summary).
REPORT: dict[str, str] = {}
# How long a stack may take to deploy and crawl before a test gives up: generous, because up to 8
# people share this 2-core machine (a bound for failing, not a figure: test_local_stack asserts its own)
BOOT_WAIT_S = 300
# pytest-timeout covers fixture setup: a test that boots a stack (or waits for the shared one) gets
# the suite's 300 s plus two boots
BOOTING = pytest.mark.timeout(300 + 2 * BOOT_WAIT_S)
# The session's shared stack (conftest.SharedStack) runs one sample week an hour until the pages
# test restarts it with a week every 30 s, so that it finds a releases week with hundreds of items.
PAGES_ROTATE_S = 30


def copy_project(dest: Path) -> Path:
    """What `make package` and `make run` read, copied (symlinks kept) for a test to alter."""
    import shutil

    for name in ("app.py", "requirements.txt", "chalicelib", "crawlers", "vendor", ".chalice", "infra", "devstack"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, dest / name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_json(url: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        # long enough for a slow answer on a loaded machine: a client that hangs up makes `chalice
        # local` print a BrokenPipeError traceback on the console test_newcomer keeps quiet
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def wait_for(predicate: Callable[[], Any], timeout_s: float, what: str, stack: Stack | None = None) -> Any:
    """Poll until `predicate` is truthy; fail early with the stack's output if it exited."""
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        if stack is not None and stack.proc.poll() is not None:
            raise AssertionError(f"the local stack exited ({stack.proc.returncode}) while waiting for {what}:\n"
                                 + stack.output()[-3000:])
        try:
            last = predicate()
            if last:
                return last
        except (OSError, ValueError, AssertionError):  # not up yet, or not there yet
            pass
        time.sleep(0.5)  # polls are cheap local GETs or file reads; half a second off each wait
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what} (last: {last!r})")


class Stack:
    """The local stack on a free port with its own data dir; output goes to `log_path`. `root`
    runs another copy of the project (tests that change a file the package is built from)."""

    def __init__(self, data_dir: Path, log_path: Path, *, env: dict[str, str | None] | None = None,
                 rotate_s: int = 30, root: Path = ROOT, crawl_every_s: float | None = None):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.data_dir, self.log_path = data_dir, log_path
        self.log = open(log_path, "ab")  # noqa: SIM115  (the stack's log for its whole life; closed on stop)
        self.stop_s: float | None = None
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "devstack", "--port", str(self.port), "--data-dir", str(data_dir),
             "--rotate-s", str(rotate_s), "--build-dir", str(data_dir.parent / "build")]
            + (["--crawl-every-s", str(crawl_every_s)] if crawl_every_s else []),
            cwd=root, stdout=self.log, stderr=subprocess.STDOUT,
            # a None value unsets the variable (a newcomer's shell has no API_KEY)
            env={k: v for k, v in {**os.environ, "PYTHONUNBUFFERED": "1", "NEWBOOKS_LOG_LEVEL": "WARNING",
                                   **(env or {})}.items() if v is not None},
        )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def moto_url(self) -> str:
        found = wait_for(lambda: re.search(r"moto (http://127\.0\.0\.1:\d+)", self.output()), 120, "the moto URL")
        return found.group(1)

    def runner_pid(self) -> int:
        return int(wait_for(lambda: (self.data_dir / "runner.pid").read_text().strip(), 60, "the runner pid"))

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        began = time.monotonic()
        try:
            code = self.proc.wait(timeout=60)
            self.stop_s = time.monotonic() - began
            return code
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            self.log.close()
