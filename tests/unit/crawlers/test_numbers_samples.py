"""Issue and volume numbers on real PREVIEWSworld lists (issue 12, point 5), plus the counting tool."""
from __future__ import annotations

import crawlers
from devstack.samples import read_sample
from tests.unit.crawlers.crawlers_testkit import PW_CSV, PW_TXT, by_id
from tools.number_changes import compare

MARCH_11 = "slem1_comicspreviews-parser__catalog-2020-03-11__23c5b25.txt"
FEB_22 = "vokurka_comics__raw_Export_csv_releaseDate_2017-02-22.csv"


def _parse(folder: str, name: str):
    return by_id(crawlers.parse("previewsworld", read_sample(folder, name)))


def test_year_in_parentheses_and_half_issue_on_a_real_week():
    rels = _parse(PW_TXT, MARCH_11)
    dejah = rels["previewsworld:JAN201157"]
    assert dejah.title.startswith("DEJAH THORIS (2019) #4")
    assert (dejah.series, dejah.volume, dejah.issue) == ("DEJAH THORIS (2019)", "4", "4")
    assert all(r.volume != "2019" for r in rels.values())
    assert rels["previewsworld:JAN201651"].issue == "½"  # LADY DEATH WICKED #1/2


def test_volume_and_issue_on_a_real_week():
    rels = _parse(PW_CSV, FEB_22)
    st = rels["previewsworld:DEC160551"]
    assert (st.series, st.volume, st.issue) == ("STAR TREK GREEN LANTERN", "2", "3")
    assert rels["previewsworld:DEC160927"].issue == "4.1"  # AVENGERS #4.1
    # every "VOL N #M" row of the week keeps both numbers
    both = [r for r in rels.values() if " VOL " in f" {r.title} " and "#" in (r.title or "")]
    assert both and all(r.issue and r.issue in r.title and r.volume != r.issue for r in both)


def test_compare_counts_only_changed_numbers():
    before = {"f": {"a": ["2", None, "X VOL 2 #3"], "b": ["17", None, "Y #17"], "c": ["2019", None, "Z (2019) #4"],
                    "gone": ["1", None, "W #1"]}}
    after = {"f": {"a": ["2", "3", "X VOL 2 #3"], "b": ["17", "17", "Y #17"], "c": ["4", "4", "Z (2019) #4"]}}
    result = compare(before, after)
    assert (result["releases"], result["changed"]) == (3, 2)
    assert result["by_kind"] == {"VOL N #M: volume and issue": 1, "year no longer read as the number": 1,
                                 "id only before": 1}
