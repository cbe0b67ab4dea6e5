"""README command one, driven over HTTP: the local stack started as a subprocess crawls the
sample sources, serves them on /releases, prints notifications, stops cleanly on Ctrl-C
(SIGINT) and remembers what it crawled across a restart."""
from __future__ import annotations

import pytest

from tests.e2e.stack import BOOTING, get_json, wait_for

pytestmark = [pytest.mark.e2e, BOOTING]  # may wait for a stack to boot (tests/e2e/stack.py)


def test_local_stack_crawls_serves_notifies_and_persists(shared_stack):
    """On the session's shared stack (tests/e2e/conftest.py); its restart here is the one the
    later tests of the session then use."""
    stack, log_path, data_dir = shared_stack, shared_stack.log_path, shared_stack.data_dir
    try:
        page = wait_for(lambda: (lambda s, b: b if s == 200 and b["releases"] else None)(*get_json(stack.base + "/releases?limit=5")),
                        90, "crawled releases on /releases")
        assert shared_stack.first_releases_s < 90  # from `python -m devstack` to crawled releases served
        first = page["releases"][0]
        assert first["id"] and first["source"] and first["first_seen"]

        def crawled():
            status, body = get_json(stack.base + "/sources")
            rows = {s["name"]: s for s in body["sources"]} if status == 200 else {}
            return rows if rows.get("previewsworld", {}).get("status") == "ok" else None

        by_name = wait_for(crawled, 90, "previewsworld crawled ok on /sources")
        assert by_name["previewsworld"]["items"] > 50  # the first sample week (devstack.peers.ROTATING_WEEKS) has 94

        # issue 12: the peers shift the sample lists into the current weeks, so this week is not empty
        from datetime import date, timedelta

        monday = date.today() - timedelta(days=date.today().weekday())
        status, week = get_json(stack.base + f"/releases?from={monday}&to={monday + timedelta(days=6)}&limit=50")
        assert status == 200 and week["releases"], "nothing dated this week on a fresh local stack"
        assert all(monday.isoformat() <= r["release_date"] <= (monday + timedelta(days=6)).isoformat()
                   for r in week["releases"])
        assert all(r["category"] != "merchandise" for r in week["releases"])

        def checked():
            status, body = get_json(stack.base + "/status")
            rows = body.get("targets", []) if status == 200 else []
            return rows if rows and all(t["last_check"] for t in rows) else None

        targets = {t["name"]: t for t in wait_for(checked, 90, "check results for every sample target on /status")}
        assert targets["peers-healthy"]["state"] in ("PENDING", "UP")  # new: PENDING until success-threshold passes

        def healthy_up():
            status, body = get_json(stack.base + "/status")
            rows = {t["name"]: t for t in body.get("targets", [])} if status == 200 else {}
            return rows if rows.get("peers-healthy", {}).get("state") == "UP" else None

        targets = wait_for(healthy_up, 150, "peers-healthy decided UP on /status")
        assert targets["peers-healthy"]["uptime"]["24h"] == 1.0  # the minutes not rolled up count at once

        notified = wait_for(lambda: "[newbooks] release.new" in log_path.read_text(errors="replace"), 90,
                            "a release notification line on the console")
        assert notified

        status, problem = get_json(stack.base + "/releases?limit=0")
        assert status == 400 and problem["param"] == "limit"
    finally:
        assert stack.stop() == 0, log_path.read_text()[-3000:]
    assert (data_dir / "state.json").exists()
    # every function ran under its own role with IAM enforced: the shipped policies allow the pipeline
    assert "IAM DENIED" not in log_path.read_text(errors="replace")

    again = shared_stack.restart(shared_stack.rotate_s)  # same data dir and weeks; SIGINT at session end
    status, body = wait_for(lambda: (lambda s, b: (s, b) if s == 200 else None)(*get_json(again.base + "/releases/" + first["id"])),
                            60, "the same release after a restart")
    assert body["first_seen"] == first["first_seen"]  # kept, not re-created
