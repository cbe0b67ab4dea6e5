"""Volume / issue numbers and edition markers in titles (re-exported by normalize).

Titles are NFKC-normalized first, so full-width digits and brackets need no special cases.
"""
from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

_KANJI_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_KANJI_UNITS = {"十": 10, "百": 100, "千": 1000}
_KNUM = "[〇零一二三四五六七八九十百千]+"


def kanji_to_int(s: str) -> int | None:
    """第二十一話 -> 21. Handles positional (二〇) and unit (二十一) forms up to 9999."""
    if not s or any(c not in _KANJI_DIGITS and c not in _KANJI_UNITS for c in s):
        return None
    if not any(c in _KANJI_UNITS for c in s):
        return int("".join(str(_KANJI_DIGITS[c]) for c in s))
    total, cur = 0, 0
    for c in s:
        if c in _KANJI_DIGITS:
            cur = _KANJI_DIGITS[c]
        else:
            total += (cur or 1) * _KANJI_UNITS[c]
            cur = 0
    return total + cur


_FRACTIONS = {"¼": "\ue001", "½": "\ue002", "¾": "\ue003"}  # NFKC would turn "1½" into "11⁄2"
_FRACTION_TEXT = {"\ue001": "¼", "\ue002": "½", "\ue003": "¾", "1/4": "¼", "1/2": "½", "3/4": "¾"}
_SPECIAL_SUFFIX = ("AU",)  # Marvel's Age of Ultron tie-ins: "#10AU" is not issue 10


def _num(s: str) -> str:
    """Canonical number text: "04" -> "4", "二十一" -> "21", "1.5" and ".1" kept, "1½" kept, "10 AU" -> "10AU"."""
    s = s.replace(" ", "")
    for raw, text in _FRACTION_TEXT.items():
        s = s.replace(raw, text)
    m = re.fullmatch(r"(\d*)(\.\d+)?([¼½¾]?)([A-Z]*)", s)
    if m and (m[1] or m[2] or m[3]):
        head = str(int(m[1])) if m[1] else ""
        return head + (m[2] or "") + m[3] + m[4]
    k = kanji_to_int(s)
    return str(k) if k is not None else s


def _is_year(s: str) -> bool:
    return bool(re.fullmatch(r"(?:19|20)\d\d", s))


_N = rf"(\d+(?:\.\d+)?|{_KNUM})"
_NONNUM = r"(上|中|下|前編|中編|後編|完結編)"
_SEP = r"[\s.,:;・=\-–—/]*"
# An issue number: "#17", "#1.1", "#.1", "#0", "#½", "#1½", "#1/2", "#10AU", "#1-3" (a range stays one).
_ISSUE = re.compile(r"#\s*((?:\d+)?(?:\.\d+)?[\ue001-\ue003]?(?:/[24])?(?:\s?AU\b)?)(?:\s*-\s*(\d+)\b)?")
_VOLUME_WORD = re.compile(r"\bvol(?:ume)?\b\.?\s*(\d+(?:\.\d+)?)", re.I)
# (pattern, how to read the volume); first match wins. Each pattern's group 1 is the volume.
_PATTERNS: list[re.Pattern[str]] = [
    re.compile(rf"(?:\(|\b)?第\s*{_N}\s*[巻話集部](?:\s*-\s*(\d+))?\)?"),   # 第3巻 / 第二十一話 / 第5話-2
    re.compile(rf"\(\s*{_N}\s*(?:巻)?\s*\)"),                             # (21) / （２１） / (2巻); "(2019)" is a year
    re.compile(r"(?<![\w.])(\d+)\s*巻?\s*[~〜～\-]\s*(\d+)\s*巻"),         # 1巻～3巻 / 1-3巻 (value packs)
    re.compile(r"(?<![\w.])(\d+)\s*巻"),                                  # 3巻
    _VOLUME_WORD,                                                          # Vol. 3 / VOL 04 / VOL.1 / Volume 1
    _ISSUE,                                                                # #17 / #1 (OF 5)
    re.compile(r"\bbook\s+(\d+)\b", re.I),                                 # BOOK 02
    re.compile(rf"(?:^|[\s(]){_NONNUM}(?:巻)?\)?\s*$"),                    # 上 / 下巻 / 前編 at the end
    re.compile(r"(?<=[^\s\d])[\s.]+(\d{1,3})\s*$"),                        # "黄泉のツガイ. 1" / "推しの子 1"
]
_PAREN = _PATTERNS[1]
# A CJK title followed by " N " and a subtitle: "ワンパンマン 1 (一撃)", "呪術廻戦 2 幼魚と逆罰".
_CJK_MID = re.compile(r"^([^\d]*[\u3040-\u30ff\u4e00-\u9fff][^\d]*?)\s+(\d{1,3})\s+\S")

# Leading Diamond notes and trailing catalog codes that are not part of the series name.
_NOTE = re.compile(r"^\(use [^)]*\)\s*", re.I)
_FORMAT_TAIL = re.compile(
    r"(?:[\s,]+(?:tp|tpb|hc|gn|sc|prem|dlx|omnibus|box set|trade paperback))+\s*$", re.I)
_STRIP = " \t.,:;・=-–—/~〜～"


def clean_series(s: str) -> str:
    s = _NOTE.sub("", s)
    s = re.sub(r"\s*\((?:of \d+|mr|res|net|c:[^)]*|o/a)\)", "", s, flags=re.I)
    s = s.strip(_STRIP)
    s = _FORMAT_TAIL.sub("", s).strip(_STRIP)
    return "" if s.isdigit() else s  # "5. 第5話": a bare running number is not a series


