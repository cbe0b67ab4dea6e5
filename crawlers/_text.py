"""Small shared helpers for parsers: decoding bodies, lazy BeautifulSoup, URL joining."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from .errors import ParseError

if TYPE_CHECKING:  # bs4 is imported lazily: `import crawlers` must stay cheap
    from bs4 import BeautifulSoup


def decode(body: bytes, source: str) -> str:
    """UTF-8 (BOM tolerated), else cp1252 (old Diamond lists). Raises ParseError on non-bytes."""
    if not isinstance(body, (bytes, bytearray)):
        raise ParseError(source, f"body must be bytes, got {type(body).__name__}")
    try:
        return bytes(body).decode("utf-8-sig")
    except UnicodeDecodeError:
        return bytes(body).decode("cp1252", errors="replace")


def load_json(body: bytes, source: str) -> Any:
    """Decode and parse a JSON body; malformed JSON is a ParseError (the page changed shape)."""
    import json

    try:
        return json.loads(decode(body, source))
    except json.JSONDecodeError as exc:
        raise ParseError(source, f"invalid JSON: {exc}") from None
    except RecursionError:  # hostile nesting (`[[[[...`) must degrade the source, not crash
        raise ParseError(source, "invalid JSON: nested too deeply") from None


# html.parser builds a tree node per tag: a hostile multi-MB page of tiny tags costs minutes of
# CPU (past the worker's timeout, so the message would retry into the DLQ instead of degrading the
# source). Real list pages are under 100 KB; refuse anything 20x that as "not the page we know".
MAX_HTML_BYTES = 2_000_000


def soup(body: bytes | str, source: str = "html") -> "BeautifulSoup":
    from bs4 import BeautifulSoup  # lazy: keeps `import crawlers` fast

    if len(body) > MAX_HTML_BYTES:
        raise ParseError(source, f"HTML body of {len(body)} bytes exceeds {MAX_HTML_BYTES} bytes")
    if isinstance(body, (bytes, bytearray)):
        try:
            body = bytes(body).decode("utf-8")
        except UnicodeDecodeError:
            pass  # let bs4's UnicodeDammit sniff the charset
    return BeautifulSoup(body, "html.parser")


def text_of(node: Any) -> str | None:
    if node is None:
        return None
    return node.get_text(" ", strip=True) or None


def absolute(href: str | None, base: str | None) -> str | None:
    if not href:
        return None
    return urljoin(base, href) if base else href


def opt(options: dict[str, Any] | None, key: str, default: Any = None) -> Any:
    return (options or {}).get(key, default)
