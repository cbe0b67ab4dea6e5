"""Rendering (Block Kit, tweet text, console) and the OAuth 1.0a / webhook signatures."""
from __future__ import annotations

import json

import pytest

from chalicelib.events import Event
from chalicelib.notify import render
from chalicelib.notify.digest import digest_event
from chalicelib.notify.webhook import sign, verify
from chalicelib.notify.x import base_url, enc, hmac_sha1_signature, oauth_header, signature_base_string

RELEASE = Event(
    id="release.new:isbn:9784088820000", type="release.new", occurred_at="2026-11-22T10:00:00Z",
    subject="isbn:9784088820000",
    data={"id": "isbn:9784088820000", "title": "ONE PIECE 108", "series": "ONE PIECE", "volume": "108",
          "publisher": "集英社", "release_date": "2026-11-04", "price": "528", "currency": "JPY",
          "url": "https://example.com/b/1", "cover_url": "https://example.com/c/1.jpg", "source": "openbd",
          "isbn13": "9784088820000"},
)


def test_mrkdwn_escaping():
    assert render.mrkdwn("<!channel> <http://evil|click> & co") == "&lt;!channel&gt; &lt;http://evil|click&gt; &amp; co"
    assert render.mrkdwn("a\nb\x07") == "a b "


@pytest.mark.parametrize(
    "url, safe",
    [
        ("https://example.com/a?b=1&c=2", "https://example.com/a?b=1&c=2"),
        ("http://x.example/a|b>c<d e", "http://x.example/a%7Cb%3Ec%3Cd%20e"),
        ("javascript:alert(1)", None),
        ("slack://channel", None),
        ("https://x.example/\nInjected", None),
        (None, None),
    ],
)
def test_safe_url(url, safe):
    assert render.safe_url(url) == safe


def test_link_escapes_the_ampersand_in_urls_and_the_label():
    assert render.link("https://e.com/?a=1&b=2", "T & <b>") == "<https://e.com/?a=1&amp;b=2|T &amp; &lt;b&gt;>"
    assert render.link("javascript:x", "<!here>") == "&lt;!here&gt;"


def test_release_blocks_are_slack_sdk_models():
    from slack_sdk.models.blocks import Block

    message = render.slack_message(RELEASE, "https://n.example")
    blocks = message["blocks"]
    assert [b["type"] for b in blocks] == ["header", "section", "context", "actions"]
    assert all(Block.parse(b) is not None for b in blocks)
    section = blocks[1]
    assert section["accessory"] == {"type": "image", "image_url": "https://example.com/c/1.jpg", "alt_text": "cover of ONE PIECE 108"}
    assert section["text"]["text"] == "*<https://example.com/b/1|ONE PIECE 108>*\nONE PIECE"
    labels = [f["text"].split("\n")[0] for f in section["fields"]]
    assert labels == ["*Volume*", "*Release date*", "*Publisher*", "*Price*"]
    assert blocks[3]["elements"][0]["url"] == "https://example.com/b/1"
    assert message["text"] == "New release: ONE PIECE 108"


def test_uptime_blocks_show_state_duration_condition_and_status_link():
    event = Event(id="target.down:api:2026-11-22T10:05", type="target.down", occurred_at="2026-11-22T11:10:00Z",
                  subject="api", data={"target": "api", "since": "2026-11-22T10:05:00Z",
                                       "condition": "[STATUS] == 200"})
    message = render.slack_message(event, "https://n.example")
    text = json.dumps(message)
    assert "https://n.example/pages/status#target-api" in text and "n.example/status/" not in text
    fields = {f["text"].split("\n")[0]: f["text"].split("\n")[1] for f in message["blocks"][1]["fields"]}
    assert fields["*State*"] == "down" and fields["*Duration*"] == "1h 5m"
    assert fields["*Failing condition*"] == "[STATUS] == 200"


def test_digest_of_200_releases_is_one_message_within_block_limits():
    held = [Event(id=f"release.new:r{i}", type="release.new", occurred_at="2026-11-22T10:00:00Z", subject=f"r{i}",
                  data={"title": f"Title number {i} with a fairly long name", "url": f"https://e.com/{i}",
                        "publisher": "Pub", "release_date": "2026-11-25"}) for i in range(200)]
    event = digest_event("slack:C1", "daily-2026-11-22", held)
    assert event.id == digest_event("slack:C1", "daily-2026-11-22", list(reversed(held))).id  # order-free id
    message = render.slack_message(event, "https://n.example")
    assert len(message["blocks"]) <= 50
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in message["blocks"])
    assert message["text"] == "200 new releases"
    shown = json.dumps(message).count("https://e.com/")
    more = [b for b in message["blocks"] if b["type"] == "context"]
    assert shown == 200 or (more and f"and {200 - shown} more" in more[0]["elements"][0]["text"])


