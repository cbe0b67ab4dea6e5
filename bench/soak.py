"""A longer soak of the chaos suite: tests/e2e/test_chaos.py run ROUNDS times with a different
fault seed each time (about 1.5 minutes a round). Every round must end with losses = 0 and
double_posts = 0. Last line: {"bench": "soak", "rounds", "events", "deliveries", "faults",
"duplicates", "losses", "double_posts", "failed_rounds"}.

    .venv/bin/python bench/soak.py --rounds 10
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    totals: Counter = Counter()
    failed = 0
    for round_no in range(args.rounds):
        with tempfile.TemporaryDirectory() as tmp:
            report = Path(tmp) / "totals.json"
            env = {**os.environ, "NEWBOOKS_CHAOS_SEED": str(1000 + round_no), "NEWBOOKS_CHAOS_REPORT": str(report)}
            done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                   "tests/e2e/test_chaos.py"], cwd=ROOT, env=env, capture_output=True, text=True)
            if done.returncode != 0 or not report.exists():
                failed += 1
                print(f"round {round_no}: FAILED\n{done.stdout[-2000:]}")
                continue
            result = json.loads(report.read_text())
            totals.update(result)
            print(f"round {round_no}: " + " ".join(f"{k}={v}" for k, v in result.items()))
    print(json.dumps({"bench": "soak", "rounds": args.rounds, "events": totals["events"],
                      "deliveries": totals["deliveries"], "faults": totals["faults_injected"],
                      "duplicates": totals["duplicates"], "losses": totals["losses"],
                      "double_posts": totals["double_posts"], "failed_rounds": failed}))


if __name__ == "__main__":
    main()
