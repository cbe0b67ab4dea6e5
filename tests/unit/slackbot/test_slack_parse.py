"""Pure parsing of `/newbooks` text."""
from __future__ import annotations

import pytest

from chalicelib.slackbot import commands as c
from chalicelib.slackbot.commands import Command, parse


@pytest.mark.parametrize(
    "text,name,arg",
    [
        ("", c.FOLLOWED, ""),
        ("   ", c.FOLLOWED, ""),
        ("\u3000", c.FOLLOWED, ""),  # a lone full-width space
        (None, c.FOLLOWED, ""),
        ("today", c.TODAY, ""),
        ("TODAY", c.TODAY, ""),
        ("ｔｏｄａｙ", c.TODAY, ""),  # full-width letters
        ("今日", c.TODAY, ""),
        ("week", c.WEEK, ""),
        ("今週", c.WEEK, ""),
        ("next", c.NEXT, ""),
        ("来週", c.NEXT, ""),
        ("search ONE PIECE", c.SEARCH, "ONE PIECE"),
        ("search\u3000ワンピース\u3000１０８", c.SEARCH, "ワンピース １０８"),
        ("検索 ワンピース", c.SEARCH, "ワンピース"),
        ("search 978-4-08-883700-0", c.SEARCH, "978-4-08-883700-0"),
        ("follow ONE   PIECE", c.FOLLOW, "ONE PIECE"),
        ("フォロー　ＯＮＥ　ＰＩＥＣＥ", c.FOLLOW, "ＯＮＥ ＰＩＥＣＥ"),  # the label keeps what was typed
        ("  follow\tSaga  ", c.FOLLOW, "Saga"),
        ("unfollow ワンピース", c.UNFOLLOW, "ワンピース"),
        ("フォロー解除 ワンピース", c.UNFOLLOW, "ワンピース"),
        ("following", c.FOLLOWING, ""),
        ("フォロー中", c.FOLLOWING, ""),
        ("status", c.STATUS, ""),
        ("ステータス", c.STATUS, ""),
        ("help", c.HELP, ""),
        ("ヘルプ", c.HELP, ""),
        ("help me please", c.HELP, ""),
    ],
)
def test_parse(text, name, arg):
    command = parse(text)
    assert (command.name, command.arg) == (name, arg)
    assert not command.is_unknown


def test_slack_entities_are_unescaped_before_parsing():
    command = parse("search Tom &amp; Jerry &lt;3&gt;")
    assert command == Command(c.SEARCH, arg="Tom & Jerry <3>", raw="search Tom & Jerry <3>")


@pytest.mark.parametrize(
    "text,problem,word",
    [
        ("frobnicate", c.UNKNOWN_WORD, "frobnicate"),
        ("ばんざい 三唱", c.UNKNOWN_WORD, "ばんざい"),
        ("<!channel>", c.UNKNOWN_WORD, "<!channel>"),
        ("follow", c.NEEDS_ARG_PROBLEM, c.FOLLOW),
        ("search\u3000", c.NEEDS_ARG_PROBLEM, c.SEARCH),
        ("unfollow", c.NEEDS_ARG_PROBLEM, c.UNFOLLOW),
        ("today please", c.NO_ARG_PROBLEM, c.TODAY),
        ("status all", c.NO_ARG_PROBLEM, c.STATUS),
        ("follow " + "あ" * 201, c.TOO_LONG, c.FOLLOW),
    ],
)
def test_unknown_or_malformed_input_is_help_with_a_reason(text, problem, word):
    command = parse(text)
    assert command.name == c.HELP and command.is_unknown
    assert (command.problem, command.word) == (problem, word)


def test_argument_of_exactly_the_limit_is_accepted():
    assert parse("follow " + "あ" * c.MAX_ARG_CHARS).name == c.FOLLOW
