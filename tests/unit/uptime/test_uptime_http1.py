"""The checker's HTTP/1.1 codec (http1.py), pure: framing rules, caps, refusals, and a
differential property against h11 (installed with httpx) for any split of the bytes."""
from __future__ import annotations

import h11
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.uptime.http1 import ProtocolFailure, ResponseParser, request_bytes, valid_header


def parse(data: bytes, *, cap: int | None = 1 << 20, head: bool = False, eof: bool = True, pieces: int = 1):
    parser = ResponseParser(head_request=head, cap=cap)
    step = max(1, len(data) // pieces)
    for i in range(0, len(data), step):
        parser.feed(data[i:i + step])
    if eof and not parser.done:
        parser.eof()
    return parser


def test_content_length_body():
    p = parse(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhelloEXTRA", eof=False)
    assert p.done and p.status == 200 and p.body == b"hello" and p.headers["content-type"] == "text/plain"


def test_chunked_body_with_extensions_and_trailers():
    data = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: y\r\n\r\n"
    p = parse(data, eof=False, pieces=len(data))  # one byte at a time
    assert p.done and p.body == b"hello world"


def test_read_until_close_without_length():
    p = parse(b"HTTP/1.0 200 OK\r\n\r\nsome body", eof=False)
    assert not p.done
    p.eof()
    assert p.done and p.body == b"some body"


@pytest.mark.parametrize("status", [204, 304])
def test_no_body_statuses(status):
    p = parse(b"HTTP/1.1 %d X\r\nContent-Length: 10\r\n\r\n" % status, eof=False)
    assert p.done and p.body == b"" and p.status == status


def test_head_request_has_no_body():
    p = parse(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", head=True, eof=False)
    assert p.done and p.body == b""


def test_interim_100_continue_is_skipped():
    p = parse(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok", eof=False)
    assert p.done and p.status == 201 and p.body == b"ok"


def test_cap_truncates_and_finishes_early():
    p = parse(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 600, cap=100, eof=False)
    assert p.done and p.truncated and len(p.body) > 100  # the checker slices to the cap


def test_no_cap_means_head_only():
    p = parse(b"HTTP/1.1 503 Busy\r\nContent-Length: 1000\r\n\r\n", cap=None, eof=False)
    assert p.done and p.status == 503 and p.body == b""


def test_bare_lf_line_endings_are_tolerated():
    p = parse(b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok", eof=False)
    assert p.done and p.body == b"ok"


@pytest.mark.parametrize("data, problem", [
    (b"SSH-2.0-OpenSSH_9.6\r\n\r\n", "not an HTTP/1.x status line"),
    (b"HTTP/1.1 200 OK\r\nX: a\r\n  folded\r\n\r\n", "folding"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok", "conflicting Content-Length"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "bad Content-Length"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "bad chunk size"),
    (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "bad header line"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "middle of the response body"),
    (b"HTTP/1.1 200 OK\r\nContent-", "before a complete response head"),
    (b"HTTP/1.1 200 OK\r\nX: " + b"a" * 70_000, "too large"),
])
def test_broken_responses_are_protocol_failures(data, problem):
    with pytest.raises(ProtocolFailure, match=problem):
        parse(data)


def test_request_bytes_defaults_override_and_encoding():
    data = request_bytes("POST", "api.example.com:8443", "/a b/ü", "q=1 2",
                         [("user-agent", "probe"), ("X-Token", "t")], b'{"x":1}')
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    assert lines[0] == "POST /a%20b/%C3%BC?q=1%202 HTTP/1.1"
    assert "Host: api.example.com:8443" in lines and "user-agent: probe" in lines and "Content-Length: 7" in lines
    assert body == b'{"x":1}'
    # and h11, as a server, accepts what we send
    server = h11.Connection(h11.SERVER)
    server.receive_data(data)
    request = server.next_event()
    assert isinstance(request, h11.Request) and request.method == b"POST" and request.target == b"/a%20b/%C3%BC?q=1%202"


@pytest.mark.parametrize("name, value", [("X Bad", "v"), ("X-Ok", "a\r\nInjected: 1"), ("X-Ok", "nul\x00")])
def test_header_injection_is_refused(name, value):
    assert valid_header(name, value) is not None
    with pytest.raises(ValueError):
        request_bytes("GET", "h", "/", "", [(name, value)], None)


# --- differential: same answer as h11 for any well-formed response, split anywhere ----------

header_name = st.sampled_from(["X-A", "X-Trace-Id", "Content-Type", "Cache-Control", "x-lower"])
header_value = st.text(alphabet="abcXYZ019 -_/;=,.:", min_size=1, max_size=20).map(str.strip).filter(bool)
statuses = st.sampled_from([200, 201, 204, 301, 304, 404, 500, 503])
bodies = st.binary(max_size=300)


@st.composite
def responses(draw):
    status = draw(statuses)
    headers = draw(st.lists(st.tuples(header_name, header_value), max_size=4))
    body = b"" if status in (204, 304) else draw(bodies)
    framing = draw(st.sampled_from(["length", "chunked", "close"]))
    head = f"HTTP/1.1 {status} Reason\r\n".encode() + b"".join(f"{n}: {v}\r\n".encode() for n, v in headers)
    if framing == "length":
        head += f"Content-Length: {len(body)}\r\n".encode()
        payload = body
    elif framing == "chunked":
        head += b"Transfer-Encoding: chunked\r\n"
        cuts = sorted(draw(st.lists(st.integers(0, len(body)), max_size=3)))
        parts = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True) if body[a:b]]
        payload = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"
    else:
        payload = body
    return head + b"\r\n" + payload, framing


def h11_reference(data: bytes) -> tuple[int, bytes]:
    client = h11.Connection(h11.CLIENT)
    client.send(h11.Request(method="GET", target="/", headers=[("Host", "x")]))
    client.send(h11.EndOfMessage())
    client.receive_data(data)
    client.receive_data(b"")
    status, body = None, b""
    while True:
        event = client.next_event()
        if isinstance(event, h11.Response):
            status = event.status_code
        elif isinstance(event, h11.Data):
            body += bytes(event.data)
        elif isinstance(event, h11.EndOfMessage):
            return status, body


@settings(max_examples=150, deadline=None)
@given(response=responses(), split=st.lists(st.integers(1, 40), min_size=1, max_size=30))
def test_agrees_with_h11_for_any_split(response, split):
    data, _framing = response
    parser = ResponseParser(cap=1 << 20)
    position = 0
    for size in split * (len(data) // sum(split) + 1):
        if position >= len(data) or parser.done:
            break
        parser.feed(data[position:position + size])
        position += size
    if not parser.done:
        parser.feed(data[position:])
        parser.eof()
    assert parser.done and not parser.truncated
    assert (parser.status, parser.body) == h11_reference(data)


# --- hostile framing (issue 13): every shape is a ProtocolFailure or a bounded result --------
def test_unicode_digit_content_length_is_a_protocol_failure():
    with pytest.raises(ProtocolFailure, match="Content-Length"):
        parse("HTTP/1.1 200 OK\r\nContent-Length: ²\r\n\r\nxx".encode(), eof=False)


def test_interim_responses_are_bounded():
    data = b"HTTP/1.1 100 Continue\r\n\r\n" * 21 + b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    with pytest.raises(ProtocolFailure, match="interim"):
        parse(data, eof=False)
    ok = parse(b"HTTP/1.1 100 Continue\r\n\r\n" * 20 + b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", eof=False)
    assert ok.done and ok.body == b"ok"


def test_trailers_are_bounded():
    data = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n" + b"X-T: y\r\n" * 20_000
    with pytest.raises(ProtocolFailure, match="trailer"):
        parse(data, cap=1024, eof=False)


def test_one_byte_chunks_stop_at_the_chunk_budget_with_the_body_so_far():
    data = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"1\r\nx\r\n" * 100_000
    p = parse(data, cap=1 << 20, eof=False, pieces=100)
    assert p.done and p.truncated and p.body == b"x" * 4096


def test_head_end_split_across_one_byte_feeds_is_found_once():
    head = b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(3000)) + b"Content-Length: 2\r\n\r\nok"
    p = parse(head, eof=False, pieces=len(head))
    assert p.done and p.status == 200 and p.body == b"ok" and len(p.headers) == 3001


def test_buffer_is_compacted_so_memory_stays_bounded_by_what_is_unread():
    p = ResponseParser(cap=1 << 30)
    p.feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    for _ in range(4000):
        p.feed(b"4\r\nabcd\r\n")
    assert len(p._buffer) < 4096 and p.size == 16000


@pytest.mark.parametrize("value", ["日本", "a\x07b", "\x7f"])
def test_header_values_outside_field_value_are_refused(value):
    assert valid_header("X-A", value) is not None
    with pytest.raises(ValueError):
        request_bytes("GET", "h", "/", "", [("X-A", value)], None)


def test_latin1_and_tab_values_are_allowed():
    assert valid_header("X-A", "caf\xe9\tok") is None
