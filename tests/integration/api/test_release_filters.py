"""GET /releases filters by what /sources shows (a source name) or by kind, and a filtered page
is never empty while more matching rows exist (issue 16 point 4).

The data is sparse on purpose: 320 openbd releases first seen today sit in front of 3 ndl
releases first seen two days ago, more than the old fixed read (12 Queries x 25 items) covered."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.integration.api.api_testkit import RELEASES, assert_problem, assert_schema, body_of, release

NOW = datetime.now(timezone.utc).replace(microsecond=0)

CROWD = 320
NDL = [release(80 + n, id=f"ndl:R1000000{n}", source="ndl", series="名探偵コナン", title=f"名探偵コナン {n}",
               source_refs=[f"ndl:R1000000{n}"]) for n in range(3)]


@pytest.fixture(scope="module", autouse=True)
def sparse_releases(api_env):
    from chalicelib import aws
    from chalicelib.crawl.store import release_item
    from crawlers.normalize import series_key

    rows = [(release(100 + n, id=f"isbn:9784100{n:06d}", source="openbd", series=f"Crowd {n}"), NOW - timedelta(seconds=n + 1))
            for n in range(CROWD)]
    rows += [(rel, NOW - timedelta(days=2, minutes=n)) for n, rel in enumerate(NDL)]
    with aws.table(api_env["RELEASES_TABLE"]).batch_writer() as batch:  # fresh ids: no condition needed
        for rel, seen in rows:
            batch.put_item(Item=release_item(rel, series_key=series_key(rel["series"]),
                                             first_seen=seen.strftime("%Y-%m-%dT%H:%M:%SZ")))


def _walk(client, query: str) -> list[dict]:
    """Every page of a listing, following next_cursor."""
    pages, cursor = [], None
    while True:
        page = body_of(client.http.get("/releases?" + query + (f"&cursor={cursor}" if cursor else "")))
        assert_schema(page, "ReleasePage")
        pages.append(page)
        cursor = page["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 50


def test_sparse_filter_fills_the_first_page(client):
    page = body_of(client.http.get("/releases?source=ndl&limit=2"))
    assert [r["id"] for r in page["releases"]] == [r["id"] for r in NDL[:2]]
    assert page["next_cursor"] and page["partial"] is None


@pytest.mark.parametrize("limit", [1, 2, 3, 50])
def test_no_page_is_empty_while_rows_remain(client, limit):
    pages = _walk(client, f"source=ndl&limit={limit}")
    assert [r["id"] for p in pages for r in p["releases"]] == [r["id"] for r in NDL]
    for page in pages[:-1]:  # only the last page may be empty, and then it carries no cursor
        assert page["releases"], page
    assert all(p["partial"] is None for p in pages)


def test_source_name_from_sources_selects_its_kinds_releases(client):
    sources = body_of(client.http.get("/sources"))["sources"]
    by_kind = {s["kind"]: [] for s in sources}
    for s in sources:
        by_kind[s["kind"]].append(s["name"])
    assert len(by_kind["ndl"]) >= 1 and "previewsworld-upcoming" in by_kind["previewsworld"]
    for kind, expected in (("ndl", {r["id"] for r in NDL}),
                           ("previewsworld", {r["id"] for r in RELEASES if r["source"] == "previewsworld"})):
        by_kind_ids = {r["id"] for p in _walk(client, f"source={kind}&limit=200") for r in p["releases"]}
        assert by_kind_ids == expected
        for name in by_kind[kind]:
            by_name = {r["id"] for p in _walk(client, f"source={name}&limit=200") for r in p["releases"]}
            assert by_name == expected, name


@pytest.mark.parametrize("value", ["ndl-nope", "NDL", "previewsworld "])
def test_unknown_source_is_a_400_naming_source(client, value):
    problem = assert_problem(client.http.get("/releases?source=" + value.replace(" ", "%20")), 400, "source")
    assert "ndl-manga" in problem["detail"] and "/sources" in problem["detail"]


def test_budget_spent_before_the_page_fills_is_an_honest_partial_page(api_env):
    """With a small budget the crowd cannot be read past in one request: the page says why it is
    short, and following its cursor still reaches every match exactly once."""
    from chalicelib import aws
    from chalicelib.queries import ReleaseQueries

    queries = ReleaseQueries(aws.table(api_env["RELEASES_TABLE"]), sources={"ndl-conan": "ndl"},
                             max_queries=2, filtered_read=50)
    params = {"source": "ndl-conan", "limit": "2"}
    first = queries.list(params)
    assert first["releases"] == [] and first["next_cursor"]
    assert "2 queries examined 100 releases" in first["partial"]
    got, page, reads = [], first, 1
    while page["next_cursor"]:
        page = queries.list({**params, "cursor": page["next_cursor"]})
        reads += 1
        got += [r["id"] for r in page["releases"]]
        if page["next_cursor"] and len(page["releases"]) < 2:
            assert page["partial"], page
        assert reads < 30
    assert got == [r["id"] for r in NDL]


def test_source_filter_pure():
    from chalicelib.queries import BadQuery, matches, source_values

    names = {"ndl-conan": "ndl", "ndl-comics": "ndl", "example": "examplepub"}
    assert source_values("ndl-conan", names) == {"ndl"}
    assert source_values("ndl", names) == {"ndl"}
    assert source_values("examplepub", names) == {"examplepub"}  # a declarative source_name
    assert source_values("openbd", names) == {"openbd"}  # a kind no source is configured with
    assert source_values("anything", None) == {"anything"}
    with pytest.raises(BadQuery) as bad:
        source_values("conan", names)
    assert bad.value.param == "source"
    assert matches({"source": "ndl"}, {"source": "ndl-conan"}, names)
    assert not matches({"source": "openbd"}, {"source": "ndl-conan"}, names)
