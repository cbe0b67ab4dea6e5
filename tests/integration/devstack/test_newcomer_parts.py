"""The local stack's newcomer-facing parts (issue 16): the quiet console and its JSON log file,
one-line start-up errors, the generated local credentials and the Slack signing helper, the
faster local crawl schedule and the rotation over every sample week. The whole path runs in
tests/e2e/test_newcomer.py."""
from __future__ import annotations

import io
import itertools
import json
import logging
import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devstack import console, local_credentials, peers, preflight, slack_sign
from devstack.runner import local_speedup

ROOT = Path(__file__).resolve().parents[3]


def _record(message: str, level: int = logging.INFO, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("newbooks.crawl", level, __file__, 1, message, None, None)
    record.__dict__.update(extra)
    return record


# --- console ---------------------------------------------------------------------------------


def test_crawl_lines_only_when_a_crawl_says_something():
    assert console.crawl_line(_record("source crawled", source="a", new=0, items=9, status="ok")) is None
    assert console.crawl_line(_record("source crawled", source="a", new=3, items=9, status="ok")) == \
        "[newbooks] crawl a: 3 new of 9 (ok)"
    assert "degraded" in console.crawl_line(_record("source crawled", source="a", new=0, items=0, status="degraded"))
    assert "fetch failed (http)" in console.crawl_line(_record("source fetch failed", level=logging.WARNING,
                                                              source="a", kind="http", status="failing"))


def test_console_handler_prints_one_plain_line_per_event_and_drops_info():
    out = io.StringIO()
    handler = console.ConsoleHandler(logging.WARNING, stream=out)
    handler.emit(_record("schedule fired", rule="ping"))  # INFO chatter: not on the console
    handler.emit(_record("source unchanged", source="a"))
    handler.emit(_record("source crawled", source="a", new=2, items=5, status="ok"))
    handler.emit(_record("delivery failed\nsecond line", level=logging.ERROR))
    lines = out.getvalue().splitlines()
    assert lines == ["[newbooks] crawl a: 2 new of 5 (ok)", "[newbooks] error: delivery failed second line"]


def test_console_redacts_known_secrets():
    from chalicelib.log import register_secret

    register_secret("hb-token-7f3a9c")
    out = io.StringIO()
    console.ConsoleHandler(logging.WARNING, stream=out).emit(
        _record("ping failed for /ping/hb-token-7f3a9c", level=logging.WARNING))
    assert "hb-token-7f3a9c" not in out.getvalue() and "***" in out.getvalue()


@pytest.fixture
def newbooks_logger():
    """The "newbooks" logger for a test that runs console.configure(): its handlers and level
    are put back afterwards, so the rest of the run logs as before."""
    root = logging.getLogger("newbooks")
    saved_handlers, saved_level = list(root.handlers), root.level
    yield root
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    for handler in saved_handlers:
        root.addHandler(handler)
    root.setLevel(saved_level)


def test_configure_sends_info_as_json_to_the_file_and_keeps_botocore_quiet(tmp_path, capsys, monkeypatch,
                                                                           newbooks_logger):
    monkeypatch.setenv("NEWBOOKS_LOG_LEVEL", "WARNING")
    path = console.configure(tmp_path)
    log = logging.getLogger("newbooks.test")
    log.info("source unchanged", extra={"source": "x"})
    log.warning("something odd")
    logging.getLogger("botocore.credentials").info("Found credentials in environment variables.")
    for handler in newbooks_logger.handlers:
        handler.flush()
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["message"] for r in rows] == ["source unchanged", "something odd"]
    assert rows[0]["level"] == "INFO" and rows[0]["source"] == "x"
    printed = capsys.readouterr().out
    assert printed == "[newbooks] warning: something odd\n"
    assert not logging.getLogger("botocore.credentials").isEnabledFor(logging.INFO)


# --- start-up errors -------------------------------------------------------------------------


def test_port_in_use_is_one_line_with_the_fix():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        problem = preflight.port_problem(port)
    assert problem and "\n" not in problem and f"port {port}" in problem and "NEWBOOKS_PORT=" in problem
    assert preflight.port_problem(port) is None  # free again


def test_missing_samples_is_one_line_with_the_fix(monkeypatch, tmp_path):
    monkeypatch.setenv("NEWBOOKS_SAMPLES", str(tmp_path / "nowhere"))
    monkeypatch.setattr("devstack.samples.samples_dir", lambda: None)
    problem = preflight.samples_problem()
    assert problem and "\n" not in problem and "NEWBOOKS_SAMPLES=" in problem and "nowhere" in problem


