"""Pure Block Kit builders: structure, escaping, Slack's limits."""
from __future__ import annotations

from types import SimpleNamespace

from chalicelib.slackbot import blocks as b
from chalicelib.slackbot.commands import parse


def _validate(reply):
    """Round-trip through slack_sdk's models: they raise on Block Kit limit violations."""
    from slack_sdk.models.blocks import Block

    assert reply["response_type"] == "ephemeral"
    assert reply["text"]
    assert 1 <= len(reply["blocks"]) <= 50
    for block in reply["blocks"]:
        Block.parse(block).validate_json()
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
    return reply["blocks"]


def test_help_lists_every_subcommand():
    blocks = _validate(b.help_reply(parse("help")))
    assert [x["type"] for x in blocks] == ["header", "section", "context"]
    usage = blocks[1]["text"]["text"].splitlines()
    assert len(usage) == 9
    for word in ("today", "search", "follow", "unfollow", "following", "status", "help"):
        assert any(f" {word}" in line or f"`{word}`" in line for line in usage), word


def test_unknown_word_is_escaped_and_cannot_break_out_of_code():
    blocks = _validate(b.help_reply(parse("<!here>`*x*`")))
    problem = blocks[1]["text"]["text"]
    assert problem.startswith(":thinking_face: I don't know `&lt;!here&gt;'*x*'`.")


def test_needs_argument_reason():
    blocks = _validate(b.help_reply(parse("follow")))
    assert "`follow` needs something after it" in blocks[1]["text"]["text"]


RELEASE = {"id": "isbn:9784088837000", "title": "ワンピース 110", "volume": "110", "publisher": "集英社",
           "release_date": "2026-11-04", "isbn13": "9784088837000", "price": "528", "currency": "JPY",
           "url": "https://example.com/op?a=1&b=<2>"}


def test_release_line_links_only_http_and_escapes():
    line = b.release_line(RELEASE)
    assert line == ("*<https://example.com/op?a=1&amp;b=%3C2%3E|ワンピース 110>*\n"
                    "2026-11-04 · 集英社 · ISBN 9784088837000 · 528 JPY")
    evil = b.release_line({"title": "<@U123> & <!channel>", "url": "javascript:alert(1)", "diamond_code": "NOV26"})
    assert evil == "*&lt;@U123&gt; &amp; &lt;!channel&gt;*\nNOV26"


def test_releases_reply_caps_at_twenty_and_says_how_many_more():
    rows = [dict(RELEASE, id=f"x{i}", title=f"T{i}") for i in range(23)]
    blocks = _validate(b.releases_reply("This week: 2026-11-16 – 2026-11-22", rows, empty="none",
                                        more_url="http://127.0.0.1:8000/releases?from=2026-11-16"))
    assert [x["type"] for x in blocks] == ["header", "context"] + ["section"] * 20 + ["context"]
    assert blocks[1]["elements"][0]["text"] == "*集英社* (20)"  # grouped by publisher
    assert blocks[-1]["elements"][0]["text"] == ("3 more not shown — "
                                                 "<http://127.0.0.1:8000/releases?from=2026-11-16|see the full list>.")


def test_releases_reply_empty_and_note():
    blocks = _validate(b.releases_reply("Search results", [], empty="Nothing found.", note="“x” in titles"))
    assert [x["type"] for x in blocks] == ["header", "context", "section"]
    assert blocks[2]["text"]["text"] == "Nothing found."


def test_working_reply_escapes_the_search_text():
    blocks = _validate(b.working_reply(parse("search <!channel>")))
    assert "&lt;!channel&gt;" in blocks[0]["elements"][0]["text"]


def _sub(label, kind="series", digest="off"):
    return SimpleNamespace(label=label, key=label.lower(), kind=kind, digest=digest)


def test_following_sorts_series_first_and_escapes():
    blocks = _validate(b.following_reply([_sub("Saga"), _sub("集英社", "publisher"), _sub("<b>ONE</b>", digest="weekly")]))
    assert blocks[0]["text"]["text"] == "Following (3)"
    assert blocks[1]["text"]["text"].splitlines() == ["• *&lt;b&gt;ONE&lt;/b&gt;* · weekly digest", "• *Saga*",
                                                      "• *集英社* _(publisher)_"]


def test_following_many_is_split_into_sections_under_the_limit():
    blocks = _validate(b.following_reply([_sub(f"series {i} " + "x" * 80) for i in range(200)]))
    assert len(blocks) > 2


