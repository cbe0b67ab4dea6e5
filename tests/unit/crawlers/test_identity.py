"""Issue identity and editions (issue 12, point 1) on real lists."""
from __future__ import annotations

from dataclasses import replace

import crawlers
from crawlers.identity import (
    compatible_publishers,
    edition_label,
    group_editions,
    same_work,
    work_key,
)
from devstack.samples import read_sample
from tests.unit.crawlers.crawlers_testkit import IMAGE, PW_CSV, PW_TXT

WEEK_2020 = "slem1_comicspreviews-parser__catalog-2020-02-19__23c5b25.txt"


def _week():
    return [r for r in crawlers.parse("previewsworld", read_sample(PW_TXT, WEEK_2020)) if r.category != "merchandise"]


def test_the_covers_of_one_issue_are_one_work_with_labelled_editions():
    groups = {work_key(g[0]): g for g in group_editions(_week())}
    amalgama = groups["amalgamaspacezombie|3|comic"]
    assert [edition_label(r) for r in amalgama] == ["CVR A YOUNG", "CVR B YOUNG RISQUE", "CVR C ESPINOSA",
                                                    "CVR D ESPINOSA RISQUE", "CVR E STANLEY", "CVR F STANLEY RISQUE"]
    assert len({r.id for r in amalgama}) == 6  # still six stored releases
    assert "amalgamaspacezombie|4|comic" not in groups or groups["amalgamaspacezombie|4|comic"] is not amalgama


def test_a_real_week_collapses_by_a_third():
    week = _week()
    groups = group_editions(week)
    assert sum(len(g) for g in groups) == len(week)
    assert len(groups) < 0.7 * len(week)
    # a work never mixes two issue numbers or two formats
    for g in groups:
        assert len({(r.volume, r.issue, r.category) for r in g}) == 1


def test_same_issue_from_previewsworld_and_image_comics_is_one_work():
    diamond = next(r for r in crawlers.parse("previewsworld", read_sample(
        PW_CSV, "vokurka_comics__raw_Export_csv_releaseDate_2017-03-01.csv")) if r.title.startswith("NAILBITER #30"))
    image = next(r for r in crawlers.parse("imagecomics", read_sample(
        IMAGE, "exqir__imagecomics_release-archive_series_nailbiter__396e9c8.html")) if r.title == "Nailbiter #30")
    assert diamond.id != image.id and work_key(diamond) == work_key(image) == "nailbiter|30|comic"
    ok, why = same_work(diamond, image)
    assert ok and "previewsworld and imagecomics agree" in why and "IMAGE COMICS / Image Comics" in why
    far, why = same_work(diamond, replace(image, release_date="2018-03-07"))
    assert not far and "more than 14 days apart" in why
    other, why = same_work(diamond, replace(image, publisher="Marvel Comics"))
    assert not other and "publishers differ" in why
    assert same_work(diamond, replace(image, release_date="2017-03-08"), window_days=14)[0]


def test_formats_and_numbers_are_different_works():
    tp = crawlers.parse("imagecomics", read_sample(IMAGE, "exqir__imagecomics_series_nailbiter__396e9c8.html"))
    keys = {r.title: work_key(r) for r in tp}
    assert keys["Nailbiter, Vol. 6: The Bloody Truth Tp"] == "nailbiter|6|collected-tp"
    assert keys["Nailbiter #30"] == "nailbiter|30|comic"
    assert len(set(keys.values())) == len(keys)


def test_undo_a_merge_by_configuration(monkeypatch):
    week = _week()
    b = next(r for r in week if r.title.startswith("AMALGAMA SPACE ZOMBIE #3 CVR B"))
    monkeypatch.setenv("NEWBOOKS_UNMERGED_RELEASES", f"{b.id}, other:1")
    assert work_key(b) == f"id:{b.id}"
    groups = {work_key(g[0]): g for g in group_editions(week)}
    assert len(groups["amalgamaspacezombie|3|comic"]) == 5 and groups[f"id:{b.id}"] == [b]


def test_publisher_compatibility():
    assert compatible_publishers("IMAGE COMICS", "Image Comics") and compatible_publishers(None, "DC COMICS")
    assert compatible_publishers("株式会社 集英社", "集英社") and not compatible_publishers("DC COMICS", "MARVEL COMICS")
