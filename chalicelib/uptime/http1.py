"""A minimal HTTP/1.1 client codec for checks: serialize one request, parse one response. Pure.

Why not h11 (which is installed): a check is one request on one fresh connection, and profiling
1,000 concurrent checks showed h11's general state machine and header validation at ~38% of
the checker's CPU (0.24 s of 0.63 s per 1,000 checks), more than the sockets themselves.
This codec covers exactly what a check needs, following RFC 9112:

- status line `HTTP/1.x NNN reason`; 1xx interim responses (except 101) are skipped (at most
  MAX_INTERIM of them);
- header fields `name: value` (names lower-cased; obsolete line folding is refused, as are
  conflicting Content-Length values and a head larger than MAX_HEAD);
- body framing in the RFC's order: no body for HEAD, 1xx, 204 and 304; `Transfer-Encoding`
  ending in chunked -> chunked (chunk extensions and trailers skipped); other transfer codings
  -> read until close; `Content-Length` -> exactly that many bytes; else read until close;
- the body is kept only up to `cap` bytes (the parser then reports `truncated` and is done);
  with `cap=None` the parser is done as soon as the head has arrived (conditions need no body).

Request serialization refuses header names that are not tokens and values with CR, LF or NUL
(targets.py rejects them at load already), and percent-encodes what may not appear raw in a
request target.
"""
from __future__ import annotations

import re
from urllib.parse import quote

MAX_HEAD = 64 * 1024
_STATUS = re.compile(rb"HTTP/1\.[01] ([0-9]{3})(?:[ \t][^\r\n]*)?")
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_BAD_VALUE = re.compile(r"[\r\n\x00]")
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_DIGITS = re.compile(r"[0-9]{1,18}")
_HEX = re.compile(rb"[0-9A-Fa-f]{1,15}")
_FIELD_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")  # RFC 9110 field-value: VCHAR, SP, HTAB, obs-text
MAX_INTERIM = 20
MAX_CHUNKS = 4096  # then the body read so far is what the conditions see (truncated)
MAX_TRAILERS = 100


class ProtocolFailure(OSError):
    """The peer broke HTTP/1.1 framing (a check counts it as a connect error)."""


def valid_header(name: str, value: str) -> str | None:
    """None if the header may be sent, else what is wrong with it."""
    if not _TOKEN.match(name):
        return f"header name {name!r} is not a token"
    if _BAD_VALUE.search(value):
        return f"header {name!r} has a line break or NUL in its value"
    if not _FIELD_VALUE.fullmatch(value):
        bad = next(c for c in value if not _FIELD_VALUE.fullmatch(c))
        return f"header {name!r} has {bad!r} (U+{ord(bad):04X}) in its value: only visible ASCII, space, tab and latin-1 may be sent"
    return None


def request_bytes(method: str, netloc: str, path: str, query: str, headers: list[tuple[str, str]],
                  body: bytes | None) -> bytes:
    """`headers` override the defaults case-insensitively; Host comes from `netloc`."""
    fields = {"host": ("Host", netloc)}
    for name, value in headers:
        problem = valid_header(name, value)
        if problem:
            raise ValueError(problem)
        fields[name.lower()] = (name, value)
    fields.pop("transfer-encoding", None)
    if body is not None:
        fields["content-length"] = ("Content-Length", str(len(body)))
    target = quote(path or "/", safe=_PATH_SAFE) + (f"?{quote(query, safe=_PATH_SAFE + '?')}" if query else "")
    head = f"{method} {target} HTTP/1.1\r\n" + "".join(f"{n}: {v}\r\n" for n, v in fields.values()) + "\r\n"
    return head.encode("latin-1") + (body or b"")


