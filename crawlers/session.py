"""One crawl of one source: the requests its configuration describes, through the polite fetcher.

A source's `request`, `paging` and `stop` options (sources.yaml) become plain requests here:

    request:
      method: POST                        # default GET
      params: {from: "{window_start}", cnt: 500}
      headers: {Origin: https://example.org, X-Key: "${secret:example_key}"}
      auth: {basic: {user: "${secret:metron_user}", password: "${secret:metron_password}"}}
                                          # or {bearer: "${secret:token}"}
      form: {q: manga}                    # or json: {...}: the POST body
      window: {back_days: 7, ahead_days: 60}   # {window_start}/{window_end}, ISO dates
      prefetch:                           # two-step: one request first, values from its answer
        url: https://example.org/search
        extract: {nonce: {regex: 'name="nonce" value="([^"]+)"'}}   # or {jmespath: ...}, {header: ...}
    paging: {type: page, param: page, start: 1}        # page number
            {type: offset, param: idx, start: 1, step: 500}
            {type: next}                                # next link from the body (kind's next_page)
            {type: cursor, param: cursor}               # cursor from the body (kind's next_page)
    stop: {max_pages: 10, older_than_days: 30}          # defaults: 10 pages, no date window

`${secret:NAME}` is resolved when the request is built (environment NAME upper-cased, then SSM,
through the `secret` callable the caller passes); plain `${VAR}` was already expanded when the
file was loaded. Template values are only substituted in string leaves.

A next link is followed only on the source's own origin (scheme, host, port): the source's headers
and credentials must not go to a host the answer names. Paging stops at max_pages, on an empty page, on a page whose newest item is older than the window,
when the body names no next page (or its last page), and when the first page is unchanged
(304 or same hash: the listing has not moved, so the later pages are not asked for).
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Callable, Mapping
from urllib.parse import urlencode

from .errors import ParseError

__all__ = ["ConfigProblem", "Page", "Request", "build_request", "crawl_pages", "request_key"]

DEFAULT_MAX_PAGES = 10
_SECRET = re.compile(r"\$\{secret:([A-Za-z_][A-Za-z0-9_]*)\}")
_TEMPLATE = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


class ConfigProblem(ValueError):
    """The source's configuration cannot make a request (a secret is not set, a bad option)."""


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None
    state_key: str | None = None  # set when a per-run value (a two-step nonce) is in the request

    @property
    def key(self) -> str:
        """What the stored fetch state of this request is keyed by: the URL for a GET (as before),
        the URL plus a hash of the body for a POST; without the two-step values, which change on
        every run and would make every crawl look new."""
        return self.state_key or request_key(self.method, self.url, self.content)


def request_key(method: str, url: str, content: bytes | None) -> str:
    if method == "GET" and not content:
        return url
    return f"{method} {url} {hashlib.sha256(content or b'').hexdigest()[:16]}"


@dataclass
class Page:
    request: Request
    result: Any  # crawlers.fetcher.FetchResult
    body: bytes  # the body parsed (the stored one when the answer was "unchanged")
    releases: list[Any]
    error: str | None = None


def _fill(value: Any, variables: Mapping[str, str], secret: Callable[[str], str | None]) -> Any:
    if isinstance(value, dict):
        return {k: _fill(v, variables, secret) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, variables, secret) for v in value]
    if not isinstance(value, str):
        return value

    def from_secret(match: re.Match[str]) -> str:
        found = secret(match.group(1))
        if not found:
            raise ConfigProblem(f"secret {match.group(1)} is not configured (env {match.group(1).upper()} or SSM)")
        return found

    value = _SECRET.sub(from_secret, value)
    return _TEMPLATE.sub(lambda m: str(variables[m.group(1)]) if m.group(1) in variables else m.group(0), value)


def window_variables(options: Mapping[str, Any], crawl_date: date) -> dict[str, str]:
    window = (options.get("request") or {}).get("window") or {}
    back = int(window.get("back_days", 7))
    ahead = int(window.get("ahead_days", 60))
    return {
        "today": crawl_date.isoformat(),
        "window_start": (crawl_date - timedelta(days=back)).isoformat(),
        "window_end": (crawl_date + timedelta(days=ahead)).isoformat(),
    }


