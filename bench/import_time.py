"""Cold-import cost of `app` versus its unavoidable baseline (boto3 + chalice).

Method: fresh interpreters with `-X importtime`, PYTHONDONTWRITEBYTECODE=1 and a private empty
PYTHONPYCACHEPREFIX so no .pyc is reused; cumulative microseconds of the top-level imports are
summed. Each variant runs ROUNDS times, alternating, and the median is reported.
Last line: {"bench": "import_time", "app_ms", "baseline_ms", "ratio"}; ratio = (baseline + app's
own imports) / baseline, the goal is <= 1.25.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 5


def cumulative_ms(code: str, modules: set[str]) -> float:
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPYCACHEPREFIX": cache}
        out = subprocess.run([sys.executable, "-X", "importtime", "-c", code], cwd=ROOT, env=env,
                             capture_output=True, text=True, check=True).stderr
    total = 0
    for line in out.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _self, cumulative, name = (part.strip() for part in line.split(":", 1)[1].split("|"))
        if name in modules:  # top level only: a leading space would mean nested
            total += int(cumulative)
    return total / 1000


def main() -> None:
    baseline, own = [], []
    for _ in range(ROUNDS):
        baseline.append(cumulative_ms("import boto3, chalice", {"boto3", "chalice"}))
        # app imported after boto3 and chalice: its line's cumulative time is what it adds
        own.append(cumulative_ms("import boto3, chalice, app", {"app"}))
    base, app_ms = statistics.median(baseline), statistics.median(own)
    print(f"method: python -X importtime, no .pyc, median of {ROUNDS} fresh processes")
    print(f"baseline (boto3 + chalice): {base:.1f} ms; app on top: {app_ms:.1f} ms")
    print(json.dumps({"bench": "import_time", "app_ms": round(app_ms, 1), "baseline_ms": round(base, 1),
                      "ratio": round((base + app_ms) / base, 3)}))


if __name__ == "__main__":
    main()
