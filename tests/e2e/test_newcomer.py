"""Issue 16, done-when: a newcomer's first minutes, scripted. A fresh stack (what `make run` runs:
package, deploy, run; no API_KEY or signing secret in the environment), then the README's local
commands as written (credentials from the data dir, a follow through the API, a signed Slack
command), and the follow's notification on the console within 3 minutes, from the next sample
week at the default cadence. The console stays quiet and Ctrl-C stops it within 10 s.

One stack, about 3 minutes: the follow is made as soon as the API answers, and the wait is for
the next sample week (120 s after start) plus one local crawl (every 60 s). Those minutes pass
while other e2e tests run: the stack and the README's commands start in the background
(tests/e2e/newcomer_testkit.py, started by tests/e2e/conftest.py), and this test asserts on them."""
from __future__ import annotations

import json
import re
import time

import pytest

from devstack.samples import samples_dir
from tests.e2e.stack import BOOTING, REPORT, wait_for

pytestmark = [pytest.mark.e2e, BOOTING]  # may wait for a stack to boot (tests/e2e/stack.py)


def test_a_newcomer_follows_a_series_and_sees_its_notification(newcomer):
    if samples_dir() is None:
        pytest.skip("shared samples folder not found: the local stack serves them as its sources")
    from devstack.peers import series_arriving

    series = series_arriving(1)
    assert series
    # the stack started and the README's commands ran in the background (tests/e2e/newcomer_testkit.py)
    stack, first = newcomer.first_minutes()
    log_path, data_dir = stack.log_path, stack.data_dir
    try:
        first_data_s, banner = first.first_data_s, first.banner
        assert f"'follow {series}'" in banner and "X-Api-Key: local-" in banner
        assert series in first.commands, "the README follows the series the next sample week brings"
        done, followed_at = first.done, first.followed_at
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