def test_status_down_first_with_counts():
    summary = {"generated_at": "2026-11-22T10:00:00Z", "targets": [
        {"name": "api", "state": "UP", "uptime_24h": 0.999, "latency_ms": 120, "group": "web"},
        {"name": "db", "state": "DOWN", "uptime_24h": 0.5, "latency_ms": None, "group": "data"},
        {"name": "<!channel>", "state": "MAINTENANCE", "uptime_24h": None, "latency_ms": None, "group": None},
    ]}
    blocks = _validate(b.status_reply(summary, "http://127.0.0.1:8000/status"))
    assert [x["type"] for x in blocks] == ["header", "context", "section", "section", "context"]
    assert blocks[1]["elements"][0]["text"] == (":red_circle: 1 down · :wrench: 1 maintenance · "
                                                ":large_green_circle: 1 up · as of 2026-11-22T10:00:00Z")
    not_up = blocks[2]["text"]["text"].splitlines()
    assert not_up == [":red_circle: *db* DOWN · 50.00% up 24h · data", ":wrench: *&lt;!channel&gt;* MAINTENANCE"]
    assert blocks[3]["text"]["text"] == ":large_green_circle: *api* UP · 99.90% up 24h · 120 ms · web"


def test_status_with_thousands_of_targets_stays_within_fifty_blocks():
    targets = [{"name": f"target-{i:04d}-" + "n" * 60, "state": "DOWN" if i % 7 == 0 else "UP"} for i in range(3000)]
    blocks = _validate(b.status_reply({"targets": targets}, None))
    assert blocks[2]["text"]["text"].startswith(":red_circle: *target-0000-")


def test_status_no_targets():
    blocks = _validate(b.status_reply({"targets": []}))
    assert blocks[1]["text"]["text"] == "No monitoring targets are configured."


def test_status_names_degraded_and_dead_sources_dead_first():
    sources = [
        {"name": "ndl", "status": "ok", "reason": None},
        {"name": "rakuten", "status": "degraded", "degraded_since": "2026-12-01T10:00Z",
         "reason": "fetch failed (http_status): HTTP 403"},
        {"name": "previewsworld", "status": "dead", "degraded_since": "2026-11-20T10:00Z",
         "reason": "fetch failed (dns): Name or service not known"},
    ]
    summary = {"targets": [{"name": "api", "state": "UP"}]}
    blocks = _validate(b.status_reply(summary, None, sources=sources))
    lines = blocks[2]["text"]["text"].splitlines()
    assert lines == [
        ":skull: source *previewsworld* dead since 2026-11-20T10:00Z · fetch failed (dns): Name or service not known",
        ":warning: source *rakuten* degraded since 2026-12-01T10:00Z · fetch failed (http_status): HTTP 403",
    ]
    no_targets = _validate(b.status_reply({"targets": []}, None, sources=sources))
    assert "previewsworld" in no_targets[2]["text"]["text"]
    healthy = _validate(b.status_reply(summary, None, sources=sources[:1]))
    assert all("source" not in str(x) for x in healthy)


def test_a_real_week_is_one_line_per_work_grouped_by_publisher():
    """The 2020-02-19 Diamond list (shared sample) as the release queries return it: variants
    collapsed with chalicelib.queries.collapse, then grouped by publisher, biggest first."""
    import crawlers
    from chalicelib.queries import collapse
    from devstack.samples import read_sample

    week = [r.to_dict() for r in crawlers.parse("previewsworld", read_sample(
        "previewsworld-newreleases-txt", "slem1_comicspreviews-parser__catalog-2020-02-19__23c5b25.txt"))
        if r.category != "merchandise"]
    works = collapse(week)
    amalgama = next(r for r in works if r.get("work") == "amalgamaspacezombie|3|comic")
    blocks = _validate(b.releases_reply("This week", [amalgama, *(r for r in works if r is not amalgama)],
                                        empty="none", more=True))
    types = [x["type"] for x in blocks]
    assert types.count("section") == b.MAX_RELEASES_SHOWN and len(blocks) <= 50
    headings = [x["elements"][0]["text"] for x in blocks[1:-1] if x["type"] == "context"]
    assert len(headings) == len(set(headings)) > 1
    counts = [int(h.rsplit("(", 1)[1].rstrip(")")) for h in headings]
    assert counts == sorted(counts, reverse=True) and sum(counts) == b.MAX_RELEASES_SHOWN
    lines = [x["text"]["text"] for x in blocks if x["type"] == "section"]
    (line,) = [line for line in lines if "AMALGAMA SPACE ZOMBIE #3" in line]
    assert "6 editions: CVR A YOUNG," in line and "CVR F STANLEY RISQUE" in line
    assert sum("AMALGAMA SPACE ZOMBIE #3" in line for line in lines) == 1


def test_list_verbs_take_a_category():
    assert (parse("week merch").name, parse("week merch").arg) == ("week", "merchandise")
    assert (parse("来週 グッズ").name, parse("来週 グッズ").arg) == ("next", "merchandise")
    assert parse("today ALL").arg == "all"
    wrong = parse("week plush")
    assert wrong.is_unknown and wrong.problem == "no_arg"
    blocks = _validate(b.help_reply(wrong))
    assert "take `merch` or `all`" in blocks[1]["text"]["text"]
