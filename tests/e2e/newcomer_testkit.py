"""The newcomer's first minutes (tests/e2e/test_newcomer.py), started in the background.

Most of that test is waiting: the follow is made as soon as the API answers, then the next sample
week arrives 120 s after start and one crawl (every 60 s) later the notification prints. The
e2e conftest starts this run before the other e2e tests (after test_chaos, which wants the machine
to itself), so those minutes pass while they run; test_newcomer then joins it and asserts."""
from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.stack import BOOT_WAIT_S, ROOT, Stack, get_json, wait_for


def readme_commands(port: int) -> str:
    """The README's block of local commands (between its newcomer-commands markers), for a stack
    on `port` instead of 8000."""
    import re

    text = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- newcomer-commands -->\s*```sh\n(.*?)```", text, re.S)
    assert block, "README has no newcomer-commands block"
    return block.group(1).replace("127.0.0.1:8000", f"127.0.0.1:{port}")


@dataclass
class FirstMinutes:
    """What the newcomer saw before the notification: for the test to assert on."""
    first_data_s: float
    banner: str
    commands: str
    done: subprocess.CompletedProcess[str]
    followed_at: float


class NewcomerRun:
    """A fresh stack as `make run` starts it (default cadence, no API_KEY or signing secret in the
    environment), and the README's commands run against it as soon as it serves releases."""

    def __init__(self, base_dir: Path):
        self.data_dir, self.log_path = base_dir / "data", base_dir / "console.log"
        self.stack: Stack | None = None
        self.first: FirstMinutes | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="newcomer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self.stack = stack = Stack(self.data_dir, self.log_path, rotate_s=120,
                                       env={"API_KEY": None, "SLACK_SIGNING_SECRET": None})
            wait_for(lambda: (lambda s, b: s == 200 and b["releases"])(*get_json(stack.base + "/releases?limit=1")),
                     BOOT_WAIT_S, "crawled releases on /releases", stack)
            first_data_s = time.monotonic() - stack.started
            banner = stack.output()
            # the README's commands, as written (only the port differs), in a newcomer's shell
            shell_env = {k: v for k, v in os.environ.items() if k not in ("API_KEY", "SLACK_SIGNING_SECRET")}
            shell_env.update(NEWBOOKS_DATA_DIR=str(self.data_dir), NEWBOOKS_PORT=str(stack.port))
            commands = readme_commands(stack.port)
            done = subprocess.run(["bash", "-euo", "pipefail", "-c", commands], cwd=ROOT, env=shell_env,
                                  capture_output=True, text=True, timeout=60)
            self.first = FirstMinutes(first_data_s, banner, commands, done, time.monotonic())
        except BaseException as exc:  # re-raised in the test by `first_minutes()`
            self.error = exc

    def first_minutes(self, timeout_s: float = BOOT_WAIT_S + 120) -> tuple[Stack, FirstMinutes]:
        """Wait for the background part; its failure fails the caller."""
        self._thread.join(timeout_s)
        if self.error is not None:
            raise self.error
        assert self.stack is not None and self.first is not None, "the newcomer's first minutes did not finish"
        return self.stack, self.first

    def stop(self) -> None:
        """Stop the stack if the test did not (a failure before its own stop)."""
        self._thread.join(BOOT_WAIT_S + 120)
        if self.stack is not None and self.stack.proc.poll() is None:
            self.stack.stop()
