"""Series keys and aliases (issue 12, point 2): one normalization for follows and releases."""
from __future__ import annotations

import json
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import crawlers
from chalicelib.crawl.store import release_item
from chalicelib.notify.subscriptions import (
    Subscription,
    matches_release,
    release_keys,
    resolve_series_key,
)
from crawlers.normalize import (
    EDITION_MARKERS,
    base_series_key,
    load_aliases,
    release_id,
    series_key,
)
from devstack.samples import read_sample
from tests.unit.crawlers.crawlers_testkit import OPENBD, PW_CSV, RAKUTEN

WEEK = "vokurka_comics__raw_Export_csv_releaseDate_2017-01-04.csv"
FULLWIDTH = {i: i + 0xFEE0 for i in range(0x21, 0x7F)}


def _stored(release) -> dict:
    """The release as the stream sees it: the DynamoDB item the crawl worker writes."""
    record = release.to_dict()
    return release_item(record, series_key=series_key(record["series"] or record["title"]), first_seen="2017-01-04T10:00Z")


@pytest.mark.parametrize("follow", ["The Walking Dead", "WALKING DEAD", "walking dead #160", "ＴＨＥ　ＷＡＬＫＩＮＧ　ＤＥＡＤ"])
def test_follow_the_walking_dead_matches_the_real_diamond_rows(follow):
    releases = crawlers.parse("previewsworld", read_sample(PW_CSV, WEEK))
    walking = [r for r in releases if (r.title or "").startswith("WALKING DEAD #")]
    assert walking
    sub = Subscription.create("slack:C1", "series", follow, resolve_series_key())
    for r in walking:
        keys = release_keys(_stored(r))
        assert matches_release(sub, keys) and sub.match_pk in keys.match_pks()
    topps = next(r for r in releases if (r.title or "").startswith("TOPPS 2016 WALKING DEAD"))
    assert not matches_release(sub, release_keys(_stored(topps)))  # trading cards are another series


@pytest.mark.parametrize("kind,folder,name,series,follow", [
    ("rakuten", RAKUTEN, "aoton0029_intrahub-mediavault__search_by_author_oda-eiichiro__ca92c20_2026-07.TRANSCRIBED.json",
     "ONE PIECE", "ワンピース"),
    ("openbd", OPENBD, "tools-labo_book-scout__lane2_cache_openbd__a44636c_2026-02-11-middle.json", "呪術廻戦",
     "Jujutsu Kaisen"),
])
def test_alias_lets_a_follow_in_another_script_match_real_records(kind, folder, name, series, follow):
    records = [r for r in crawlers.parse(kind, read_sample(folder, name)) if r.series == series]
    assert records
    sub = Subscription.create("slack:C1", "series", follow, resolve_series_key())
    assert all(matches_release(sub, release_keys(_stored(r))) for r in records)
    other = Subscription.create("slack:C1", "series", "ワンパンマン", resolve_series_key())
    assert not any(matches_release(other, release_keys(_stored(r))) for r in records)


words = st.lists(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=8).filter(
    lambda w: w not in ("THE", "AN") and not EDITION_MARKERS.fullmatch(w)), min_size=1, max_size=4)


@settings(max_examples=150, deadline=None)
@given(words, st.sampled_from(["", "The ", "THE ", "the "]), st.sampled_from(["", " (2019)", " (1998)", " 2016"]),
       st.booleans(), st.booleans())
def test_spellings_of_one_series_share_a_key(ws, article, year, lower, wide):
    plain = " ".join(ws)
    spelled = article + (plain.lower() if lower else plain) + year
    if wide:
        spelled = spelled.translate(FULLWIDTH).replace(" ", "\u3000")
    assert base_series_key(spelled) == base_series_key(plain)
    assert series_key(spelled) == series_key(plain)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="あいうえおかきくけこさしすせそまみむめもゃゅょっー", min_size=1, max_size=10))
def test_hiragana_katakana_and_half_width_kana_meet(kana):
    katakana = "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in kana)
    half = unicodedata.normalize("NFKC", katakana)  # NFKC of half-width is full-width; check the full path
    assert series_key(kana) == series_key(katakana) == series_key(half)


def test_alias_file_and_environment_override(tmp_path, monkeypatch):
    extra = tmp_path / "aliases.json"
    extra.write_text(json.dumps({"series": [{"name": "Hellboy", "aliases": ["ヘルボーイ", "HB"]}]}), encoding="utf-8")
    got = load_aliases(str(extra))
    assert got == {"ヘルボーイ": "hellboy", "hb": "hellboy"}
    clash = tmp_path / "clash.json"
    clash.write_text(json.dumps({"series": [{"name": "A1", "aliases": ["X"]}, {"name": "B2", "aliases": ["X"]}]}))
    with pytest.raises(ValueError, match="two series"):
        load_aliases(str(clash))


def test_release_ids_do_not_move_with_the_new_key():
    # ids built before this change used the plain key: "The Walking Dead" kept its article there
    assert release_id("x", series="The Walking Dead", volume="1") == "x:thewalkingdead:1"
    assert release_id("x", series="ワンピース", volume="1") == "x:ワンピース:1"


def test_api_series_filter_reads_the_new_and_the_old_partition():
    from datetime import date

    from chalicelib.queries import plan

    parts = plan({"series": "The Walking Dead"}, date(2026, 12, 3))
    assert [p.key for p in parts] == ["SERIES#walkingdead", "SERIES#thewalkingdead"]
    assert [p.key for p in plan({"series": "WALKING DEAD"}, date(2026, 12, 3))] == ["SERIES#walkingdead"]