class Numbering(NamedTuple):
    """What a title says about its place in a series.

    `volume` is the number a reader uses for the book: the volume ("Vol 2", "第3巻", "（２１）",
    "上", "1-3"), else the issue number. `issue` is the issue ("#3", "#½", "#10AU") whenever the
    title prints one, so `STAR TREK GREEN LANTERN VOL 2 #3` is volume "2", issue "3".
    """
    series: str
    volume: str | None
    issue: str | None


def _range(m: re.Match[str]) -> str:
    vol = _num(m.group(1))
    if m.lastindex and m.lastindex >= 2 and m.group(2):
        vol = f"{vol}-{_num(m.group(2))}"
    return vol


def _prepare(title: str) -> str:
    for frac, mark in _FRACTIONS.items():
        title = title.replace(frac, mark)
    t = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", title)).strip()
    # An already-NFKC'd "1½" reads "11⁄2" (U+2044): the digit before the fraction slash is the numerator.
    return _NFKC_FRACTION.sub(lambda m: m[1] + _FRACTIONS[{"1⁄4": "¼", "1⁄2": "½", "3⁄4": "¾"}[m[2]]], t)


_NFKC_FRACTION = re.compile(r"(\d*?)(1⁄4|1⁄2|3⁄4)(?!\d)")


def extract_numbering(title: str | None) -> Numbering:
    """Split a title into series, volume and issue (canonical strings or None); see `Numbering`."""
    if not title:
        return Numbering("", None, None)
    t = _prepare(title)
    for pat in _PATTERNS:
        m = pat.search(t)
        if m is None:
            continue
        if (pat is _PAREN or pat is _ISSUE) and not _usable(pat, m):  # rare: look further along
            m = next((m for m in pat.finditer(t) if _usable(pat, m)), None)
            if m is None:
                continue
        vol = _range(m)
        series = clean_series(t[: m.start()]) or clean_series(t[m.end():])
        if pat is _ISSUE:
            return Numbering(series, vol, vol)
        if pat is _VOLUME_WORD and (i := next((i for i in _ISSUE.finditer(t, m.end()) if _usable(_ISSUE, i)), None)):
            return Numbering(series, vol, _range(i))  # "VOL 2 #3": volume 2, issue 3
        return Numbering(series, vol, None)
    if m := _CJK_MID.match(t):
        return Numbering(clean_series(m.group(1)), _num(m.group(2)), None)
    return Numbering(clean_series(t), None, None)


def _usable(pat: re.Pattern[str], m: re.Match[str]) -> bool:
    if pat is _PAREN:  # "DEJAH THORIS (2019) #4": a year in parentheses is never the number
        return not (_is_year(m.group(1)) and "巻" not in m.group(0))
    if pat is _ISSUE:  # "#" alone or "#/2" is not an issue number
        return bool(re.search(r"[\d\ue001-\ue003]", m.group(1)))
    return True


def extract_volume(title: str | None) -> tuple[str, str | None]:
    """Split a title into (series, volume); see `extract_numbering` for the issue as well."""
    n = extract_numbering(title)
    return n.series, n.volume


# (flag, pattern) in output order. Flags are stable lowercase tokens for filtering and display.
_FLAGS: list[tuple[str, re.Pattern[str]]] = [
    ("variant", re.compile(r"\bvar\b|\bvariant\b|\bcvr [b-z]\b|\b[b-z] cvr\b|\bincentive\b|\bvirgin\b|\bexc\b", re.I)),
    ("printing", re.compile(r"\b\d+(?:st|nd|rd|th) (?:ptg|printing)\b|\bnew ptg\b|\breprint\b|重版", re.I)),
    ("special-edition", re.compile(r"特装版|特別版|\bspecial ed(?:ition)?\b|\bsp ed\b|\bcollectors? ed", re.I)),
    ("limited-edition", re.compile(r"限定版|\blimited ed(?:ition)?\b|\bltd ed\b", re.I)),
    ("bundle", re.compile(r"同梱版|付き限定|\bcombo pack\b|\bbundle\b", re.I)),
    ("box-set", re.compile(r"\bbox ?set\b|ボックス|BOX(?:セット)?\b", re.I)),
    ("value-pack", re.compile(r"バリューパック|プライスパック|\bvalue pack\b", re.I)),
    ("omnibus", re.compile(r"\bomnibus\b|\bcompendium\b|完全版|愛蔵版|新装版", re.I)),
    ("deluxe", re.compile(r"\bdlx\b|\bdeluxe\b", re.I)),
    ("tp", re.compile(r"\btpb?\b|\btrade paperback\b|\bsc\b", re.I)),
    ("hc", re.compile(r"\bhc\b|\bhardcover\b", re.I)),
    ("gn", re.compile(r"\bgn\b|\bgraphic novel\b", re.I)),
    ("mature", re.compile(r"\(mr\)", re.I)),
]


def edition_flags(title: str | None) -> tuple[str, ...]:
    """Edition markers found in a title: variant, printing, special/limited edition, box set, TP, HC..."""
    if not title:
        return ()
    t = unicodedata.normalize("NFKC", title)
    return tuple(flag for flag, pat in _FLAGS if pat.search(t))


EDITION_MARKERS = re.compile(
    r"特装版|特別版|限定版|同梱版|新装版|完全版|愛蔵版|バリューパック|プライスパック|"
    r"\b(?:variant|var|cvr [a-z]|[a-z] cvr|\d+(?:st|nd|rd|th) ptg|special edition|limited edition|"
    r"box ?set|value pack|tpb?|hc|gn|sc|dlx|deluxe|omnibus)\b|\(mr\)",
    re.I,
)
