"""GET /releases lists one item per work (issue 12, point 8): a real Diamond week stored by the
crawl worker, read back page by page through the release queries the API uses. Editions are
collapsed with the releases page's own helper (`chalicelib.queries.collapse`), `limit` counts
works, and paging still never loses a release nor returns an empty page while rows remain."""
from __future__ import annotations

from itertools import pairwise

import pytest

from devstack.samples import read_sample
from tests.integration.crawl.test_crawl_pipeline import WEEK1, message

WEEK = {"from": "2020-02-19", "to": "2020-02-19"}


@pytest.fixture()
def stored_week(service, site):
    import crawlers

    site.body = read_sample(*WEEK1)
    service.crawl(message())
    parsed = [r.to_dict() for r in crawlers.parse("previewsworld", site.body)]
    return [r for r in parsed if r["category"] != "merchandise"]


def _pages(queries, params):
    pages, cursor = [], None
    while True:
        page = queries.list({**params, **({"cursor": cursor} if cursor else {})})
        pages.append(page)
        cursor = page["next_cursor"]
        if not cursor:
            return pages
        assert len(pages) < 400


@pytest.mark.parametrize("limit", [3, 50, 200])
def test_pages_list_works_with_their_editions_and_lose_nothing(stored_week, limit):
    from chalicelib.bootstrap import release_queries
    from chalicelib.queries import collapse

    pages = _pages(release_queries(), {**WEEK, "limit": str(limit)})
    for page in pages[:-1]:
        assert page["releases"] and page["partial"] is None  # no empty page while rows remain
    items = [r for p in pages for r in p["releases"]]
    ids = [e["id"] for r in items for e in (r.get("editions") or [r])]
    assert sorted(ids) == sorted(r["id"] for r in stored_week)  # every edition once, nothing lost
    for page in pages:
        assert len(page["releases"]) <= limit
        works = [r["work"] for r in page["releases"]]
        assert len(works) == len(set(works))  # within a page a work is one item
    whole = collapse(stored_week)
    # A page ends before a new work, so only editions apart in the index (ids from another catalogue
    # month) can start a second item on a later page: at most one item per run of a work in id order
    group = {e["id"]: n for n, r in enumerate(whole) for e in (r.get("editions") or [r])}
    in_order = [group[r["id"]] for r in sorted(stored_week, key=lambda r: r["id"])]
    runs = 1 + sum(a != b for a, b in pairwise(in_order))
    assert len(whole) <= len(items) <= runs < len(whole) + 15
    assert len(items) < 0.7 * len(stored_week)


def test_a_variant_issue_is_one_item_listing_every_edition(stored_week):
    from chalicelib.bootstrap import release_queries

    items = [r for p in _pages(release_queries(), {**WEEK, "limit": "200"}) for r in p["releases"]]
    amalgama = [r for r in items if r["work"] == "amalgamaspacezombie|3|comic"]
    assert len(amalgama) == 1
    labels = [e["label"] for e in amalgama[0]["editions"]]
    assert labels[0] == "CVR A YOUNG" and "CVR F STANLEY RISQUE" in labels and len(labels) == 6
    assert amalgama[0]["id"] == "previewsworld:AUG191468"  # the main edition leads


def test_stored_covers_carry_the_editions_their_one_post_names(stored_week):
    """The crawl stores, on each edition, the labels of the editions listed with it (notify/works.py
    editions_in_list): the fan-out's one post for the work names them (notify/render.py)."""
    from chalicelib import aws
    from chalicelib.settings import get_settings

    table = aws.table(get_settings().releases_table)

    def item(release_id):
        return table.get_item(Key={"pk": f"REL#{release_id}", "sk": "META"})["Item"]

    cover_a, cover_c = item("previewsworld:AUG191468"), item("previewsworld:AUG191470")
    assert cover_a["editions_listed"] == cover_c["editions_listed"]
    assert cover_a["editions_listed"][0] == "CVR A YOUNG" and len(cover_a["editions_listed"]) == 6
    singles = [r for r in stored_week if sum(s["work"] == r["work"] for s in stored_week) == 1]
    assert singles and all("editions_listed" not in item(r["id"]) for r in singles[:5])
