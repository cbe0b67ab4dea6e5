"""Volume / issue numbers and edition markers in titles (re-exported by normalize).

Titles are NFKC-normalized first, so full-width digits and brackets need no special cases.
"""
from __future__ import annotations

import re
import unicodedata

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


def _num(s: str) -> str:
    """Canonical volume text: "04" -> "4", "二十一" -> "21", "1.5" kept."""
    if s.isascii() and s.replace(".", "", 1).isdigit():
        head, dot, tail = s.partition(".")
        return str(int(head)) + (dot + tail if tail else "")
    k = kanji_to_int(s)
    return str(k) if k is not None else s


_N = rf"(\d+(?:\.\d+)?|{_KNUM})"
_NONNUM = r"(上|中|下|前編|中編|後編|完結編)"
_SEP = r"[\s.,:;・=\-–—/]*"
# (pattern, how to read the volume); first match wins. Each pattern's group 1 is the volume.
_PATTERNS: list[re.Pattern[str]] = [
    re.compile(rf"(?:\(|\b)?第\s*{_N}\s*[巻話集部](?:\s*-\s*(\d+))?\)?"),   # 第3巻 / 第二十一話 / 第5話-2
    re.compile(rf"\(\s*{_N}\s*(?:巻)?\s*\)"),                             # (21) / （２１） / (2巻)
    re.compile(r"(?<![\w.])(\d+)\s*巻\s*[~〜～\-]\s*(\d+)\s*巻"),         # 1巻～3巻 (value packs)
    re.compile(r"(?<![\w.])(\d+)\s*巻"),                                  # 3巻
    re.compile(r"\bvol(?:ume)?\b\.?\s*(\d+(?:\.\d+)?)", re.I),            # Vol. 3 / VOL 04 / VOL.1 / Volume 1
    re.compile(r"#\s*(\d+(?:\.\d+)?)"),                                    # #17 / #1 (OF 5)
    re.compile(r"\bbook\s+(\d+)\b", re.I),                                 # BOOK 02
    re.compile(rf"(?:^|[\s(]){_NONNUM}(?:巻)?\)?\s*$"),                    # 上 / 下巻 / 前編 at the end
    re.compile(r"(?<=[^\s\d])[\s.]+(\d{1,3})\s*$"),                        # "黄泉のツガイ. 1" / "推しの子 1"
]
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


def extract_volume(title: str | None) -> tuple[str, str | None]:
    """Split a title into (series, volume). Volume is a canonical string ("3", "21", "上", "1-3") or None."""
    if not title:
        return "", None
    t = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", title)).strip()
    for pat in _PATTERNS:
        m = pat.search(t)
        if not m:
            continue
        vol = _num(m.group(1))
        if m.lastindex and m.lastindex >= 2 and m.group(2):
            vol = f"{vol}-{_num(m.group(2))}"
        return clean_series(t[: m.start()]) or clean_series(t[m.end():]), vol
    if m := _CJK_MID.match(t):
        return clean_series(m.group(1)), _num(m.group(2))
    return clean_series(t), None


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