@pytest.mark.parametrize(
    "text, weight",
    [
        ("hello", 5),
        ("名探偵コナン", 12),  # CJK weighs 2
        ("ワンピース", 10),
        ("café", 4),
        ("see https://example.com/a/very/long/path/that/goes/on/and/on", 4 + 23),
        ("“quotes”", 8),  # U+201C/U+201D weigh 1
        ("😀", 2),
    ],
)
def test_weighted_length(text, weight):
    assert render.weighted_length(text) == weight


def test_tweets_fit_280_weighted_characters():
    long_cjk = Event(id="release.new:x", type="release.new", occurred_at="", subject="x",
                     data={"title": "名探偵コナン" * 50, "url": "https://example.com/" + "p" * 200, "publisher": "小学館"})
    text = render.tweet_text(long_cjk, "https://n.example")
    assert render.weighted_length(text) <= 280
    assert text.endswith("https://example.com/" + "p" * 200) and "…" in text
    short = render.tweet_text(RELEASE, "https://n.example")
    assert short == "New: ONE PIECE 108 (集英社, 2026-11-04) https://example.com/b/1"
    exactly = render.fit_tweet("", "a" * 280)
    assert exactly == "a" * 280
    assert render.weighted_length(render.fit_tweet("", "a" * 281)) == 280


def test_console_line_is_one_readable_line():
    line = render.console_line(RELEASE, "console:", "https://n.example")
    assert line == "[newbooks] release.new -> console: | ONE PIECE 108 (集英社, 2026-11-04) https://example.com/b/1"
    assert "\n" not in render.console_line(
        Event(id="e", type="release.new", occurred_at="", subject="e", data={"title": "a\nb"}), "console:", "x")


# --- OAuth 1.0a known answers (reconstructed from RFC 5849 section 3.4.1 and X's
#     "Creating a signature" documentation example) -----------------------------------------


def test_rfc5849_signature_base_string():
    params = [("c2", ""), ("a3", "2 q"), ("oauth_consumer_key", "9djdj82h48djs9d2"), ("oauth_token", "kkk9d7dh3k39sjv7"),
              ("oauth_signature_method", "HMAC-SHA1"), ("oauth_timestamp", "137131201"), ("oauth_nonce", "7d8f3e4a")]
    base = signature_base_string("post", "http://EXAMPLE.COM:80/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b", params)
    assert base == (
        "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26"
        "c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26"
        "oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7"
    )


X_DOC = {
    "consumer_key": "xvz1evFS4wEEPTGEFPHBog",
    "consumer_secret": "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
    "token": "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
    "token_secret": "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE",
    "nonce": "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg",
    "timestamp": 1318622958,
}


def test_x_documentation_signature_example():
    params = [("status", "Hello Ladies + Gentlemen, a signed OAuth request!"), ("include_entities", "true"),
              ("oauth_consumer_key", X_DOC["consumer_key"]), ("oauth_nonce", X_DOC["nonce"]),
              ("oauth_signature_method", "HMAC-SHA1"), ("oauth_timestamp", "1318622958"),
              ("oauth_token", X_DOC["token"]), ("oauth_version", "1.0")]
    base = signature_base_string("POST", "https://api.twitter.com/1.1/statuses/update.json", params)
    assert base.startswith("POST&https%3A%2F%2Fapi.twitter.com%2F1.1%2Fstatuses%2Fupdate.json&include_entities%3Dtrue%26")
    assert base.endswith("status%3DHello%2520Ladies%2520%252B%2520Gentlemen%252C%2520a%2520signed%2520OAuth%2520request%2521")
    assert hmac_sha1_signature(base, X_DOC["consumer_secret"], X_DOC["token_secret"]) == "hCtSmYh+iHYCEqBWrE7C7hYmtUk="
    header = oauth_header("POST", "https://api.twitter.com/1.1/statuses/update.json",
                          extra_params=[("status", "Hello Ladies + Gentlemen, a signed OAuth request!"),
                                        ("include_entities", "true")], **X_DOC)
    assert 'oauth_signature="hCtSmYh%2BiHYCEqBWrE7C7hYmtUk%3D"' in header
    assert header.startswith('OAuth oauth_consumer_key="xvz1evFS4wEEPTGEFPHBog", oauth_nonce=')


