"""Before/after count of release numbers over ALL shared samples (issue 12, point 5).

Method: every sample body a parser reads (folder -> parser below) is parsed twice, once by the
`crawlers` package of a baseline git revision (extracted with `git archive` into a temp dir) and
once by the working tree, each in its own subprocess. Releases are paired by (file, id); a release
"changed number" when its (volume, issue) pair differs (the baseline has no issue field, so a plain
"#17" that stays volume "17" / issue "17" is unchanged; "VOL 2 #3" going from "2" to "2"/"3" is a
change). Samples come from devstack/samples.py (set NEWBOOKS_SAMPLES if they are not beside the repo).

`--exact` compares every field of every release instead (`Release.to_dict()`), for refactors that
must change nothing at all: a release counts as changed when any field differs or its id is on one
side only, and a file when it fails on one side only.

Run: .venv/bin/python tools/number_changes.py [--base main] [--examples 5] [--exact]   (last line is JSON)
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any, cast

REPO = Path(__file__).resolve().parent.parent

# folder -> [(file-name needle, parser name, parse kwargs)]; the first needle that matches wins.
PARSERS: dict[str, list[tuple[str, str, dict[str, str]]]] = {
    "previewsworld-newreleases-txt": [(".txt", "previewsworld", {})],
    "previewsworld-newreleases-csv": [(".csv", "previewsworld", {})],
    "publisher-release-html": [(".html", "imagecomics", {})],
    "ndl-opensearch": [(".xml", "ndl", {})],
    "openbd": [(".json", "openbd", {})],
    "rakuten-books-api": [(".json", "rakuten", {})],
    "jp-publisher-web-manga-html": [
        ("comic_walker", "comicwalker", {"crawl_date": "2021-10-01"}),
        ("newtype", "newtype", {"crawl_date": "2022-08-12"}),
        ("sunday_webry", "sundaywebry", {"crawl_date": "2021-07-23"}),
    ],
    "gigaviewer-rss": [(".xml", "feed", {})],
}


def dump(root: str, samples: str, exact: bool = False) -> dict[str, dict[str, Any]]:
    """{"folder/file": {id: [volume, issue, title]}} parsed by the `crawlers` package under root
    (with `exact`: {id: the release's to_dict()})."""
    sys.path.insert(0, root)
    import crawlers

    out: dict[str, dict[str, Any]] = {}
    for folder, rules in PARSERS.items():
        for path in sorted((Path(samples) / folder).glob("*")):
            if path.suffix == ".md":
                continue
            rule = next((r for r in rules if r[0] in path.name), None)
            if rule is None:
                continue
            _, name, kwargs = rule
            crawl_date = date.fromisoformat(kwargs["crawl_date"]) if "crawl_date" in kwargs else None
            try:
                records = crawlers.parse(name, path.read_bytes(), crawl_date=crawl_date)
            except crawlers.ParseError as exc:
                out[f"{folder}/{path.name}"] = {"__error__": [str(exc), None, None]}
                continue
            out[f"{folder}/{path.name}"] = {
                r.id: r.to_dict() if exact else [r.volume, getattr(r, "issue", None), r.title] for r in records}
    return out


def _run_dump(root: Path, samples: str, exact: bool = False) -> dict[str, dict[str, Any]]:
    proc = subprocess.run([sys.executable, __file__, "--dump" + ("-exact" if exact else ""), str(root), samples],
                          capture_output=True, text=True, check=True)
    return cast(dict[str, dict[str, Any]], json.loads(proc.stdout))


def _baseline_tree(rev: str, into: Path) -> Path:
    archive = subprocess.run(["git", "-C", str(REPO), "archive", rev, "crawlers"], capture_output=True, check=True)
    tar_path = into / "base.tar"
    tar_path.write_bytes(archive.stdout)
    with tarfile.open(tar_path) as tar:
        tar.extractall(into, filter="data")
    return into


def compare(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> dict[str, Any]:
    total = changed = 0
    by_kind: Counter[str] = Counter()
    examples: list[dict[str, Any]] = []
    files = {}
    for name in sorted(after):
        new, old = after[name], before.get(name, {})
        file_changed = 0
        for rid, (vol, issue, title) in new.items():
            if rid == "__error__":
                continue
            total += 1
            if rid not in old:
                by_kind["new id (parsed only after)"] += 1
                file_changed += 1
                continue
            old_vol = old[rid][0]
            if (vol, issue) == (old_vol, None) or (vol == old_vol and issue == vol):
                continue
            file_changed += 1
            by_kind[_kind(old_vol, vol, issue)] += 1
            examples.append({"file": name, "title": title, "before": old_vol, "volume": vol, "issue": issue})
        for rid in old:
            if rid not in new and rid != "__error__":
                by_kind["id only before"] += 1
        changed += file_changed
        files[name] = {"releases": len(new), "changed": file_changed,
                       "error_before": "__error__" in old, "error_after": "__error__" in new}
    return {"releases": total, "changed": changed, "by_kind": dict(by_kind), "files": files, "examples": examples}


def compare_exact(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Releases whose fields differ in any way (or whose id is on one side only), per file."""
    total = changed = 0
    files: dict[str, dict[str, Any]] = {}
    examples: list[dict[str, Any]] = []
    for name in sorted(set(before) | set(after)):
        new, old = after.get(name, {}), before.get(name, {})
        ids = [i for i in dict.fromkeys([*new, *old]) if i != "__error__"]
        differ = [i for i in ids if new.get(i) != old.get(i)]
        total += len([i for i in new if i != "__error__"])
        changed += len(differ)
        examples += [{"file": name, "id": i, "before": old.get(i), "after": new.get(i)} for i in differ[:3]]
        files[name] = {"releases": len(ids), "changed": len(differ) + (("__error__" in old) != ("__error__" in new)),
                       "error_before": "__error__" in old, "error_after": "__error__" in new}
    return {"releases": total, "changed": changed, "files": files, "examples": examples}


def _kind(old: str | None, vol: str | None, issue: str | None) -> str:
    if old and len(old) == 4 and old.isdigit() and old.startswith(("19", "20")):
        return "year no longer read as the number"
    if issue and vol != issue:
        return "VOL N #M: volume and issue"
    if vol and "-" in vol:
        return "range kept"
    if (vol and any(c in vol for c in "½¼¾.")) or (vol or "").endswith("AU"):
        return "fractional/special issue kept"
    return "other"


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] in ("--dump", "--dump-exact"):
        json.dump(dump(sys.argv[2], sys.argv[3], exact=sys.argv[1] == "--dump-exact"), sys.stdout, ensure_ascii=False)
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", default="main", help="git revision whose crawlers/ is the baseline (default: main)")
    ap.add_argument("--examples", type=int, default=3, help="examples printed per kind of change")
    ap.add_argument("--exact", action="store_true", help="compare every field of every release, not only numbers")
    args = ap.parse_args()
    sys.path.insert(0, str(REPO))
    from devstack.samples import samples_dir

    samples = samples_dir()
    if samples is None:
        print("samples not found (set NEWBOOKS_SAMPLES); nothing to count")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        before = _run_dump(_baseline_tree(args.base, Path(tmp)), str(samples), args.exact)
    after = _run_dump(REPO, str(samples), args.exact)
    if args.exact:
        return _report_exact(args.base, compare_exact(before, after), args.examples)
    result = compare(before, after)
    for name, f in result["files"].items():
        flag = (" (failed before)" if f["error_before"] else "") + (" (fails now)" if f["error_after"] else "")
        print(f"{f['changed']:>5} of {f['releases']:>5}  {name}{flag}")
    shown: Counter[str] = Counter()
    for ex in result["examples"]:
        kind = _kind(ex["before"], ex["volume"], ex["issue"])
        if shown[kind] < args.examples:
            shown[kind] += 1
            print(f"  {kind}: {ex['title']!r}: {ex['before']!r} -> volume {ex['volume']!r}, issue {ex['issue']!r}")
    print(f"base {args.base}: {result['changed']} of {result['releases']} parsed sample releases changed number")
    print(json.dumps({"base": args.base, "releases": result["releases"], "changed": result["changed"],
                      "by_kind": result["by_kind"]}))
    return 0


def _report_exact(base: str, result: dict[str, Any], examples: int) -> int:
    for name, f in result["files"].items():
        flag = (" (failed before)" if f["error_before"] else "") + (" (fails now)" if f["error_after"] else "")
        print(f"{f['changed']:>5} of {f['releases']:>5}  {name}{flag}")
    for ex in result["examples"][:examples]:
        print(f"  {ex['file']} {ex['id']}: {ex['before']} -> {ex['after']}")
    changed = result["changed"] + sum(f["error_before"] != f["error_after"] for f in result["files"].values())
    print(f"base {base}: {changed} of {result['releases']} parsed sample releases differ in any field")
    print(json.dumps({"base": base, "exact": True, "releases": result["releases"], "changed": changed}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
