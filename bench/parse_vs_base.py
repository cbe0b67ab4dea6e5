"""Parse cost of this tree against a base revision, same run, same samples (issue 12 added issue
numbers, categories and work keys to every record).

Method: the base revision's `crawlers/` is extracted with `git archive` into a temp dir; each tree
parses every PREVIEWSworld sample week (txt and CSV) in its own subprocess, 7 times, and the best
time per pass is kept (least disturbed by other load on the machine; caches warm), and the first,
cold pass is reported too. Reported: ms per week-list pass for each tree and the ratios this/base.

Run: .venv/bin/python bench/parse_vs_base.py [--base main]   (last line is JSON)
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

TIMER = """
import sys, time, json
sys.path.insert(0, sys.argv[1])
import crawlers
bodies = [open(p, 'rb').read() for p in json.loads(sys.argv[2])]
t0 = time.perf_counter()
for b in bodies: crawlers.parse('previewsworld', b)
first = time.perf_counter() - t0
best = min((lambda t0: [crawlers.parse('previewsworld', b) for b in bodies] and time.perf_counter() - t0)(time.perf_counter())
           for _ in range(7))
print(json.dumps({"ms_per_list": best * 1000 / len(bodies), "first_ms_per_list": first * 1000 / len(bodies),
                  "records": sum(len(crawlers.parse('previewsworld', b)) for b in bodies)}))
"""


def _time(root: Path, paths: list[str]) -> dict:
    out = subprocess.run([sys.executable, "-c", TIMER, str(root), json.dumps(paths)], capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out)


def main() -> int:
    from devstack.samples import samples_dir
    from tools.number_changes import _baseline_tree

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", default="main")
    args = ap.parse_args()
    base = samples_dir()
    if base is None:
        print("samples not found (set NEWBOOKS_SAMPLES); nothing to measure")
        return 1
    paths = sorted(str(p) for d in ("previewsworld-newreleases-txt", "previewsworld-newreleases-csv")
                   for p in (base / d).glob("*") if p.suffix in (".txt", ".csv"))
    with tempfile.TemporaryDirectory() as tmp:
        before = _time(_baseline_tree(args.base, Path(tmp)), paths)
    after = _time(REPO, paths)
    ratio = after["ms_per_list"] / before["ms_per_list"]
    print(f"{len(paths)} PREVIEWSworld lists, {after['records']} records; best of 7 passes per tree")
    first = after["first_ms_per_list"] / before["first_ms_per_list"]
    print(f"base {args.base}: {before['ms_per_list']:.1f} ms per list; this tree: {after['ms_per_list']:.1f} ms "
          f"per list; ratio {ratio:.2f}x (first, cold pass: {before['first_ms_per_list']:.1f} vs "
          f"{after['first_ms_per_list']:.1f} ms, {first:.2f}x)")
    print(json.dumps({"bench": "parse_vs_base", "base": args.base, "base_ms_per_list": round(before["ms_per_list"], 1),
                      "ms_per_list": round(after["ms_per_list"], 1), "ratio": round(ratio, 2),
                      "first_pass_ratio": round(first, 2)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
