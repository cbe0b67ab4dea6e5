"""Deferred commands end to end: signed request -> queued job -> `slack_worker` Lambda handler ->
POST to a real response_url server on 127.0.0.1; each reply checked block by block."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from chalicelib.slackbot.service import week_range


def _today() -> date:
    return datetime.now(timezone.utc).date()


def _run(slack, text, **kw):
    assert slack.command(text, **kw).status_code == 200
    result = slack.run_worker()
    assert result == {"batchItemFailures": []}
    (message,) = slack.responses.messages()
    slack.responses.requests.clear()
    return message


def _release_sections(message):
    return [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]


@pytest.fixture
def catalog(slack):
    today = _today()
    monday, sunday = (date.fromisoformat(d) for d in week_range(today))
    next_monday = monday + timedelta(days=7)
    slack.seed_release("isbn:9784088837000", today.isoformat(), "ワンピース 110", "ワンピース", volume="110",
                       publisher="集英社", isbn13="9784088837000", url="https://example.com/op110")
    slack.seed_release("isbn:9784088837017", (monday if today != monday else sunday).isoformat(),
                       "<!channel> SPY×FAMILY 15", "SPY×FAMILY", publisher="集英社", isbn13="9784088837017",
                       url="javascript:alert(1)")
    slack.seed_release("diamond:NOV260001", next_monday.isoformat(), "Saga #70", "Saga", publisher="Image",
                       diamond_code="NOV260001", url="https://example.com/saga70")
    slack.seed_release("isbn:9784088830001", (monday - timedelta(days=10)).isoformat(), "ワンピース 109", "ワンピース",
                       isbn13="9784088830001")
    # merchandise this week: left out of `week`, listed by `week merch`
    slack.seed_release("diamond:NOV260002", today.isoformat(), "SAGA LYING CAT PLUSH", "SAGA LYING CAT PLUSH",
                       publisher="Image", category="merchandise", diamond_code="NOV260002")
    return {"today": today, "monday": monday, "sunday": sunday, "next_monday": next_monday}


def test_default_lists_this_weeks_releases_of_followed_series_only(slack, catalog):
    slack.command("follow ワンピース")
    message = _run(slack, "")
    assert message["response_type"] == "ephemeral"
    types = [b["type"] for b in message["blocks"]]
    assert types == ["header", "context", "context", "section"]  # note, publisher, release
    assert message["blocks"][2]["elements"][0]["text"] == "*集英社* (1)"
    assert message["blocks"][0]["text"]["text"] == f"This week: {catalog['monday']} – {catalog['sunday']}"
    assert message["blocks"][1]["elements"][0]["text"] == "For the 1 series this channel follows."
    (line,) = _release_sections(message)
    assert line.startswith("*<https://example.com/op110|ワンピース 110>*")
    assert f"{catalog['today']} · 集英社 · ISBN 9784088837000" in line
    # went to the response_url with slack-sdk's webhook client
    assert "ワンピース 109" not in str(message)


def test_default_with_no_follows_says_how_to_follow(slack, catalog):
    message = _run(slack, "")
    assert [b["type"] for b in message["blocks"]] == ["header", "section"]
    assert "follows no series yet" in message["blocks"][1]["text"]["text"]


def test_week_today_next_bucket_by_release_date_and_escape_titles(slack, catalog):
    week = _run(slack, "week")
    assert [b["type"] for b in week["blocks"]] == ["header", "context", "section", "section"]  # one publisher
    lines = _release_sections(week)
    assert any("ワンピース 110" in line for line in lines)
    spy = next(line for line in lines if "SPY" in line)
    assert "&lt;!channel&gt; SPY×FAMILY 15" in spy and "<!channel>" not in spy
    assert "javascript" not in spy  # not an http(s) link: plain text

    today = _run(slack, "今日")
    assert today["blocks"][0]["text"]["text"] == f"Releases today ({catalog['today']})"
    assert len(_release_sections(today)) == 1 and "ワンピース 110" in _release_sections(today)[0]

    nxt = _run(slack, "next")
    start, end = week_range(catalog["today"], 1)
    assert nxt["blocks"][0]["text"]["text"] == f"Next week: {start} – {end}"
    (saga,) = _release_sections(nxt)
    assert saga.startswith("*<https://example.com/saga70|Saga #70>*") and "NOV260001" in saga


def test_search_by_title_series_and_isbn(slack, catalog):
    found = _run(slack, "search　ﾜﾝﾋﾟｰｽ")  # half-width kana: NFKC meets the stored title
    assert [b["type"] for b in found["blocks"]][:2] == ["header", "context"]
    assert found["blocks"][0]["text"]["text"] == "Search results"
    titles = [line.split("|", 1)[1].split(">", 1)[0] if "|" in line else line for line in _release_sections(found)]
    assert titles[0] == "ワンピース 110"  # newest first
    assert any("ワンピース 109" in line for line in _release_sections(found))
    assert not any("Saga" in line for line in _release_sections(found))

    by_isbn = _run(slack, "search 978-4-08-883700-0")
    assert by_isbn["blocks"][1]["elements"][0]["text"] == "ISBN 9784088837000"
    (line,) = _release_sections(by_isbn)
    assert "ワンピース 110" in line

    nothing = _run(slack, "search まったくない本")
    assert _release_sections(nothing) == ["Nothing found. Try fewer words, the series name, or an ISBN."]


def test_status_lists_targets_down_first(slack, tmp_path, monkeypatch):
    from chalicelib import bootstrap

    targets = tmp_path / "targets.yaml"
    targets.write_text("endpoints:\n"
                       "  - {name: alpha-api, group: web, url: 'http://127.0.0.1:9/a', conditions: ['[STATUS] == 200']}\n"
                       "  - {name: zulu-db, group: data, url: 'http://127.0.0.1:9/z', conditions: ['[STATUS] == 200']}\n",
                       encoding="utf-8")
    monkeypatch.setenv("NEWBOOKS_TARGETS_FILE", str(targets))
    monkeypatch.setenv("NEWBOOKS_PUBLIC_URL", "http://127.0.0.1:8765")  # the stack's real port, not 8000
    bootstrap.reset()
    slack.state.put_item(Item={"pk": "TARGET#alpha-api", "sk": "STATE", "status": "UP", "version": 3})
    slack.state.put_item(Item={"pk": "TARGET#zulu-db", "sk": "STATE", "status": "DOWN", "version": 5})
    message = _run(slack, "status")
    assert [b["type"] for b in message["blocks"]] == ["header", "context", "section", "section", "context"]
    assert message["blocks"][0]["text"]["text"] == "Uptime status"
    assert message["blocks"][1]["elements"][0]["text"].startswith(":red_circle: 1 down · :large_green_circle: 1 up")
    assert message["blocks"][2]["text"]["text"].startswith(":red_circle: *zulu-db* DOWN")
    assert message["blocks"][3]["text"]["text"].startswith(":large_green_circle: *alpha-api* UP")
    assert "<http://127.0.0.1:8765/pages/status|status page>" in message["blocks"][4]["elements"][0]["text"]


def test_redelivery_5xx_and_404_on_the_response_url(slack, catalog):
    slack.command("week")
    (job,) = slack.queued()
    assert slack.run_worker([job]) == {"batchItemFailures": []}
    assert slack.run_worker([job]) == {"batchItemFailures": []}  # SQS at-least-once: same message again
    (request,) = slack.responses.requests  # answered once
    assert slack.last_response_url.endswith(request.path) and request.path.startswith("/commands/T1/")
    assert request.headers["content-type"].startswith("application/json")
    slack.responses.requests.clear()

    slack.command("week")
    (job,) = slack.queued()
    slack.responses.statuses = [500]
    failed = slack.run_worker([job])
    assert failed == {"batchItemFailures": [{"itemIdentifier": job["message"]["MessageId"]}]}
    assert slack.run_worker([job]) == {"batchItemFailures": []}  # the retry answers
    assert len(slack.responses.requests) == 2

    slack.command("today")
    (job,) = slack.queued()
    slack.responses.statuses = [404]
    assert slack.run_worker([job]) == {"batchItemFailures": []}  # expired_url: retrying cannot help
    assert slack.run_worker([job]) == {"batchItemFailures": []}
    assert len(slack.responses.requests) == 3  # the 404 was not retried by the redelivery


def test_foreign_response_url_is_never_called_and_unknown_job_version_fails(slack, catalog, monkeypatch):
    import json

    from chalicelib import bootstrap

    slack.command("week")
    # chalice.test.Client applies the dev stage's config.json environment (private targets on)
    # during requests; the worker here runs with prod's setting
    monkeypatch.setenv("NEWBOOKS_ALLOW_PRIVATE_TARGETS", "false")
    bootstrap.reset()
    assert slack.run_worker() == {"batchItemFailures": []}
    assert slack.responses.requests == []

    slack.sqs.send_message(QueueUrl=slack.env["SLACK_JOBS_QUEUE_URL"],
                           MessageBody=json.dumps({"schema_version": 99, "command": "week"}))
    (job,) = slack.queued()
    assert slack.run_worker([job])["batchItemFailures"] == [{"itemIdentifier": job["message"]["MessageId"]}]


def test_week_merch_lists_merchandise_only(slack, catalog):
    week = _run(slack, "week")
    assert "PLUSH" not in str(week)
    merch = _run(slack, "week merch")
    assert merch["blocks"][0]["text"]["text"].endswith("· merchandise")
    (line,) = _release_sections(merch)
    assert "SAGA LYING CAT PLUSH" in line
    everything = _run(slack, "week all")
    assert any("PLUSH" in line for line in _release_sections(everything))
    assert any("ワンピース 110" in line for line in _release_sections(everything))


def test_search_finds_releases_years_old_and_collapses_variants(slack, catalog):
    """Titles dated years back (the shared samples are 2016-2022) are found by text, not only by
    series name, and cover variants of one issue are one line."""
    for n, cover in enumerate(("CVR A SMITH", "CVR B JONES", "CVR C 1:25 INCV")):
        slack.seed_release(f"diamond:MAR180{n:03d}", "2018-05-02", f"ANCIENT GHOSTS #4 {cover}", "ANCIENT GHOSTS",
                           publisher="IMAGE COMICS", volume="4", issue="4", diamond_code=f"MAR180{n:03d}",
                           flags=[] if n == 0 else ["variant"], work="ancientghosts|4|comic")
    found = _run(slack, "search ghosts #4")
    lines = _release_sections(found)
    (line,) = [line for line in lines if "ANCIENT GHOSTS" in line]
    assert "ANCIENT GHOSTS #4 CVR A SMITH" in line and "3 editions: CVR A SMITH, CVR B JONES, CVR C 1:25 INCV" in line
    note = found["blocks"][1]["elements"][0]["text"]
    assert "(at most 12 reads)" in note and "dated 2016-" in note
