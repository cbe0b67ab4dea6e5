"""Normalization and matching rules for subscriptions (pure)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from chalicelib.notify.subscriptions import (
    Subscription,
    default_series_key,
    event_match_pks,
    fallback_series_key,
    keyword_key,
    load_yaml,
    matches_release,
    publisher_key,
    quiet_until,
    release_keys,
    resolve_series_key,
    select,
)


@pytest.mark.parametrize(
    "text, key",
    [
        ("ONE PIECE", "onepiece"),
        ("One Piece", "onepiece"),
        ("ONE PIECE 108", "onepiece"),
        ("ＯＮＥ　ＰＩＥＣＥ", "onepiece"),  # full-width letters and space
        ("ONE PIECE Vol. 108", "onepiece"),
        ("ワンピース 108巻", "onepiece"),  # by alias (crawlers/series_aliases.json)
        ("ワンピース 第108巻", "onepiece"),
        ("ワンピース（108）", "onepiece"),  # full-width parentheses
        ("ﾜﾝﾋﾟｰｽ", "onepiece"),  # half-width kana
        ("ハイキュー!! 45", "ハイキュー"),
        ("はいきゅー!!", "ハイキュー"),  # hiragana and katakana meet
        ("The Walking Dead", "walkingdead"),
        ("WALKING DEAD #98 (MR)", "walkingdead"),
        ("DEJAH THORIS (2019) #4", "dejahthoris"),
        ("ANGEL & FAITH #10", "angelandfaith"),
        ("Angel and Faith", "angelandfaith"),
        ("名探偵コナン 105", "名探偵コナン"),
        ("Nailbiter #27", "nailbiter"),
        ("NAILBITER (2014) #1", "nailbiter"),
        ("Saga, Vol. 10", "saga"),
        ("1984", "1984"),  # never stripped to nothing
    ],
)
def test_series_key(text, key):
    assert default_series_key(text) == key
    assert resolve_series_key()(text) == key  # the crawlers' pipeline agrees


def test_scripts_meet_only_through_an_alias():
    assert default_series_key("ONE PIECE") == default_series_key("ワンピース 108巻")  # listed alias
    assert default_series_key("HAIKYU!!") != default_series_key("ハイキュー!! 45")  # no alias: no transliteration


def test_fallback_series_key_without_crawlers_keeps_the_basic_rules():
    assert fallback_series_key("ONE PIECE 108") == fallback_series_key("ＯＮＥ　ＰＩＥＣＥ") == "onepiece"
    assert fallback_series_key("NAILBITER (2014) #1") == "nailbiter"


def test_series_key_function_is_resolved():
    fn = resolve_series_key()
    assert callable(fn) and fn("ONE PIECE") == fn("ONE PIECE 108")


def test_publisher_and_keyword_keys():
    assert publisher_key("株式会社 集英社") == publisher_key("集英社")
    assert publisher_key("Image Comics, Inc.") == "imagecomicsinc"
    assert keyword_key(" Spy × Family ") == "spy×family"


RELEASE = {"id": "isbn:9784088820000", "title": "ONE PIECE 108", "series": "ONE PIECE", "publisher": "集英社",
           "source": "openbd"}


@pytest.mark.parametrize(
    "kind, text, expected",
    [
        ("series", "ONE PIECE", True),
        ("series", "ｏｎｅ ｐｉｅｃｅ", True),
        ("series", "ワンピース", True),  # alias
        ("series", "ハイキュー", False),
        ("series", "ONE PUNCH-MAN", False),
        ("publisher", "株式会社集英社", True),
        ("publisher", "講談社", False),
        ("source", "openbd", True),
        ("source", "ndl", False),
        ("keyword", "piece", True),
        ("keyword", "one piece", True),
        ("keyword", "naruto", False),
    ],
)
def test_matches_release(kind, text, expected):
    sub = Subscription.create("slack:C1", kind, text)
    keys = release_keys(RELEASE)
    assert matches_release(sub, keys) is expected
    if kind != "keyword" and expected:
        assert sub.match_pk in keys.match_pks()


def test_release_keys_prefer_the_crawlers_series_key():
    keys = release_keys({**RELEASE, "series_key": "custom"})
    assert keys.series == "custom"
    assert keys.match_pks() == ["MATCH#series#custom", "MATCH#series#onepiece", "MATCH#publisher#集英社",
                                "MATCH#source#openbd", "MATCH#keyword"]
    assert release_keys(RELEASE).match_pks()[:2] == ["MATCH#series#onepiece", "MATCH#publisher#集英社"]


def test_follows_stored_under_the_old_key_still_match():
    release = {**RELEASE, "title": "鬼滅の刃 23", "series": "鬼滅の刃"}
    keys = release_keys(release, resolve_series_key())
    old_follow = Subscription(destination="slack:C1", kind="series", key="鬼滅の刃", label="鬼滅の刃")  # stored before
    new_follow = Subscription.create("slack:C1", "series", "鬼滅の刃", resolve_series_key())
    assert new_follow.key != old_follow.key  # hiragana folded to katakana now
    assert matches_release(old_follow, keys) and matches_release(new_follow, keys)
    assert {old_follow.match_pk, new_follow.match_pk} <= set(keys.match_pks())


def test_uptime_and_ops_routing_keys():
    assert event_match_pks("target.down", "api", {}) == ["MATCH#target#api", "MATCH#target#*"]
    assert event_match_pks("source.degraded", "ndl", {}) == ["MATCH#ops#*"]
    assert "MATCH#ops#*" in event_match_pks("targets.grouped_down", "group", {})


def test_item_round_trip_and_gsi_keys():
    sub = Subscription.create("slack:C1", "series", "ONE PIECE", digest="weekly", quiet_hours="22:00-07:00", tz="+09:00")
    item = sub.to_item()
    assert item["pk"] == "SUB#slack:C1" and item["sk"] == "series#onepiece"
    assert item["gsi1pk"] == "MATCH#series#onepiece" and item["gsi1sk"] == "slack:C1"
    assert Subscription.from_item(item) == sub
    assert Subscription.create("slack:C1", "keyword", "Piece").to_item()["gsi1pk"] == "MATCH#keyword"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"destination": "pigeon:x", "kind": "series", "key": "a"},
        {"destination": "slack:C1", "kind": "colour", "key": "a"},
        {"destination": "slack:C1", "kind": "series", "key": ""},
        {"destination": "slack:C1", "kind": "series", "key": "a", "digest": "hourly"},
        {"destination": "slack:C1", "kind": "series", "key": "a", "quiet_hours": "late"},
        {"destination": "slack:C1", "kind": "series", "key": "a", "tz": "Mars/Olympus"},
    ],
)
def test_invalid_subscriptions(kwargs):
    with pytest.raises(ValueError):
        Subscription(**kwargs)


def test_quiet_hours_across_midnight_in_a_time_zone():
    sub = Subscription.create("slack:C1", "series", "x", quiet_hours="22:00-07:00", tz="+09:00")
    # 23:30 JST = 14:30 UTC -> held until 07:00 JST next day = 22:00 UTC
    assert quiet_until(sub, datetime(2026, 11, 22, 14, 30, tzinfo=timezone.utc)) == datetime(2026, 11, 22, 22, 0, tzinfo=timezone.utc)
    # 06:00 JST = 21:00 UTC previous day -> until 07:00 JST same day
    assert quiet_until(sub, datetime(2026, 11, 21, 21, 0, tzinfo=timezone.utc)) == datetime(2026, 11, 21, 22, 0, tzinfo=timezone.utc)
    assert quiet_until(sub, datetime(2026, 11, 22, 3, 0, tzinfo=timezone.utc)) is None  # 12:00 JST
    assert quiet_until(Subscription.create("slack:C1", "series", "x"), datetime.now(timezone.utc)) is None


def test_select_one_subscription_per_destination_instant_wins():
    digest = Subscription.create("slack:C1", "keyword", "piece", digest="weekly")
    instant = Subscription.create("slack:C1", "series", "ONE PIECE")
    other = Subscription.create("console:", "series", "ONE PIECE")
    chosen = select([digest, instant, other])
    assert chosen == {"slack:C1": instant, "console:": other}


def test_sample_yaml_loads():
    from pathlib import Path

    path = Path(__file__).resolve().parents[3] / "chalicelib" / "config" / "subscriptions.yaml"
    subs = load_yaml(path)
    pks = {s.match_pk for s in subs}
    assert {"MATCH#series#nailbiter", "MATCH#series#名探偵コナン", "MATCH#target#*", "MATCH#ops#*"} <= pks
    assert all(s.destination == "console:" for s in subs)