class ResponseParser:
    """Feed it bytes (`feed`) and the end of the stream (`eof`); `done` tells when to stop.

    Linear in the bytes received, whatever their split: the buffer is a bytearray read through
    an offset (consumed bytes are dropped in amortized O(1)), the head end is searched only in
    the new bytes, and everything a peer can repeat is bounded: interim (1xx) responses
    (MAX_INTERIM), trailer fields (MAX_TRAILERS), chunks (MAX_CHUNKS: a stream of 1-byte chunks
    costs per chunk; after that many the body read so far is judged, marked truncated) and
    framing bytes (chunk-size lines and CRLFs count against `cap` + MAX_HEAD)."""

    def __init__(self, *, head_request: bool = False, cap: int | None = None):
        self.head_request = head_request
        self.cap = cap
        self.status: int | None = None
        self.headers: dict[str, str] = {}
        self.chunks: list[bytes] = []
        self.size = 0
        self.truncated = False
        self.done = False
        self._buffer = bytearray()
        self._pos = 0  # bytes of _buffer already consumed
        self._scanned = 0  # head search resumes here (relative to _pos)
        self._state = "head"  # head | length | chunk-size | chunk-data | chunk-end | trailers | close
        self._remaining = 0
        self._interim = 0
        self._overhead = 0  # framing bytes (chunk lines, trailers)
        self._chunks = 0
        self._trailers = 0

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)

    def feed(self, data: bytes) -> None:
        if self.done:
            return
        if self._pos and self._pos >= len(self._buffer) // 2:
            del self._buffer[: self._pos]  # amortized: each byte is moved at most once more
            self._pos = 0
        self._buffer += data
        while not self.done:
            if not self._step():
                return

    def eof(self) -> None:
        if self.done:
            return
        if self._state == "head":
            raise ProtocolFailure("connection closed before a complete response head")
        if self._state == "close":
            self.done = True
            return
        raise ProtocolFailure("connection closed in the middle of the response body")

    # --- internals ---------------------------------------------------------------------------
    def _available(self) -> int:
        return len(self._buffer) - self._pos

    def _take(self, n: int) -> bytes:
        out = bytes(self._buffer[self._pos : self._pos + n])
        self._pos += len(out)
        return out

    def _step(self) -> bool:
        """Advance as far as the buffer allows; False when more data is needed."""
        state = self._state
        if state == "head":
            return self._head()
        if state == "close":
            self._add(self._take(self._available()))
            return False
        if state in ("length", "chunk-data"):
            if not self._available():
                return False
            take = self._take(self._remaining)
            self._remaining -= len(take)
            self._add(take)
            if self._remaining == 0 and not self.done:
                if state == "length":
                    self.done = True
                else:
                    self._state = "chunk-end"
            return not self.done and bool(self._available())
        line = self._line()
        if line is None:
            return False
        self._overhead += len(line) + 2
        if state == "chunk-size":
            size_text = line.split(b";", 1)[0].strip()
            if not _HEX.fullmatch(size_text):
                raise ProtocolFailure(f"bad chunk size {size_text[:20]!r}")
            size = int(size_text, 16)
            if size == 0:
                self._state = "trailers"
            else:
                self._state, self._remaining = "chunk-data", size
                self._chunks += 1
                if self._chunks > MAX_CHUNKS:  # framing costs per chunk, not per byte: bound it
                    self.truncated = self.done = True
                    return False
        elif state == "chunk-end":
            if line:
                raise ProtocolFailure("chunk not followed by CRLF")
            self._state = "chunk-size"
        elif state == "trailers":
            if not line:
                self.done = True
            else:
                self._trailers += 1
                if self._trailers > MAX_TRAILERS:
                    raise ProtocolFailure(f"more than {MAX_TRAILERS} trailer fields")
        self._check_cap()
        return True

    def _line(self) -> bytes | None:
        end = self._buffer.find(b"\n", self._pos)
        if end < 0:
            if self._available() > MAX_HEAD:
                raise ProtocolFailure("line too long")
            return None
        line = bytes(self._buffer[self._pos : end])
        self._pos = end + 1
        return line[:-1] if line.endswith(b"\r") else line

    def _head(self) -> bool:
        start = self._pos + max(0, self._scanned - 3)  # the end marker may straddle two feeds
        match = _HEAD_END.search(self._buffer, start)
        if match is None:
            self._scanned = self._available()
            if self._available() > MAX_HEAD:
                raise ProtocolFailure("response head too large")
            return False
        head = bytes(self._buffer[self._pos : match.start()])
        self._pos, self._scanned = match.end(), 0
        if len(head) > MAX_HEAD:
            raise ProtocolFailure("response head too large")
        lines = head.replace(b"\r\n", b"\n").split(b"\n")
        status = _STATUS.fullmatch(lines[0])
        if status is None:
            raise ProtocolFailure(f"not an HTTP/1.x status line: {lines[0][:40]!r}")
        code = int(status.group(1))
        headers: dict[str, str] = {}
        for raw in lines[1:]:
            if raw[:1] in (b" ", b"\t"):
                raise ProtocolFailure("obsolete header line folding")
            name, sep, value = raw.partition(b":")
            if not sep or not name or name != name.strip():
                raise ProtocolFailure(f"bad header line {raw[:40]!r}")
            key, text = name.decode("latin-1").lower(), value.strip().decode("latin-1")
            if key == "content-length" and key in headers and headers[key] != text:
                raise ProtocolFailure("conflicting Content-Length")
            headers[key] = f"{headers[key]}, {text}" if key in headers and key != "content-length" else text
        if 100 <= code < 200 and code != 101:
            self._interim += 1
            if self._interim > MAX_INTERIM:
                raise ProtocolFailure(f"more than {MAX_INTERIM} interim (1xx) responses")
            return True  # interim response: the real one follows
        self.status, self.headers = code, headers
        if self.cap is None or self.head_request or code < 200 or code in (204, 304):
            self.done = True
            return False
        codings = [c.strip().lower() for c in headers.get("transfer-encoding", "").split(",") if c.strip()]
        if codings:
            self._state = "chunk-size" if codings[-1] == "chunked" else "close"
        elif "content-length" in headers:
            text = headers["content-length"].split(",")[0].strip()
            if not _DIGITS.fullmatch(text):  # ASCII digits only: "²".isdigit() is True
                raise ProtocolFailure(f"bad Content-Length {text[:20]!r}")
            self._state, self._remaining = "length", int(text)
            if self._remaining == 0:
                self.done = True
                return False
        else:
            self._state = "close"
        return True

    def _add(self, data: bytes) -> None:
        if not data:
            return
        self.chunks.append(data)
        self.size += len(data)
        self._check_cap()

    def _check_cap(self) -> None:
        if self.cap is not None and (self.size + self._overhead > self.cap + MAX_HEAD or self.size > self.cap):
            self.truncated = True
            self.done = True
