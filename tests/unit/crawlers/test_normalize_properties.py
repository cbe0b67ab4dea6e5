"""Property tests of the normalization helpers (hypothesis)."""
from __future__ import annotations

import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from crawlers.normalize import (
    EDITION_MARKERS,
    ean13_check_digit,
    extract_numbering,
    extract_volume,
    find_isbn,
    isbn10_check_digit,
    isbn10_to_13,
    isbn13_to_10,
    nfkc,
    normalize_isbn,
    normalize_jan,
    release_id,
)

SETTINGS = settings(max_examples=150, deadline=None)
nine_digits = st.text(alphabet="0123456789", min_size=9, max_size=9).filter(lambda s: s.strip("0"))  # all-zero is refused


@st.composite
def isbn10s(draw):
    core = draw(nine_digits)
    return core + isbn10_check_digit(core)


@st.composite
def isbn13s(draw):
    core = "978" + draw(nine_digits)
    return core + ean13_check_digit(core)


@SETTINGS
@given(isbn10s())
def test_isbn10_13_round_trip(isbn10):
    isbn13 = isbn10_to_13(isbn10)
    assert isbn13 is not None and isbn13.startswith("978") and len(isbn13) == 13
    assert isbn13_to_10(isbn13) == isbn10
    assert normalize_isbn(f"{isbn10[0]}-{isbn10[1:4]}-{isbn10[4:9]}-{isbn10[9]}") == isbn13


@SETTINGS
@given(isbn13s(), st.integers(0, 12), st.integers(1, 9))
def test_isbn13_single_digit_change_rejected(isbn13, pos, delta):
    changed = isbn13[:pos] + str((int(isbn13[pos]) + delta) % 10) + isbn13[pos + 1:]
    assert normalize_isbn(isbn13) == isbn13
    assert normalize_isbn(changed) is None


@SETTINGS
@given(isbn10s(), st.integers(0, 9), st.integers(1, 10))
def test_isbn10_single_digit_change_rejected(isbn10, pos, delta):
    alphabet = "0123456789X" if pos == 9 else "0123456789"
    old = alphabet.index(isbn10[pos])
    changed = isbn10[:pos] + alphabet[(old + delta) % len(alphabet)] + isbn10[pos + 1:]
    if changed != isbn10:
        assert normalize_isbn(changed) is None


# Series names: letters (Latin or kana/kanji) and spaces, never ending in a digit or a marker.
series_names = st.text(
    alphabet=st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyzあいうえおかきくけこ漫画魔法少女"),
    min_size=2, max_size=12,
).map(lambda s: s.strip()).filter(lambda s: len(s) >= 2 and s not in ("上", "下", "中"))
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@SETTINGS
@given(series_names, st.integers(1, 300), st.sampled_from(["第{n}巻", " Vol. {n}", " #{n}", "（{fw}）", " {n}巻"]))
def test_extract_volume_on_generated_titles(series, n, template):
    title = series + template.format(n=n, fw=str(n).translate(FULLWIDTH))
    got_series, got_volume = extract_volume(title)
    assert got_volume == str(n)
    assert got_series == unicodedata.normalize("NFKC", series).strip()


@SETTINGS
@given(st.text())
def test_nfkc_idempotent(s):
    once = nfkc(s)
    assert nfkc(once) == once


# --- Numbers (issue 12, point 5) -----------------------------------------------------------------
latin_series = st.text(alphabet=st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), min_size=2, max_size=10).flatmap(
    lambda a: st.text(alphabet=st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), min_size=0, max_size=8).map(
        lambda b: f"{a} {b}".strip()))
_MARKER_WORDS = re.compile(r"\b(?:TPB?|HC|GN|SC|PREM|DLX|VAR|CVR [A-Z]|[A-Z] CVR|OMNIBUS|VOL|VOLUME|BOOK|OF)\b")
latin_series = latin_series.filter(lambda s: not _MARKER_WORDS.search(s) and not EDITION_MARKERS.search(s))
variant_tail = st.sampled_from(["", " CVR A SMITH", " (OF 5)", " (MR)", " 2ND PTG", " SUBSCRIPTION VAR",
                                " (OF 4) CVR B JONES (MR)"])


@SETTINGS
@given(latin_series, st.integers(1900, 2099), st.integers(0, 999), variant_tail)
def test_year_in_parentheses_is_never_the_number(series, year, n, tail):
    got = extract_numbering(f"{series} ({year}) #{n}{tail}")
    assert (got.volume, got.issue) == (str(n), str(n))
    assert got.series == f"{series} ({year})"