def test_the_shipped_sample_config_loads():
    assert preflight.config_problem(dict(os.environ)) is None


@pytest.mark.parametrize("which,text", [
    ("NEWBOOKS_SOURCES_FILE", "sources:\n  - name: x\n    kind: no-such-kind\n    url: http://127.0.0.1:9/\n"),
    ("NEWBOOKS_SOURCES_FILE", "sources: [unclosed\n"),
    ("NEWBOOKS_TARGETS_FILE", "endpoints:\n  - name: t\n    url: ftp://127.0.0.1/\n"),
])
def test_a_config_file_that_does_not_load_is_one_line_naming_it(tmp_path, which, text):
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    problem = preflight.config_problem({**os.environ, which: str(bad)})
    assert problem and "\n" not in problem and str(bad) in problem and which in problem


def test_the_stack_exits_at_once_with_one_line_when_its_port_is_busy(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "devstack", "--port", str(port), "--no-package",
                               "--data-dir", str(tmp_path / "data")], cwd=ROOT, capture_output=True, text=True,
                              timeout=60)
    assert done.returncode == 2
    assert done.stdout == "" and done.stderr.count("\n") == 1 and f"port {port}" in done.stderr
    assert time.monotonic() - started < 30  # nothing was packaged, deployed or started


# --- local credentials -----------------------------------------------------------------------


def test_local_credentials_are_generated_once_and_kept_private(tmp_path):
    first = local_credentials.ensure(tmp_path, {}, "dev")
    again = local_credentials.ensure(tmp_path, {}, "dev")
    assert first.api_key == again.api_key and first.slack_signing_secret == again.slack_signing_secret
    assert len(first.api_key) > 20 and first.api_key != first.slack_signing_secret
    assert stat.S_IMODE((tmp_path / local_credentials.FILE).stat().st_mode) == 0o600
    assert local_credentials.ensure(tmp_path / "other", {}, "dev").api_key != first.api_key


def test_environment_credentials_win_and_are_not_written(tmp_path):
    got = local_credentials.ensure(tmp_path, {"API_KEY": "from-env-key", "SLACK_SIGNING_SECRET": "from-env-s"}, "dev")
    assert got.environ == {"API_KEY": "from-env-key", "SLACK_SIGNING_SECRET": "from-env-s"}
    assert not (tmp_path / local_credentials.FILE).exists()


def test_local_credentials_refuse_any_stage_but_dev(tmp_path):
    with pytest.raises(ValueError):
        local_credentials.ensure(tmp_path, {}, "prod")
    assert not list(tmp_path.iterdir())


def test_the_banner_curls_carry_the_key_and_the_series():
    creds = local_credentials.LocalCredentials("k-123456", "s-123456", Path("/x/local-credentials.json"))
    lines = local_credentials.howto("http://127.0.0.1:8000", creds, "GROO VS CONAN")
    api = next(line for line in lines if "curl" in line)
    assert "X-Api-Key: k-123456" in api and '"match": "GROO VS CONAN"' in api and api.endswith("/subscriptions")
    assert any("slack_sign 'follow GROO VS CONAN' | sh" in line for line in lines)


def test_slack_sign_makes_a_request_the_real_verifier_accepts():
    from chalicelib.slackbot.verify import Rejected, check_signature

    now = int(time.time())
    body, headers = slack_sign.signed_command("local-secret-1", "follow ONE PIECE", timestamp=now)
    assert check_signature("local-secret-1", headers, body.encode(), now) == (now, headers["X-Slack-Signature"])
    with pytest.raises(Rejected):
        check_signature("another-secret", headers, body.encode(), now)
    assert "text=follow+ONE+PIECE" in body and "127.0.0.1%3A9" in body


