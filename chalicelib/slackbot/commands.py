"""Pure parsing of `/newbooks` text into a Command.

Slack sends the text after the command as typed, with `&`, `<`, `>` escaped as HTML entities.
Words are split on any Unicode whitespace (the full-width space `　` included); the verb is
matched after NFKC + casefold, so `ＦＯＬＬＯＷ` is `follow`, and Japanese verbs are accepted
(`フォロー`, `今週`, `検索`, ...). The argument keeps what the user typed, with runs of
whitespace collapsed to one space.

    (empty)              followed   this week's releases of the series the channel follows
    today | week | next  releases dated today / this week / next week (all series)
    week merch | week all  the same lists with merchandise only / everything (CATEGORY_WORDS)
    search <text>        title, series or ISBN
    follow <series>      unfollow <series>      following
    status               uptime summary, targets down first
    target               opens the add-a-monitoring-target form (a modal)
    follow (no argument) opens the follow form: keyword, publisher, digest, quiet hours, DM
    help                 anything else -> help (with the reason), never an error
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

FOLLOWED = "followed"
TODAY = "today"
WEEK = "week"
NEXT = "next"
SEARCH = "search"
FOLLOW = "follow"
UNFOLLOW = "unfollow"
FOLLOWING = "following"
STATUS = "status"
TARGET = "target"
HELP = "help"

NEEDS_ARG = frozenset({SEARCH, FOLLOW, UNFOLLOW})
NO_ARG = frozenset({TODAY, WEEK, NEXT, FOLLOWING, STATUS, TARGET})
MAX_ARG_CHARS = 200
LISTS = frozenset({TODAY, WEEK, NEXT})
# `week merch`: the one argument the list verbs take, a category (merchandise is left out otherwise)
CATEGORY_WORDS = {"merch": "merchandise", "merchandise": "merchandise", "goods": "merchandise",
                  "グッズ": "merchandise", "all": "all", "全部": "all"}

UNKNOWN_WORD = "unknown"
NEEDS_ARG_PROBLEM = "needs_arg"
NO_ARG_PROBLEM = "no_arg"
TOO_LONG = "too_long"

ALIASES = {
    "today": TODAY, "今日": TODAY, "きょう": TODAY, "本日": TODAY,
    "week": WEEK, "thisweek": WEEK, "今週": WEEK, "こんしゅう": WEEK,
    "next": NEXT, "nextweek": NEXT, "来週": NEXT, "らいしゅう": NEXT,
    "search": SEARCH, "find": SEARCH, "検索": SEARCH, "けんさく": SEARCH, "探す": SEARCH, "さがす": SEARCH,
    "follow": FOLLOW, "フォロー": FOLLOW, "登録": FOLLOW,
    "unfollow": UNFOLLOW, "フォロー解除": UNFOLLOW, "解除": UNFOLLOW, "登録解除": UNFOLLOW,
    "following": FOLLOWING, "follows": FOLLOWING, "list": FOLLOWING, "フォロー中": FOLLOWING,
    "フォロー一覧": FOLLOWING, "一覧": FOLLOWING,
    "status": STATUS, "uptime": STATUS, "状態": STATUS, "ステータス": STATUS, "稼働状況": STATUS,
    "target": TARGET, "add-target": TARGET, "監視": TARGET, "監視追加": TARGET,
    "help": HELP, "?": HELP, "ヘルプ": HELP, "使い方": HELP,
}

# Slack escapes exactly these three in slash-command text.
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))
_SPACE = re.compile(r"\s+", re.UNICODE)  # str patterns: \s includes U+3000 IDEOGRAPHIC SPACE


@dataclass(frozen=True)
class Command:
    name: str
    arg: str = ""
    problem: str = ""  # for HELP: UNKNOWN_WORD | NEEDS_ARG_PROBLEM | NO_ARG_PROBLEM | TOO_LONG ("" = asked)
    word: str = ""  # the word the problem is about, as typed (escaped when rendered)
    raw: str = ""  # the unescaped text as typed

    @property
    def is_unknown(self) -> bool:
        return self.name == HELP and bool(self.problem)


def unescape(text: str) -> str:
    for entity, char in _ENTITIES:
        text = text.replace(entity, char)
    return text


def verb_key(word: str) -> str:
    return unicodedata.normalize("NFKC", word).casefold()


def parse(text: str | None) -> Command:
    raw = unescape(text or "").strip()
    words = [w for w in _SPACE.split(raw) if w]
    if not words:
        return Command(FOLLOWED, raw=raw)
    verb = verb_key(words[0])
    name = ALIASES.get(verb)
    arg = " ".join(words[1:])
    if name is None:
        return Command(HELP, problem=UNKNOWN_WORD, word=words[0], raw=raw)
    if name == HELP:
        return Command(HELP, raw=raw)
    if name in NEEDS_ARG and not arg:
        return Command(HELP, problem=NEEDS_ARG_PROBLEM, word=name, raw=raw)
    if name in LISTS and arg and verb_key(arg) in CATEGORY_WORDS:
        return Command(name, arg=CATEGORY_WORDS[verb_key(arg)], raw=raw)
    if name in NO_ARG and arg:
        return Command(HELP, problem=NO_ARG_PROBLEM, word=name, raw=raw)
    if len(arg) > MAX_ARG_CHARS:
        return Command(HELP, problem=TOO_LONG, word=name, raw=raw)
    return Command(name, arg=arg, raw=raw)
