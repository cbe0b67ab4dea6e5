"""Which editions a work's one post names (notify/works.py `editions_in_list`), on a real weekly
Diamond list: covers listed together are named in the post of their work, main edition first."""
from __future__ import annotations

from chalicelib.notify.works import editions_in_list
from devstack.samples import read_sample


def test_the_covers_of_one_list_are_named_together_main_edition_first():
    import crawlers

    body = read_sample("previewsworld-newreleases-csv", "vokurka_comics__raw_Export_csv_releaseDate_2017-03-01.csv")
    releases = [r.to_dict() for r in crawlers.parse("previewsworld", body)]
    listed = editions_in_list(releases)
    by_title = {r["title"]: listed.get(r["id"]) for r in releases}
    rat_queens = ["CVR A GIENI", "CVR B GIENI", "CVR C WOMENS HISTORY MONTH CHARITY VAR"]
    assert by_title["RAT QUEENS #1 CVR A GIENI (MR)"] == rat_queens
    assert by_title["RAT QUEENS #1 CVR C WOMENS HISTORY MONTH CHARITY VAR (MR)"] == rat_queens
    assert by_title["ROYAL CITY #1 (MR)"] == ["standard", "CVR B WOMENS HISTORY MONTH CHARITY VAR"]
    assert by_title["NAILBITER #30 (MR)"] is None  # one edition: nothing to name
    assert by_title["BATMAN #18 VAR ED"] == by_title["BATMAN #18"] and len(by_title["BATMAN #18"] or []) == 2
    # every listed label belongs to a group of at least two, and a group's members agree
    assert all(len(labels) >= 2 for labels in listed.values())


def test_labels_are_bounded():
    releases = [{"id": f"x:{n}", "title": f"SAGA #1 CVR {chr(65 + n)} {'LONG ' * 40}", "series": "SAGA", "issue": "1",
                 "publisher": "IMAGE", "release_date": "2020-01-01", "source": "x"} for n in range(20)]
    listed = editions_in_list(releases)  # hand-made: no sample lists twenty covers of one issue
    assert len(listed["x:0"]) == 12 and all(len(label) <= 60 for label in listed["x:0"])
