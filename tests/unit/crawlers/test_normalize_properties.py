"""Property tests of the normalization helpers (hypothesis)."""
from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from crawlers.normalize import (
    ean13_check_digit, extract_volume, isbn10_check_digit, isbn10_to_13, isbn13_to_10, nfkc, normalize_isbn,
)

SETTINGS = settings(max_examples=150, deadline=None)
nine_digits = st.text(alphabet="0123456789", min_size=9, max_size=9)


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