@SETTINGS
@given(latin_series, st.integers(1, 20), st.integers(0, 999), variant_tail, st.sampled_from(["VOL", "Vol.", "VOLUME"]))
def test_vol_n_issue_m_keeps_both(series, vol, n, tail, word):
    got = extract_numbering(f"{series} {word} {vol} #{n}{tail}")
    assert (got.series, got.volume, got.issue) == (series, str(vol), str(n))
    # ...so two issues of one volume never share a fallback id
    ids = {release_id("x", series=got.series, volume=got.volume, issue=got.issue),
           release_id("x", series=series, volume=str(vol), issue=str(n + 1))}
    assert len(ids) == 2


@SETTINGS
@given(latin_series, st.integers(0, 99), st.sampled_from(["½", "¼", "¾", ".1", ".5", "AU", " AU", ""]), variant_tail)
def test_special_issue_numbers_keep_their_value(series, n, suffix, tail):
    whole = "" if suffix in ("½", "¼", "¾", ".1", ".5") and n == 0 else str(n)
    title = f"{series} #{whole}{suffix}{tail}"
    expected = f"{whole}{suffix.strip()}"
    for spelling in (title, unicodedata.normalize("NFKC", title)):  # parsers NFKC titles first
        assert extract_numbering(spelling).issue == expected


@SETTINGS
@given(series_names, st.integers(1, 50), st.integers(1, 50), st.sampled_from(["{a}-{b}巻", "{a}巻～{b}巻", "{a}〜{b}巻"]))
def test_ranges_stay_ranges(series, a, b, template):
    got = extract_numbering(series + " " + template.format(a=a, b=a + b))
    assert got.volume == f"{a}-{a + b}" and got.series == unicodedata.normalize("NFKC", series).strip()


@SETTINGS
@given(series_names, st.sampled_from(["上", "中", "下", "前編", "後編", "上巻", "下巻", "（上）"]))
def test_japanese_parts_stay_words(series, part):
    got = extract_numbering(f"{series} {part}")
    assert got.volume == part.strip("（）巻") and got.issue is None


@SETTINGS
@given(series_names, st.integers(1, 300))
def test_kanji_and_fullwidth_volumes(series, n):
    kanji = "".join("〇一二三四五六七八九"[int(c)] for c in str(n))
    for title in (f"{series} 第{kanji}巻", f"{series}（{str(n).translate(FULLWIDTH)}）", f"{series} 第{n}巻"):
        got = extract_numbering(title)
        assert (got.volume, got.issue) == (str(n), None), title


# --- ISBN / JAN (issue 12, point 6) --------------------------------------------------------------
# Decimal digits of other scripts that NFKC leaves alone (Balinese, Arabic-Indic, Devanagari, Thai...).
foreign_digits = st.characters(categories=["Nd"]).filter(
    lambda c: not unicodedata.normalize("NFKC", c).isascii())


@SETTINGS
@given(isbn13s(), st.integers(0, 12), foreign_digits)
def test_isbn_with_a_non_ascii_digit_is_refused(isbn13, pos, digit):
    assert unicodedata.digit(digit) is not None
    same_value = isbn13[:pos] + digit + isbn13[pos + 1:] if unicodedata.digit(digit) == int(isbn13[pos]) else None
    spelled = isbn13[:pos] + digit + isbn13[pos + 1:]
    for text in filter(None, (same_value, spelled, f"{spelled[:3]}-{spelled[3:]}")):
        assert normalize_isbn(text) is None and normalize_jan(text) is None
        if pos >= 3:  # the number is not found in text (an ASCII run of it may be another ISBN-10)
            assert find_isbn(f"ISBN {text}") != isbn13
        assert release_id("x", isbn=text, jan=text, item_code="c") == "x:c"


@SETTINGS
@given(isbn13s())
def test_full_width_isbn_is_the_same_isbn(isbn13):
    assert normalize_isbn(isbn13.translate(FULLWIDTH)) == isbn13 == normalize_jan(isbn13.translate(FULLWIDTH))


@SETTINGS
@given(st.sampled_from(["0000000000", "000000000X", "0-000-00000-0", "9780000000002", "978-0-00-000000-2",
                        "0000000000000", "９７８００００００００００２"]))
def test_all_zero_numbers_are_refused(text):
    assert normalize_isbn(text) is None and normalize_jan(text) is None


@SETTINGS
@given(st.sampled_from(["02", "04", "20", "21", "29", "980", "981", "982", "99", "9790"]),
       st.text(alphabet="0123456789", min_size=9, max_size=11))
def test_restricted_and_music_ranges_are_refused(prefix, rest):
    core = (prefix + rest + "000000000000")[:12]
    code = core + ean13_check_digit(core)
    assert normalize_jan(code) is None and normalize_isbn(code) is None


@SETTINGS
@given(st.sampled_from(["45", "49", "977", "50", "00", "01"]), st.text(alphabet="123456789", min_size=10, max_size=10))
def test_global_jans_are_kept(prefix, rest):
    core = (prefix + rest)[:12]
    code = core + ean13_check_digit(core)
    assert normalize_jan(code) == code
    assert release_id("x", jan=code) == f"jan:{code}"
