"""`make run` start-up and idle cost: the deployed-template stack (this tree) against the previous
provisioning path (the same command on another checkout, e.g. main before issue 10), in one run.

    .venv/bin/python bench/local_stack.py [--baseline-ref main] [--idle-s 60] [--warmup-s 30]

Method, per stack, one after the other on the same machine:
1. `python -m devstack --port P --data-dir <fresh tmp>` (what `make run` runs; this tree's
   includes its package step) from a clean data dir;
2. time to first release: until GET /releases?limit=1 lists one (polled every 0.25 s);
3. time to first check result: until GET /status shows a `last_check` for a target;
4. idle CPU: after `--warmup-s` more seconds, CPU time (utime+stime from /proc/<pid>/stat,
   clock ticks) of the whole process tree (stack, moto server in it, runner, function processes,
   chalice local), summed over processes alive at both ends of a `--idle-s` window, divided by
   the wall time: percent of one core. "Idle" means nobody uses the API; the schedules still fire
   (ping every minute, digests every 5 minutes), as they do on `make run`.
The baseline checkout is `git archive <ref>` into a temp dir (nothing in the work tree changes).
Needs the shared samples (NEWBOOKS_SAMPLES or ../shared/samples), like `make run`.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devstack.samples import samples_dir  # noqa: E402
from tests.e2e.stack import free_port  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def tree(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo += children.get(current, [])
    return out


def cpu_ticks(pids: list[int]) -> dict[int, int]:
    out = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            out[pid] = int(fields[11]) + int(fields[12])  # utime + stime
        except (OSError, IndexError):
            pass
    return out


def get(url: str) -> dict | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return json.loads(response.read())
    except Exception:
        return None


def measure(label: str, root: Path, idle_s: float, warmup_s: float) -> dict:
    port = free_port()
    work = Path(tempfile.mkdtemp(prefix=f"bench-stack-{label}-"))
    log = open(work / "console.log", "wb")
    env = {**os.environ, "NEWBOOKS_SAMPLES": str(samples_dir()), "PYTHONUNBUFFERED": "1"}
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "devstack", "--port", str(port), "--data-dir", str(work / "data")],
                            cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    first_release = first_check = None
    try:
        while time.monotonic() - started < 180 and (first_release is None or first_check is None):
            if proc.poll() is not None:
                raise RuntimeError(f"{label} stack exited: see {work / 'console.log'}")
            if first_release is None and (get(base + "/releases?limit=1") or {}).get("releases"):
                first_release = time.monotonic() - started
            if first_check is None and any(t.get("last_check") for t in (get(base + "/status") or {}).get("targets", [])):
                first_check = time.monotonic() - started
            time.sleep(0.25)
        time.sleep(warmup_s)
        before = cpu_ticks(tree(proc.pid))
        t0 = time.monotonic()
        time.sleep(idle_s)
        after = cpu_ticks(tree(proc.pid))
        wall = time.monotonic() - t0
        used = sum(after[p] - before[p] for p in after if p in before) / TICKS
        return {"stack": label, "first_release_s": round(first_release or -1, 1),
                "first_check_s": round(first_check or -1, 1), "idle_cpu_pct_of_one_core": round(100 * used / wall, 1),
                "processes": len(after)}
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def baseline_checkout(ref: str) -> Path:
    dest = Path(tempfile.mkdtemp(prefix="bench-baseline-"))
    archive = subprocess.run(["git", "archive", ref], cwd=ROOT, check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest)
    return dest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline-ref", default="main", help="git ref of the previous provisioning path")
    parser.add_argument("--idle-s", type=float, default=60.0)
    parser.add_argument("--warmup-s", type=float, default=30.0)
    args = parser.parse_args()
    if samples_dir() is None:
        print("skipped: shared samples folder not found (set NEWBOOKS_SAMPLES)")
        return 0
    rows = [measure("baseline:" + args.baseline_ref, baseline_checkout(args.baseline_ref), args.idle_s, args.warmup_s),
            measure("deployed-template", ROOT, args.idle_s, args.warmup_s)]
    for row in rows:
        print(json.dumps(row))
    old, new = rows
    print(f"ratios deployed/baseline: first release {new['first_release_s'] / old['first_release_s']:.2f}x, "
          f"first check {new['first_check_s'] / old['first_check_s']:.2f}x, "
          f"idle CPU {new['idle_cpu_pct_of_one_core'] / max(old['idle_cpu_pct_of_one_core'], 0.1):.2f}x")
    print(f"method: sequential runs, fresh data dirs, idle window {args.idle_s:.0f} s after {args.warmup_s:.0f} s warm-up; "
          f"load average at end {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
