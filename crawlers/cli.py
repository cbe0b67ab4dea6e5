"""`python -m crawlers <source> --file PATH | --url URL [--config FILE] [--crawl-date YYYY-MM-DD]`.

Prints a JSON array of records. Every failure the user can cause (bad arguments, unreadable file or
config, fetch error, ParseError) is one line on stderr and exit code 2, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any, Sequence

from . import SOURCES, get_source
from .errors import ParseError

USER_AGENT = "newbooks-crawler/1.0"  # the fetcher appends the contact URL from NEWBOOKS_CONTACT_URL
EXIT_USAGE = 2


class _Fail(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m crawlers", description="Parse a release source into JSON records.")
    p.add_argument("source", nargs="?", help="source name (see --list)")
    p.add_argument("--list", action="store_true", help="list sources, one per line")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--file", type=Path, help="read the body from a file")
    src.add_argument("--url", help="fetch the body (polite fetcher)")
    p.add_argument("--config", type=Path, help="YAML options (selectors for html, application_id for rakuten...)")
    p.add_argument("--crawl-date", help="YYYY-MM-DD used to resolve dates without a year")
    p.add_argument("--user-agent", default=USER_AGENT)
    return p


def _load_config(path: Path | None, source: str) -> dict[str, Any]:
    if path is None:
        return {}
    import yaml  # lazy: only the CLI with --config needs it

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise _Fail(f"cannot read config {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise _Fail(f"invalid YAML in {path}: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise _Fail(f"config {path} must be a mapping")
    # A multi-source file may nest options under the source name.
    nested = data.get(source)
    return nested if isinstance(nested, dict) else data


def _body(args: argparse.Namespace) -> bytes:
    if args.file is not None:
        try:
            return args.file.read_bytes()
        except OSError as exc:
            raise _Fail(f"cannot read {args.file}: {exc.strerror or exc}") from None
    from .fetcher import fetch  # lazy: network code only on the --url path

    try:
        resp = fetch(args.url, user_agent=args.user_agent)
    except Exception as exc:  # any transport failure is a user-facing error here
        raise _Fail(f"fetch failed for {args.url}: {exc.__class__.__name__}: {exc}") from None
    status = getattr(resp, "status", None)
    if status is None or not 200 <= int(status) < 300:
        raise _Fail(f"fetch of {args.url} returned HTTP {status}")
    return resp.body


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)  # exits 2 with usage on bad arguments
    if args.list:
        for name in sorted(SOURCES):
            print(f"{name}\t{SOURCES[name].DESCRIPTION}")
        return 0
    try:
        if not args.source:
            raise _Fail("a source name is required (see --list)")
        try:
            module = get_source(args.source)
        except KeyError as exc:
            raise _Fail(str(exc.args[0])) from None
        if args.file is None and args.url is None:
            raise _Fail("one of --file or --url is required")
        crawl_date = None
        if args.crawl_date:
            try:
                crawl_date = date.fromisoformat(args.crawl_date)
            except ValueError:
                raise _Fail(f"--crawl-date must be YYYY-MM-DD, got {args.crawl_date!r}") from None
        options = _load_config(args.config, args.source)
        body = _body(args)
        records = module.parse(body, url=args.url or options.get("url"), crawl_date=crawl_date, options=options)
    except (_Fail, ParseError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        sys.stdout.write(json.dumps([r.to_dict() for r in records], ensure_ascii=False, indent=2) + "\n")
        sys.stdout.flush()
    except BrokenPipeError:  # `| head` closed the pipe: not an error worth a traceback
        sys.stderr.close()
    return 0
