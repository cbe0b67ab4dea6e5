"""`python -m crawlers <source> --file PATH | --url URL [--config FILE] [--crawl-date YYYY-MM-DD]`
and `python -m crawlers probe NAME`.

<source> is a source NAME from the sources file (--sources, default $NEWBOOKS_SOURCES_FILE or
chalicelib/config/sources.yaml: its kind and options are used, every kind the same way) or a kind
(see --list) with options from --config.

`probe NAME` fetches the configured source once, politely (robots.txt, its rate, the prod address
policy), following its request/paging configuration, and prints what it parsed (count, first
items, warnings) without storing anything: how an operator checks an unverified source.

Prints a JSON array of records. Every failure the user can cause (bad arguments, unreadable file or
config, fetch error, ParseError) is one line on stderr and exit code 2, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

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
    p.add_argument("--sources", type=Path, help="sources file to look NAME up in (default: the deployed one)")
    return p


def _sources_file(path: Path | None) -> Path:
    from chalicelib.settings import sources_file

    return path if path is not None else sources_file()


def _configured(name: str, path: Path | None) -> Any:
    """The SourceConfig named `name` in the sources file, or None."""
    file = _sources_file(path)
    if not file.exists():
        return None
    from chalicelib.configfile import ConfigError
    from chalicelib.crawl.sources_config import load_sources

    try:
        sources = load_sources(file)
    except ConfigError as exc:
        raise _Fail(str(exc)) from None
    return next((s for s in sources if s.name == name), None)


def _load_config(path: Path | None, source: str) -> dict[str, Any]:
    if path is None:
        return {}
    from chalicelib.configfile import ConfigError, load_mapping

    try:
        data = load_mapping(path)
    except ConfigError as exc:
        raise _Fail(f"config {exc}") from None
    # A multi-source file may nest options under the source name.
    nested = data.get(source)
    return nested if isinstance(nested, dict) else data


def _body(args: argparse.Namespace) -> bytes:
    if args.file is not None:
        try:
            path: Path = args.file
            return path.read_bytes()
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
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["probe"]:
        return probe_main(argv[1:])
    parser = _parser()
    args = parser.parse_args(argv)  # exits 2 with usage on bad arguments
    if args.list:
        for name in sorted(SOURCES):
            print(f"{name}\t{SOURCES[name].DESCRIPTION}")
        return 0
    try:
        if not args.source:
            raise _Fail("a source name is required (see --list)")
        configured = _configured(args.source, args.sources) if args.config is None else None
        try:
            module = get_source(configured.kind if configured else args.source)
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
        options = configured.crawl_options if configured else _load_config(args.config, args.source)
        body = _body(args)
        url = args.url or options.get("url") or (configured.urls[0] if configured and configured.urls else None)
        records = module.parse(body, url=url, crawl_date=crawl_date, options=options)
    except (_Fail, ParseError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        sys.stdout.write(json.dumps([r.to_dict() for r in records], ensure_ascii=False, indent=2) + "\n")
        sys.stdout.flush()
    except BrokenPipeError:  # `| head` closed the pipe: not an error worth a traceback
        sys.stderr.close()
    return 0


def probe_main(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m crawlers probe", description="Fetch a configured source once and "
                                "show what it parsed; nothing is stored.")
    p.add_argument("name", help="source name in the sources file")
    p.add_argument("--sources", type=Path, help="sources file (default: the deployed one)")
    p.add_argument("--crawl-date", help="YYYY-MM-DD (default: today)")
    p.add_argument("--show", type=int, default=3, help="how many parsed items to print")
    p.add_argument("--allow-private", action="store_true",
                   help="allow loopback/private addresses (the local stack and tests only)")
    args = p.parse_args(argv)
    try:
        report = probe(args.name, sources=args.sources, allow_private=args.allow_private, show=args.show,
                       crawl_date=date.fromisoformat(args.crawl_date) if args.crawl_date else date.today())
    except (_Fail, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    sys.stdout.write(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    return 0 if report["ok"] else 1


def probe(name: str, *, sources: Path | None = None, allow_private: bool = False, show: int = 3,
          crawl_date: date) -> dict[str, Any]:
    """One polite crawl of source `name`, in memory. Secrets come from the environment only."""
    from chalicelib.settings import secret_env
    from chalicelib.uptime.ssrf import AddressPolicy

    from .fetcher import Fetcher, FetchError
    from .session import ConfigProblem, crawl_pages
    from .settings import contact_url

    config = _configured(name, sources)
    if config is None:
        raise _Fail(f"no source named {name!r} in {_sources_file(sources)}")
    module = get_source(config.kind)
    contact = contact_url()
    fetcher = Fetcher(user_agent=USER_AGENT.split(" ")[0], contact_url=contact,
                      address_policy=AddressPolicy(allow_private=allow_private),
                      min_host_delay_s=max(1.0, 60.0 / config.rate_per_minute if config.rate_per_minute else 1.0),
                      max_requests=config.budget_per_day)
    report: dict[str, Any] = {"source": name, "kind": config.kind, "enabled": config.enabled, "ok": False}
    if not config.enabled:
        report["disabled_reason"] = config.disabled_reason
    try:
        urls = list(config.urls) or list(module.plan(config.options))
        pages = crawl_pages(fetcher, module, urls, config.crawl_options, crawl_date=crawl_date,
                            state_of=lambda _key: None, stored_body=lambda _key: b"",
                            secret=secret_env)
    except (FetchError, ConfigProblem, ParseError) as exc:
        report["error"] = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, FetchError) and exc.body:
            from .sources.jsonapi import error_message

            report["api_error"] = error_message(exc.body)
        return report
    finally:
        report["requests"] = fetcher.requests_made
        fetcher.close()
    releases = [r for page in pages for r in page.releases]
    warnings = [f"{page.request.url.split('?')[0]}: {page.error}" for page in pages if page.error]
    if not releases and not warnings:
        warnings.append("no items parsed: the source would be marked degraded")
    dated = sum(1 for r in releases if r.release_date)
    if releases and dated < len(releases):
        warnings.append(f"{len(releases) - dated} of {len(releases)} items have no release date")
    report.update(pages=len(pages), count=len(releases), first=[r.to_dict() for r in releases[:show]],
                  warnings=warnings)
    report["ok"] = bool(releases) and not any(page.error for page in pages)
    return report