def build_request(url: str, options: Mapping[str, Any], variables: Mapping[str, Any],
                  secret: Callable[[str], str | None], *, extra_params: Mapping[str, Any] | None = None) -> Request:
    """The request for `url` under the source's `request` options (pure, apart from `secret`)."""
    spec = _fill(dict(options.get("request") or {}), variables, secret)
    method = str(spec.get("method") or "GET").upper()
    headers = {str(k): str(v) for k, v in (spec.get("headers") or {}).items()}
    auth = spec.get("auth") or {}
    if "basic" in auth:
        pair = f"{auth['basic'].get('user', '')}:{auth['basic'].get('password', '')}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
    elif "bearer" in auth:
        headers["Authorization"] = f"Bearer {auth['bearer']}"
    elif auth:
        raise ConfigProblem(f"unknown auth {sorted(auth)}; use basic or bearer")
    params = {**{k: v for k, v in (spec.get("params") or {}).items() if v is not None}, **(extra_params or {})}
    if params:
        url = url + ("&" if "?" in url else "?") + urlencode({k: str(v) for k, v in params.items()})
    content = None
    if spec.get("json") is not None:
        content = json.dumps(spec["json"], ensure_ascii=False, separators=(",", ":")).encode()
        headers.setdefault("Content-Type", "application/json")
    elif spec.get("form") is not None:
        content = urlencode({k: str(v) for k, v in spec["form"].items()}).encode()
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    if content is not None and method == "GET":
        method = "POST"
    return Request(method, url, headers, content)


def extract_values(extract: Mapping[str, Any], body: bytes, headers: Mapping[str, str]) -> dict[str, str]:
    """Two-step: the values the next request needs, from the first answer. Missing -> ParseError."""
    out: dict[str, str] = {}
    for name, how in extract.items():
        value = None
        if "regex" in how:
            found = re.search(how["regex"], body.decode("utf-8", "replace"))
            value = found.group(1) if found else None
        elif "jmespath" in how:
            import jmespath

            try:
                value = jmespath.search(how["jmespath"], json.loads(body))
            except ValueError:
                value = None
        elif "header" in how:
            value = headers.get(str(how["header"]).lower())
        if value in (None, ""):
            raise ParseError("prefetch", f"no {name!r} in the first step's answer (the page changed shape?)")
        out[name] = str(value)
    return out


def crawl_pages(
    fetcher: Any,
    module: Any,
    urls: list[str],
    options: Mapping[str, Any],
    *,
    crawl_date: date,
    state_of: Callable[[str], Any],
    stored_body: Callable[[str], bytes],
    secret: Callable[[str], str | None] = lambda _name: None,
) -> list[Page]:
    """Fetch (and parse) every page of the source. A fetch failure raises the fetcher's
    FetchError; a parse failure is kept on its page (the caller judges health)."""
    variables: dict[str, Any] = window_variables(options, crawl_date)
    prefetch = (options.get("request") or {}).get("prefetch")
    if prefetch:
        first = build_request(prefetch["url"], {"request": {k: v for k, v in (options.get("request") or {}).items()
                                                             if k in ("headers", "auth")}}, variables, secret)
        answer = fetcher.fetch(first.url, None, method=first.method, headers=first.headers)
        variables.update(extract_values(prefetch.get("extract") or {}, answer.body, answer.headers))
        fetcher = _KeyedFetcher(fetcher, options, variables, set(prefetch.get("extract") or {}), secret)
    paging = dict(options.get("paging") or {})
    stop = dict(options.get("stop") or {})
    max_pages = int(stop.get("max_pages", DEFAULT_MAX_PAGES))
    oldest_allowed = (crawl_date - timedelta(days=int(stop["older_than_days"]))).isoformat() \
        if stop.get("older_than_days") is not None else None

    if not paging:
        return _single_pages(fetcher, module, urls, options, variables, crawl_date, state_of, stored_body, secret)
    pages: list[Page] = []
    for url in urls:
        next_url: str = url
        extra: dict[str, Any] = {}
        if paging.get("type") in ("page", "offset"):
            extra[paging["param"]] = int(paging.get("start", 1))
        for number in range(max_pages):
            variables["page"] = number + 1
            request = _keyed(fetcher, build_request(next_url, options, variables, secret, extra_params=extra),
                             next_url, extra)
            result = fetcher.fetch(request.url, state_of(request.key), method=request.method,
                                   headers=request.headers, content=request.content)
            if not result.changed and number == 0:
                pages.append(Page(request, result, b"", []))
                break  # the listing has not moved: the later pages are not asked for
            body = result.body if result.changed else stored_body(request.key)
            page = Page(request, result, body, [])
            try:
                page.releases = module.parse(body, url=request.url, crawl_date=crawl_date, options=dict(options))
            except Exception as exc:  # judged by the caller: a shape change degrades the source
                page.error = f"{type(exc).__name__}: {exc}"[:300]
            pages.append(page)
            if page.error or not page.releases:
                break
            if oldest_allowed and _newest(page.releases) < oldest_allowed:
                break  # sorted by date: everything further is older than the window
            hint = module.next_page(body, url=request.url, options=dict(options)) \
                if hasattr(module, "next_page") else {}
            kind = paging.get("type")
            if kind == "page":
                if hint.get("last_page") is not None and extra[paging["param"]] >= int(hint["last_page"]):
                    break
                extra[paging["param"]] += 1
            elif kind == "offset":
                extra[paging["param"]] += int(paging.get("step") or len(page.releases))
                if hint.get("total") is not None and extra[paging["param"]] > int(hint["total"]):
                    break
            elif kind == "next":
                if not hint.get("next"):
                    break
                candidate = _join(request.url, str(hint["next"]))
                if _origin(candidate) != _origin(url):
                    break  # a next link to another host would receive the source's credentials
                next_url = candidate
                extra = {}
                options = {**options, "request": {**(options.get("request") or {}), "params": {}}}
            elif kind == "cursor":
                if not hint.get("cursor"):
                    break
                extra[paging.get("param", "cursor")] = hint["cursor"]
            else:
                raise ConfigProblem(f"unknown paging type {kind!r}; use page, offset, next or cursor")
    return pages


