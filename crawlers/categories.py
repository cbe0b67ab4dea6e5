"""What kind of thing a release is: comics/manga, collected editions, magazines, merchandise.

Merchandise (toys, apparel, games, supplies) is kept but not announced or listed unless asked for.
A list's own section ("MERCHANDISE", "MAGAZINES", "BOOKS" on the Diamond list) wins over the
title; otherwise the title's catalog words decide (Diamond abbreviates: AF = action figure, T/S =
t-shirt, BMB DS = blind-box display, T/C = trading cards, VIN FIG = vinyl figure).
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

COMIC, COLLECTED, MAGAZINE, MERCHANDISE = "comic", "collected", "magazine", "merchandise"
CATEGORIES: tuple[str, ...] = (COMIC, COLLECTED, MAGAZINE, MERCHANDISE)
LISTED_BY_DEFAULT: frozenset[str] = frozenset({COMIC, COLLECTED, MAGAZINE})

_MAGAZINE = re.compile(r"\bMAG\b|\bMAGAZINE\b|^PREVIEWS\b|\[雑誌\]|月号|増刊|週刊|月刊", re.I)
_MERCH = re.compile(
    r"\b(?:AF|ACTION FIG(?:URE)?S?|(?:PVC |VIN(?:YL)? )?FIG(?:URE)?S?|FIGMA|FIGUARTS|NENDOROID|Q-POSKET|STATUES?|"
    r"BUSTS?|PLUSH(?:IE)?|BEA|T/S|TEE|HOODIE|JERSEY|SNAP ?BACK CAP|CAP|HAT|SOCKS|SCARF|MUG|PINT GLASS|GLASS|"
    r"KEYCHAIN|KEYRING|PINS?|MAGNET|POSTER|DVD|BD|BLU-?RAY|DICE(?: SET)?|(?:BOARD |CARD |PARTY )?GAME|TCG|LCG|"
    r"DECK|BOOSTER|T/C|TRADING CARDS?|MINIS|MODEL KIT|KIT|DOLL|REPLICA|PROP|MASK|WALL DECOR|BAG CLIPS?|BACKPACK|"
    r"WALLET|TOTE|LUNCHBOX|BOOKENDS?|LAMP|CLOCK|BANK|PUZZLE|BMB DS|DS|ASST|DISPLAY|\d+PC|\d+PK|SQUISHY|"
    r"PEN TOPPER|DRONE|FUNKO|PINATA|SWORD|GUITAR|FLASHLIGHT|STICKERS?(?: SET)?|BADGE(?: SET)?|PATCH|BLANKET|"
    r"TOWEL|PILLOW|CUP|BOTTLE|COASTERS?|ORNAMENT|LONGBOARD|SKATEBOARD|BAGS?|BOARDS|SHORT BOX|LONG BOX|MYLAR|"
    r"PAPER CHARACTER|FOAM|MASCOT|ARTBOX|PRINT SET|LITHOGRAPH|CALENDAR|JIGSAW|HEROCLIX|MINIATURES?|RAGLAN|LP|"
    r"(?:AUDIO )?CD|BRACELET|KEY CHAIN|FLIP MAT|LAVA LITE|COWL|HELMET|BLIND BOX|T-SHIRT|HEADBAND|WRIST ?BAND|"
    r"BEANIE|SNAPBACK|BELT|SATCHEL|PURSE|MINIMATES|CHOGOKIN|FI|BUDDIES)\b"
    r"|^POP\b|グッズ|フィギュア|ぬいぐるみ|キーホルダー|缶バッジ|アクリルスタンド|Tシャツ",
    re.I,
)
_BOOK = re.compile(r"\b(?:TPB?|HC|GN|SC|OMNIBUS|COMPENDIUM|TRADE PAPERBACK|HARDCOVER|GRAPHIC NOVEL|ART OF|"
                   r"ARTBOOK|NOVEL|PROSE|COOKBOOK|GUIDE)\b", re.I)
_ISSUE = re.compile(r"#\s*[\d½.]")
_SECTIONS = {"MERCHANDISE": MERCHANDISE, "MAGAZINES": MAGAZINE, "BOOKS": COLLECTED}


@lru_cache(maxsize=8192)  # pure; lists repeat titles across weeks and sources
def classify(title: str | None, *, section: str | None = None) -> str:
    """The category of a release from its title and (when the list has one) its section."""
    t = unicodedata.normalize("NFKC", title or "")
    hint = _SECTIONS.get((section or "").strip().upper())
    if hint is not None and hint != MERCHANDISE:
        return hint
    merch = _MERCH.search(t)
    if hint == MERCHANDISE:  # Diamond files books and promo comics there too
        if _BOOK.search(t):
            return COLLECTED
        return COMIC if not merch and _ISSUE.search(t) else MERCHANDISE
    if _MAGAZINE.search(t):
        return MAGAZINE
    # "FOO #3 ... VIN FIG" is a toy; "FOO AF #3" (words only before the number) is a comic
    if merch and not (_ISSUE.search(t) and not _MERCH.search(t.split("#", 1)[1])):
        return MERCHANDISE
    if _BOOK.search(t):
        return COLLECTED
    return COMIC


def parse_filter(value: str | None) -> frozenset[str]:
    """`category` query value -> the categories to list: "" / None = the default (no merchandise),
    "all", or a comma list ("comic,merchandise"). ValueError names an unknown one."""
    if not value:
        return LISTED_BY_DEFAULT
    if value.strip().lower() == "all":
        return frozenset(CATEGORIES)
    wanted = {v.strip().lower() for v in value.split(",") if v.strip()}
    unknown = sorted(wanted - set(CATEGORIES))
    if unknown or not wanted:
        raise ValueError(f"unknown category {', '.join(unknown) or value!r}; known: {', '.join(CATEGORIES)}, all")
    return frozenset(wanted)
