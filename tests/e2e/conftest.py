"""Shared e2e fixture: the local stack (`python -m devstack`) as a subprocess on a free port with
an API key configured, up and serving crawled releases, stopped with SIGINT afterwards.
(test_local_stack.py keeps its own start/stop/restart logic; this one serves the API tests.)"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STACK_API_KEY = "e2e-api-key-5d1f"


@dataclass
class RunningStack:
    base: str
    api_key: str
    log_path: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get_json(url: str) -> tuple[int, object]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def _wait(predicate, timeout_s: float, what: str, proc: subprocess.Popen, log_path: Path):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the local stack exited ({proc.returncode}) while waiting for {what}:\n"
                                 + log_path.read_text(errors="replace")[-3000:])
        try:
            if predicate():
                return
        except (OSError, ValueError):
            pass
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")


@pytest.fixture(scope="module")
def api_stack(tmp_path_factory):
    """The local stack with API_KEY set; yields once /releases lists crawled releases and /status
    has checked the sample targets."""
    from devstack.samples import samples_dir

    if samples_dir() is None:
        pytest.skip("shared samples folder not found: the local stack serves them as its sources")
    base_dir = tmp_path_factory.mktemp("api-stack")
    log_path = base_dir / "stack.log"
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "devstack", "--port", str(port), "--data-dir", str(base_dir / "data"),
             "--rotate-s", "3600"],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", "NEWBOOKS_LOG_LEVEL": "WARNING", "API_KEY": STACK_API_KEY},
        )
    try:
        _wait(lambda: (lambda s, b: s == 200 and b["releases"])(*_get_json(base + "/releases?limit=1")), 90,
              "crawled releases on /releases", proc, log_path)
        _wait(lambda: (lambda s, b: s == 200 and b["targets"] and all(t["last_check"] for t in b["targets"]))(
            *_get_json(base + "/status")), 90, "checked targets on /status", proc, log_path)
        yield RunningStack(base, STACK_API_KEY, log_path)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