def test_slack_sign_cli_reads_the_generated_secret(tmp_path):
    creds = local_credentials.ensure(tmp_path, {}, "dev")
    env = {k: v for k, v in os.environ.items() if k != "SLACK_SIGNING_SECRET"}
    done = subprocess.run([sys.executable, "-m", "devstack.slack_sign", "--data-dir", str(tmp_path),
                           "--url", "http://127.0.0.1:8123", "today"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("curl -s -X POST http://127.0.0.1:8123/slack/commands")
    import hashlib
    import hmac
    import shlex

    words = shlex.split(done.stdout)
    ts = words[words.index("-H", words.index("-H") + 1) + 1].split(": ")[1]
    body = words[words.index("--data") + 1]
    expected = hmac.new(creds.slack_signing_secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    assert f"X-Slack-Signature: v0={expected}" in words
    missing = subprocess.run([sys.executable, "-m", "devstack.slack_sign", "--data-dir", str(tmp_path / "none"), "x"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
    assert missing.returncode == 2 and "make run" in missing.stderr


# --- schedules and rotation ------------------------------------------------------------------


def test_the_local_crawl_schedule_runs_faster_only_where_asked():
    # physical rule names as CloudFormation makes them from the SAM template
    crawl, ping = "newbooks-dev-CrawlDispatchCrawlDispatchEvent-7EQ3ZABS5Y5D", "newbooks-dev-PingPingEvent-1N21ZS56RF5K"
    assert local_speedup(crawl, "rate(1 hour)", {"crawl_dispatch": 60}) == 60
    assert local_speedup(ping, "rate(1 minute)", {"crawl_dispatch": 60}) == 1
    assert local_speedup(ping, "rate(1 minute)", {"ping": 600}) == 1  # never slower than deployed
    assert local_speedup(crawl, "rate(1 hour)", {}) == 1


def test_the_rotation_covers_every_week_then_stays_on_the_last():
    n = len(peers.ROTATING_WEEKS)
    seen = [peers.rotation_index(i * 120 + 1, 120) for i in range(2 * n)]
    assert seen[:n] == list(range(n)) and seen[n:] == [n - 1] * n
    assert peers.rotation_index(-5, 120) == 0


def test_no_week_shrinks_the_list_by_half():
    """A drop below half of the previous crawl marks the source degraded (chalicelib.crawl.health)."""
    from crawlers.sources import previewsworld
    from devstack.samples import sample_path

    sizes = [len(previewsworld.parse(sample_path(*name.split("/")).read_bytes())) for name in peers.ROTATING_WEEKS]
    assert all(after * 2 >= before for before, after in itertools.pairwise(sizes)), sizes


def test_every_previewsworld_sample_week_is_in_the_rotation_and_parses():
    from crawlers.sources import previewsworld
    from devstack.samples import sample_path

    folder = sample_path("previewsworld-newreleases-txt")
    import re

    def week(name: str) -> str:
        return re.search(r"\d{4}-\d{2}-\d{2}", name)[0]

    weeks = {week(p.name) for p in folder.glob("*.txt")}
    assert len(weeks) >= 9
    assert sorted(week(name) for name in peers.ROTATING_WEEKS) == sorted(weeks), "every sample week, once"
    for relative in peers.ROTATING_WEEKS:
        assert len(previewsworld.parse((folder.parent / relative).read_bytes())) > 50, relative


def test_series_arriving_is_new_in_that_week():
    from crawlers.sources import previewsworld
    from devstack.samples import sample_path

    series = peers.series_arriving(1)
    assert series
    week0 = previewsworld.parse(sample_path(*peers.ROTATING_WEEKS[0].split("/")).read_bytes())
    week1 = previewsworld.parse(sample_path(*peers.ROTATING_WEEKS[1].split("/")).read_bytes())
    assert series not in {r.series for r in week0} and series in {r.series for r in week1}


def test_the_shipped_local_targets_only_name_routed_alert_channels(monkeypatch):
    """An unrouted channel makes the fan-out warn on every alert: the sample config must not."""
    import yaml

    from chalicelib.uptime.ssrf import AddressPolicy
    from chalicelib.uptime.targets import load_file

    routes = yaml.safe_load((ROOT / "chalicelib" / "config" / "subscriptions.yaml").read_text())["alert_routes"]
    monkeypatch.setenv("NEWBOOKS_PEERS_URL", "http://127.0.0.1:9")
    config = load_file(ROOT / "devstack" / "config" / "targets.yaml", policy=AddressPolicy(allow_private=True))
    channels = {channel for target in config.targets for channel in target.alerts}
    assert channels and channels <= set(routes) | {"console"}


def test_library_errors_go_to_the_file_not_the_console(tmp_path, capsys, newbooks_logger):
    try:
        path = console.configure(tmp_path)
        logging.getLogger("werkzeug").error("Error on request:\nTraceback (most recent call last): ...")
        for handler in logging.getLogger("werkzeug").handlers:
            handler.flush()
        captured = capsys.readouterr()
        assert "Traceback" not in captured.out + captured.err
        assert "Error on request" in path.read_text()
    finally:
        console.quiet_libraries()
