"""Issue 16, done-when: a newcomer's first minutes, scripted. A fresh stack (what `make run` runs:
package, deploy, run; no API_KEY or signing secret in the environment), then the README's local
commands as written (credentials from the data dir, a follow through the API, a signed Slack
command), and the follow's notification on the console within 3 minutes, from the next sample
week at the default cadence. The console stays quiet and Ctrl-C stops it within 10 s.

One stack, about 3 minutes: the follow is made as soon as the API answers, and the wait is for
the next sample week (120 s after start) plus one local crawl (every 60 s)."""
from __future__ import annotations

import json
import os
import re
import subprocess
import time

import pytest

from devstack.samples import samples_dir
from tests.e2e.stack import REPORT, ROOT, Stack, get_json, wait_for

pytestmark = pytest.mark.e2e


def readme_commands(port: int) -> str:
    """The README's block of local commands (between its newcomer-commands markers), for a stack
    on `port` instead of 8000."""
    text = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- newcomer-commands -->\s*```sh\n(.*?)```", text, re.S)
    assert block, "README has no newcomer-commands block"
    return block.group(1).replace("127.0.0.1:8000", f"127.0.0.1:{port}")


def test_a_newcomer_follows_a_series_and_sees_its_notification(tmp_path):
    if samples_dir() is None:
        pytest.skip("shared samples folder not found: the local stack serves them as its sources")
    from devstack.peers import series_arriving

    data_dir, log_path = tmp_path / "data", tmp_path / "console.log"
    # the default cadence (make run's), and none of the credentials a newcomer would not have
    stack = Stack(data_dir, log_path, rotate_s=120, env={"API_KEY": None, "SLACK_SIGNING_SECRET": None})
    series = series_arriving(1)
    assert series
    try:
        wait_for(lambda: (lambda s, b: s == 200 and b["releases"])(*get_json(stack.base + "/releases?limit=1")),
                 120, "crawled releases on /releases", stack)
        first_data_s = time.monotonic() - stack.started
        banner = stack.output()
        assert f"'follow {series}'" in banner and "X-Api-Key: local-" in banner

        # the README's commands, as written (only the port differs), in a newcomer's shell
        shell_env = {k: v for k, v in os.environ.items() if k not in ("API_KEY", "SLACK_SIGNING_SECRET")}
        shell_env.update(NEWBOOKS_DATA_DIR=str(data_dir), NEWBOOKS_PORT=str(stack.port))
        commands = readme_commands(stack.port)
        assert series in commands, "the README follows the series the next sample week brings"
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", commands], cwd=ROOT, env=shell_env,
                              capture_output=True, text=True, timeout=60)
        followed_at = time.monotonic()
        assert done.returncode == 0, done.stdout + done.stderr
        answers = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        assert any(a.get("kind") == "series" and a.get("label") == series for a in answers), done.stdout
        assert any("follows" in a.get("text", "") for a in answers), done.stdout  # the Slack command's answer

        line = f"[newbooks] release.new -> console: | {series}"
        wait_for(lambda: line.lower() in stack.output().lower(), 180, f"the notification of {series}", stack)
        notified_s = time.monotonic() - followed_at
        first_notification_s = time.monotonic() - stack.started
    finally:
        code = stack.stop()
    console = log_path.read_text(errors="replace")
    assert code == 0, console[-3000:]
    assert stack.stop_s is not None and stack.stop_s < 10, f"Ctrl-C took {stack.stop_s:.1f} s"
    REPORT["newcomer"] = (f"newcomer: first data {first_data_s:.0f} s, follow -> notification {notified_s:.0f} s, "
                          f"first notification of the followed series {first_notification_s:.0f} s after start, "
                          f"stop {stack.stop_s:.1f} s")

    # a quiet console: no library chatter, no access log (nor the tokens in its paths), no tracebacks
    for noise in ("Found credentials", "Found endpoint", '"GET /', "HTTP/1.1\" 200", "Aborted!", "Traceback",
                  "Serving on", "[newbooks] warning:", '"level": "INFO"'):
        assert noise not in console, f"{noise!r} on the console"
    # ...and every line is a meaningful event or the banner
    events = [ln for ln in console.splitlines() if ln.startswith("[newbooks] ")]
    meaningful = re.compile(r"\[newbooks\] (crawl |release\.|target\.|ops\.|source\.|alarm |ALARM |OK |error: )")
    assert events and all(meaningful.match(ln) for ln in events), [ln for ln in events if not meaningful.match(ln)]
    # INFO logs, as JSON, in the data dir for those who want them
    rows = [json.loads(ln) for ln in (data_dir / "logs" / "newbooks.jsonl").read_text().splitlines()]
    assert any(r["message"] == "source crawled" and r["level"] == "INFO" for r in rows)
    assert not any(r.get("logger", "").startswith("botocore") for r in rows)