class _KeyedFetcher:
    """Wraps the fetcher for a two-step source: requests are keyed as if the per-run values were
    still placeholders, so an unchanged answer is recognised across runs."""

    def __init__(self, fetcher: Any, options: Mapping[str, Any], variables: dict[str, Any], names: set[str],
                 secret: Callable[[str], str | None]) -> None:
        self._fetcher, self._options, self._variables, self._names, self._secret = fetcher, options, variables, names, secret

    def key_for(self, url: str, extra: Mapping[str, Any] | None) -> str:
        stable = {**self._variables, **{name: "{" + name + "}" for name in self._names}}
        return build_request(url, self._options, stable, self._secret, extra_params=extra).key

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fetcher, name)


def _keyed(fetcher: Any, request: Request, url: str, extra: Mapping[str, Any] | None) -> Request:
    if isinstance(fetcher, _KeyedFetcher):
        from dataclasses import replace

        return replace(request, state_key=fetcher.key_for(url, extra))
    return request


def _single_pages(fetcher: Any, module: Any, urls: list[str], options: Mapping[str, Any], variables: dict[str, Any],
                  crawl_date: date, state_of: Callable[[str], Any], stored_body: Callable[[str], bytes],
                  secret: Callable[[str], str | None]) -> list[Page]:
    """Unpaged: every URL once; nothing is parsed (or read back from the store) when none changed."""
    pages = []
    for url in urls:
        request = _keyed(fetcher, build_request(url, options, variables, secret), url, None)
        result = fetcher.fetch(request.url, state_of(request.key), method=request.method, headers=request.headers,
                               content=request.content)
        pages.append(Page(request, result, result.body, []))
    if not any(page.result.changed for page in pages):
        return pages
    for page in pages:
        if not page.result.changed:
            page.body = stored_body(page.request.key)
        try:
            page.releases = module.parse(page.body, url=page.request.url, crawl_date=crawl_date, options=dict(options))
        except Exception as exc:  # judged by the caller: a shape change degrades the source
            page.error = f"{type(exc).__name__}: {exc}"[:300]
    return pages


def _newest(releases: list[Any]) -> str:
    dates = [r.release_date for r in releases if getattr(r, "release_date", None)]
    return max(dates) if dates else "9999"  # undated items never stop the paging


def _origin(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def _join(base: str, link: str) -> str:
    from urllib.parse import urljoin

    return urljoin(base, link)
