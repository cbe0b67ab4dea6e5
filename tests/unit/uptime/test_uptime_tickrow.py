"""Tick rows (tickrow.py), pure: the stored form is unchanged byte for byte, old and short rows
still read, and the named fields say what the positions used to."""
from __future__ import annotations

import zlib

import pytest

from chalicelib.uptime.tickrow import TickRow, decode_rows, encode_rows

# A tick item's `r` as version 1 wrote it (hand-written: compact, key-sorted JSON, zlib level 6).
STORED_JSON = (b'{"api":["f",0,null,"dns","cannot resolve api.invalid: NXDOMAIN",null],'
               b'"beat":["o",1234,null,null,null,null],"maint":["m",0,null,null,null,null],'
               b'"slow":["s",900,200,null,null,"2027-01-01T00:00:00+00:00"],'
               b'"web":["F",5001,500,"status","[STATUS] == 200 (got 500)",null]}')


def test_stored_rows_read_by_name_and_write_back_byte_identical():
    blob = zlib.compress(STORED_JSON, 6)
    rows = decode_rows(blob)
    assert rows["api"] == TickRow("f", 0, None, "dns", "cannot resolve api.invalid: NXDOMAIN", None)
    assert rows["slow"].tls_expiry == "2027-01-01T00:00:00+00:00" and rows["slow"].passed
    assert rows["web"].failed and rows["web"].status == 500 and rows["web"].detail == "[STATUS] == 200 (got 500)"
    assert rows["maint"].in_maintenance and not rows["maint"].passed and not rows["maint"].failed
    assert encode_rows(rows) == blob


def test_rows_are_written_as_the_six_field_list():
    row = TickRow("o", 12, 200)
    assert row.to_stored() == ["o", 12, 200, None, None, None]
    assert zlib.decompress(encode_rows({"x": row})) == b'{"x":["o",12,200,null,null,null]}'
    assert TickRow.from_stored(row.to_stored()) == row


def test_short_rows_read_with_empty_trailing_fields():
    assert TickRow.from_stored(["o", 5]) == TickRow("o", 5)
    assert TickRow.from_stored(["m"]) == TickRow("m", 0)


@pytest.mark.parametrize("raw", [[], ["x", 1], [None, 0], ["ok", 1]])
def test_an_unknown_code_is_refused(raw):
    with pytest.raises(ValueError, match="tick row code"):
        TickRow.from_stored(raw)


def test_no_stored_rows_read_as_none():
    assert decode_rows(None) == {}


def test_archive_fields_name_the_positions():
    row = TickRow("F", 30, 503, "status", "[STATUS] == 200 (got 503)", None)
    assert row.archive_fields() == {"code": "F", "ok": False, "latency_ms": 30, "status": 503, "error": "status",
                                    "condition": "[STATUS] == 200 (got 503)", "tls_expiry": None}
    assert row.with_code("f").code == "f" and row.with_code("f")[1:] == row[1:]