def test_percent_encoding_and_base_url():
    assert enc("Ladies + Gentlemen") == "Ladies%20%2B%20Gentlemen"
    assert enc("~-._") == "~-._" and enc("☃") == "%E2%98%83"
    assert base_url("HTTPS://Api.X.com:443/2/tweets?x=1") == "https://api.x.com/2/tweets"
    assert base_url("http://127.0.0.1:8080/2/tweets") == "http://127.0.0.1:8080/2/tweets"


def test_webhook_signature_known_answer():
    # hex(HMAC-SHA256("secret", "1700000000." + body)), computed independently with openssl:
    # printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac secret
    import hashlib
    import hmac

    body = b'{"a":1}'
    expected = "v1=" + hmac.new(b"secret", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
    assert sign("secret", "1700000000", body) == expected
    assert verify("secret", "1700000000", body, expected, now=1_700_000_100)
    assert not verify("secret", "1700000000", body + b" ", expected, now=1_700_000_100)
    assert not verify("secret", "not-a-time", body, expected)


def test_uptime_event_as_the_uptime_service_writes_it():
    event = Event(id="target.recovered:api:2026-11-22T11:10", type="target.recovered",
                  occurred_at="2026-11-22T11:10:00Z", subject="api",
                  data={"target": "api", "group": "core", "url": "https://api.example/health", "state": "up",
                        "previous_state": "down", "condition": None, "error": None, "duration_s": 3900,
                        "status_page": "https://n.example/status/api", "channels": ["console"]})
    message = render.slack_message(event, "https://other.example")
    text = json.dumps(message)
    assert "https://n.example/pages/status#target-api" in text and "other.example" not in text
    assert "n.example/status/api" not in text  # the JSON route is for machines
    assert "*Duration*\\n1h 5m" in text
    assert render.console_line(event, "console:", "x") == "[newbooks] target.recovered -> console: | api is up (1h 5m)"
    source = Event(id="source.degraded:ndl:t", type="source.degraded", occurred_at="t", subject="ndl",
                   data={"source": "ndl", "reason": "the crawl yielded no items", "items": 0})
    assert "the crawl yielded no items" in json.dumps(render.slack_message(source, "https://n.example"))


def test_one_post_per_work_names_its_editions_everywhere():
    """The labels the crawl listed with a release (notify/works.py editions_in_list, here those
    of the real Diamond row RAT QUEENS #1 CVR A, 2017-03-01) in every channel's text."""
    labels = ["CVR A GIENI", "CVR B GIENI", "CVR C WOMENS HISTORY MONTH CHARITY VAR"]
    data = {"id": "previewsworld:JAN170658", "title": "RAT QUEENS #1 CVR A GIENI (MR)", "series": "RAT QUEENS",
            "publisher": "IMAGE COMICS", "release_date": "2017-03-01", "url": "https://example.com/r/1",
            "source": "previewsworld", "editions_listed": labels}
    event = Event(id="release.new:previewsworld:JAN170658", type="release.new", occurred_at="2017-02-22T10:00:00Z",
                  subject="previewsworld:JAN170658", data=data)
    expected = "3 editions: CVR A GIENI, CVR B GIENI, CVR C WOMENS HISTORY MONTH CHARITY VAR"
    assert render.editions_text(data) == expected
    blocks = render.slack_message(event, "https://n.example")["blocks"]
    assert [b["type"] for b in blocks] == ["header", "section", "section", "context", "actions"]
    assert blocks[2]["text"]["text"] == f"*Editions:* {expected}"
    assert render.tweet_text(event, "https://n.example") == (
        "New: RAT QUEENS #1 CVR A GIENI (MR) (IMAGE COMICS, 2017-03-01, 3 editions) https://example.com/r/1")
    assert render.console_line(event, "console:", "https://n.example").endswith(f"[{expected}]")
    assert render.digest_line(data).endswith("— 2017-03-01, IMAGE COMICS, 3 editions")
    # one edition, none listed, or a hostile label: nothing extra, escaped
    assert render.editions_text({**data, "editions_listed": ["CVR A"]}) == ""
    assert "Editions" not in json.dumps(render.slack_message(RELEASE, "https://n.example"))
    hostile = render.slack_message(Event(**{**event.__dict__, "data": {**data, "editions_listed": ["<!channel>", "B"]}}),
                                   "https://n.example")
    assert "&lt;!channel&gt;" in hostile["blocks"][2]["text"]["text"] and "<!channel>" not in json.dumps(hostile["blocks"])
    many = render.editions_text({**data, "editions_listed": [f"CVR {c}" for c in "ABCDEFGH"]})
    assert many == "8 editions: CVR A, CVR B, CVR C, CVR D, CVR E, CVR F and 2 more"
