"""Pure normalization helpers shared by every parser: text, ISBN/JAN, dates, volumes, prices, ids."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Re-exported ("X as X", so mypy --strict sees them as exported): part of the normalize contract.
from .dates import parse_date as parse_date
from .volumes import EDITION_MARKERS as EDITION_MARKERS
from .volumes import Numbering as Numbering
from .volumes import edition_flags as edition_flags
from .volumes import extract_numbering as extract_numbering
from .volumes import extract_volume as extract_volume
from .volumes import kanji_to_int as kanji_to_int

_WS = re.compile(r"\s+")


def nfkc(s: str | None) -> str | None:
    """NFKC + collapsed whitespace + strip; None stays None. Idempotent."""
    if s is None:
        return None
    out = _WS.sub(" ", unicodedata.normalize("NFKC", s)).strip()
    # NFKC can expose a combining mark after a space (e.g. U+00B4 -> " \u0301"); re-normalize until stable.
    while (again := _WS.sub(" ", unicodedata.normalize("NFKC", out)).strip()) != out:
        out = again
    return out


def text_or_none(s: str | None) -> str | None:
    """nfkc, and '' -> None (APIs send "" for unknown)."""
    out = nfkc(s)
    return out or None


# --- ISBN / JAN -----------------------------------------------------------------------------------

def _digits(s: str) -> str:
    """NFKC (full-width digits become ASCII), separators dropped, upper-cased. Other scripts' digits
    ("᭓", "٣") stay as they are, so the ASCII-only checks below refuse them."""
    return re.sub(r"[\s\-‐‑–—]", "", unicodedata.normalize("NFKC", s)).upper()


def isbn10_check_digit(first9: str) -> str:
    total = sum((10 - i) * int(c) for i, c in enumerate(first9))
    r = (11 - total % 11) % 11
    return "X" if r == 10 else str(r)


def ean13_check_digit(first12: str) -> str:
    total = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(first12))
    return str((10 - total % 10) % 10)


_ASCII_9X = re.compile(r"[0-9]{9}[0-9X]")
_ASCII_13 = re.compile(r"[0-9]{13}")
# GS1 prefixes that are not global trade items: restricted circulation / in-store (020-029,
# 040-049, 200-299), refund receipts (980), coupons (981-982, 99). Followed (read 2026-12-03): GS1
# Ireland "Coupon Numbers" (gs1ie.org/standards/identification/other-identifiers/coupon-numbers.html)
# and the GS1 prefix table (restricted circulation 02, 04, 20-29).
_NOT_GLOBAL_EAN = re.compile(r"^(?:02|04|2|98|99)")


def _all_zero(s: str) -> bool:
    return not s.strip("0X")


def is_valid_isbn10(s: str) -> bool:
    return bool(_ASCII_9X.fullmatch(s)) and not _all_zero(s) and isbn10_check_digit(s[:9]) == s[9]


def is_valid_ean13(s: str) -> bool:
    """13 ASCII digits, right check digit, not all zeros."""
    return bool(_ASCII_13.fullmatch(s)) and not _all_zero(s) and ean13_check_digit(s[:12]) == s[12]


def is_valid_isbn13(s: str) -> bool:
    """An EAN-13 in the book ranges: 978, or 979 except 979-0 (the ISMN of printed music, ISO 10957;
    read 2026-12-03 in BWIPP's ISMN page, github.com/bwipp/postscriptbarcode/wiki/ISMN). An all-zero
    registration part (978-0-000-00000) is refused."""
    return (is_valid_ean13(s) and (s[:3] == "978" or (s[:3] == "979" and s[3] != "0"))
            and not _all_zero(s[3:12]))


def is_valid_jan(s: str) -> bool:
    """A JAN/EAN-13 that names a trade item anywhere (not an in-store or coupon number)."""
    if s[:3] in ("978", "979"):  # the book range: only a real ISBN
        return is_valid_isbn13(s)
    return is_valid_ean13(s) and not _NOT_GLOBAL_EAN.match(s)


def isbn10_to_13(s: str) -> str | None:
    """ISBN-10 -> ISBN-13 (978 prefix); None when the input is not a valid ISBN-10."""
    d = _digits(s)
    if not is_valid_isbn10(d):
        return None
    core = "978" + d[:9]
    return core + ean13_check_digit(core)


def isbn13_to_10(s: str) -> str | None:
    """ISBN-13 -> ISBN-10; None when invalid or 979-prefixed (those have no ISBN-10)."""
    d = _digits(s)
    if not is_valid_isbn13(d) or not d.startswith("978"):
        return None
    return d[3:12] + isbn10_check_digit(d[3:12])


def normalize_isbn(s: str | None) -> str | None:
    """Any ISBN-10/13 spelling (hyphens, spaces, full-width, 'ISBN' prefix) -> ISBN-13, or None if bad checksum."""
    if not s:
        return None
    d = re.sub(r"^ISBN(?:-1[03])?:?", "", _digits(s))
    if len(d) == 10:
        return isbn10_to_13(d)
    if len(d) == 13 and is_valid_isbn13(d):
        return d
    return None


def normalize_jan(s: str | None) -> str | None:
    """A 13-digit JAN/EAN with a valid check digit, or None."""
    if not s:
        return None
    d = _digits(s)
    return d if is_valid_jan(d) else None


ISBN_IN_TEXT = re.compile(r"(?<![\dX])(97[89][\d\- ]{10,14}|\d[\d\- ]{8,11}[\dX])(?![\dX])", re.I | re.ASCII)


def find_isbn(text: str | None) -> str | None:
    """First valid ISBN found in free text (feeds, HTML), as ISBN-13."""
    for m in ISBN_IN_TEXT.finditer(unicodedata.normalize("NFKC", text or "")):
        if isbn := normalize_isbn(m.group(1)):
            return isbn
    return None


# --- Prices ---------------------------------------------------------------------------------------

_PRICE = re.compile(r"(\d[\d,]*(?:\.\d+)?)")
_CURRENCY_HINTS = (("$", "USD"), ("US$", "USD"), ("¥", "JPY"), ("円", "JPY"), ("€", "EUR"), ("£", "GBP"))


def parse_price(s: str | float | int | None, *, default_currency: str | None = None) -> tuple[str | None, str | None]:
    """'$3.99' -> ('3.99','USD'); '¥660', '660円(税込)', '本体660円+税' -> ('660','JPY'); 'PI'/'$PI' -> (None, None).

    Returns a canonical decimal string (no thousands separators, no trailing '.0') and an ISO code.
    """
    if s is None or isinstance(s, bool):
        return None, None
    if isinstance(s, (int, float)):
        if s <= 0:
            return None, None
        text = repr(float(s)) if isinstance(s, float) else str(s)
        return _canon(text), default_currency
    t = unicodedata.normalize("NFKC", s).strip()
    m = _PRICE.search(t)
    if not m:
        return None, None
    amount = _canon(m.group(1).replace(",", ""))
    if amount is None:
        return None, None
    currency = next((code for sym, code in _CURRENCY_HINTS if sym in t), default_currency)
    return amount, currency


def _canon(num: str) -> str | None:
    head, _, tail = num.partition(".")
    tail = tail.rstrip("0")
    if not head.isdigit() or (int(head) == 0 and not tail):
        return None
    return str(int(head)) + (f".{tail}" if tail else "")


# --- Series keys and release ids ------------------------------------------------------------------

_PUNCT = re.compile(r"[\W_]+", re.UNICODE)
_PARALLEL = re.compile(r"\s+[=:]\s+.*$")


def strip_parallel_title(s: str) -> str:
    """Library catalogs write 'ブルーロック = BLUELOCK' and 'キングダム : 完全版'; keep the main title."""
    return _PARALLEL.sub("", s).strip()


def legacy_series_key(series: str | None) -> str:
    """The series key before issue 12 (no articles, years, kana folding or aliases). Frozen: release
    ids (`<source>:<key>:<volume>`) use it so they never move, and follows stored under it still match."""
    if not series:
        return ""
    t = unicodedata.normalize("NFKC", series).casefold()
    t = EDITION_MARKERS.sub(" ", t)
    return cap_key(_PUNCT.sub("", t), MAX_SERIES_KEY_BYTES)


_ARTICLE = re.compile(r"^(?:the|an?)\s+(?=\S)")
_YEAR_PAREN = re.compile(r"\(\s*(?:19|20)\d\d\s*\)")
_YEAR_TAIL = re.compile(r"(?<=\S)\s+(?:19|20)\d\d\s*$")
_HIRAGANA = {c: c + 0x60 for c in range(0x3041, 0x3097)}  # ぁ..ゖ -> ァ..ヶ


@lru_cache(maxsize=8192)  # pure; a weekly list repeats series names (covers, printings)
def base_series_key(series: str | None) -> str:
    """The normalization without aliases: NFKC (full-width -> ASCII, half-width kana -> kana),
    hiragana -> katakana, casefold, a leading English article ("The", "A", "An") and edition markers
    dropped, a start year dropped ("(2019)", or a trailing "2019"), "&" read as "and", then every
    space and punctuation mark removed. Never strips a name down to nothing ("1984" stays "1984")."""
    if not series:
        return ""
    t = unicodedata.normalize("NFKC", series).translate(_HIRAGANA).casefold().strip()
    t = EDITION_MARKERS.sub(" ", t)
    t = _ARTICLE.sub("", _YEAR_TAIL.sub("", _YEAR_PAREN.sub(" ", t)).strip()) or t
    t = t.replace("&", " and ")
    return cap_key(_PUNCT.sub("", t) or _PUNCT.sub("", unicodedata.normalize("NFKC", series).casefold()),
                   MAX_SERIES_KEY_BYTES)


def series_key(series: str | None) -> str:
    """Matching key for a series: `base_series_key`, then the alias lists (crawlers/series_aliases.json,
    plus $NEWBOOKS_SERIES_ALIASES when set) map every alias to its series' key.

    'ONE PIECE', 'One Piece', 'ＯＮＥ　ＰＩＥＣＥ 特装版' and (by alias) 'ワンピース' all give 'onepiece';
    'The Walking Dead' and 'WALKING DEAD' give 'walkingdead'; 'DEJAH THORIS (2019)' gives 'dejahthoris'.
    """
    key = base_series_key(series)
    return series_aliases().get(key, key)


_ALIASES: dict[str, str] | None = None


def series_aliases() -> dict[str, str]:
    """{alias base key: series base key}, loaded once per process."""
    global _ALIASES
    if _ALIASES is None:
        _ALIASES = load_aliases()
    return _ALIASES


def load_aliases(*paths: str) -> dict[str, str]:
    """Read alias lists: `{"series": [{"name": "ONE PIECE", "aliases": ["ワンピース"]}, ...]}`.
    An alias claimed by two series is a configuration error (it would merge them silently)."""
    import json
    from pathlib import Path

    from crawlers.settings import series_aliases_file

    files = list(paths) or [str(Path(__file__).with_name("series_aliases.json"))]
    if not paths and series_aliases_file():
        files.append(str(series_aliases_file()))
    out: dict[str, str] = {}
    for path in files:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
        for entry in doc.get("series") or []:
            target = base_series_key(entry["name"])
            for alias in entry.get("aliases") or []:
                key = base_series_key(alias)
                if key == target:
                    continue
                if out.get(key, target) != target:
                    raise ValueError(f"series alias {alias!r} is listed under two series ({out[key]}, {target})")
                out[key] = target
    return out


# DynamoDB key limits: partition key 2048 bytes, sort key 1024 bytes (Amazon DynamoDB Developer
# Guide, "Constraints in Amazon DynamoDB" > Partition keys and sort keys, read 2026-12-03). A release id is part of
# "<date>#<id>" sort keys and a series key of "SERIES#<key>" index keys, so both stay well inside.
MAX_ID_BYTES = 900
MAX_SERIES_KEY_BYTES = 512


def cap_key(text: str, max_bytes: int) -> str:
    """`text` unchanged when it fits in max_bytes of UTF-8; else its head and a hash of the whole
    (deterministic, so the same long title always gives the same key)."""
    raw = text.encode()
    if len(raw) <= max_bytes:
        return text
    import hashlib

    head = raw[: max_bytes - 17].decode("utf-8", "ignore")
    return f"{head}~{hashlib.sha256(raw).hexdigest()[:16]}"


def release_id(
    source: str,
    *,
    isbn: str | None = None,
    jan: str | None = None,
    item_code: str | None = None,
    series: str | None = None,
    volume: str | None = None,
    issue: str | None = None,
) -> str:
    """Deterministic identity: isbn:<13> > jan:<13> > <source>:<item code> > <source>:<series_key>:<volume>.

    A JAN in the 978/979 range is an ISBN and gets the isbn: id, so both spellings meet.
    """
    if isbn and (i := normalize_isbn(isbn)):
        return f"isbn:{i}"
    if jan and (j := normalize_jan(jan)):
        return f"isbn:{j}" if is_valid_isbn13(j) else f"jan:{j}"
    if item_code:
        return cap_key(f"{source}:{item_code}", MAX_ID_BYTES)
    key = legacy_series_key(series)
    if not key:
        raise ValueError("release_id needs an isbn, jan, item code or series")
    number = nfkc(volume) or "-"
    if issue and nfkc(issue) != number:  # "VOL 2 #3" -> "2#3"; a plain "#3" keeps its old id "3"
        number = f"{number}#{nfkc(issue)}"
    return cap_key(f"{source}:{key}:{number}", MAX_ID_BYTES)
