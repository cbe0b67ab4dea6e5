"""`make run` start-up and idle cost: the deployed-template stack (this tree) against the previous
provisioning path (the same command on the last commit that still created resources with
devstack/provision.py, or --baseline-ref), in one run.

    .venv/bin/python bench/local_stack.py [--baseline-ref REF] [--idle-s 60] [--warmup-s 180]
    .venv/bin/python bench/local_stack.py --newcomer      (this tree only: the README's figures)

Method, per stack, one after the other on the same machine:
1. `python -m devstack --port P --data-dir <fresh tmp>` (what `make run` runs; this tree's
   includes its package step) from a clean data dir;
2. time to first release: until GET /releases?limit=1 lists one (polled every 0.25 s);
3. time to first check result: until GET /status shows a `last_check` for a target;
4. time to first notification: until the console shows a `release.new` line;
5. --newcomer: as soon as the API answers, follow the series the next sample week brings (the
   banner's curl: the generated key from the data dir) and time until its notification prints,
   from the follow and from the start (README "make run"); then Ctrl-C and time the stop;
6. idle CPU: after `--warmup-s` more seconds, CPU time (utime+stime from /proc/<pid>/stat,
   clock ticks) of the whole process tree (stack, moto server in it, runner, function processes,
   chalice local), summed over processes alive at both ends of a `--idle-s` window, divided by
   the wall time: percent of one core. "Idle" means nobody uses the API; the schedules still fire
   (ping every minute, digests every 5 minutes), as they do on `make run`. The sample week is
   pinned (`--rotate-s`, default a day): `make run` advances it every 120 s, and each new week is
   a crawl of hundreds of new releases with their notifications, which is work, not idle cost
   (a 180 s window with the week advancing measured 18.0 % of a core, 2026-12-03).
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


def follow(base: str, data_dir: Path, series: str) -> bool:
    key = json.loads((data_dir / "local-credentials.json").read_text())["api_key"]
    body = json.dumps({"destination": "console:", "kind": "series", "match": series}).encode()
    request = urllib.request.Request(base + "/subscriptions", data=body, method="POST",
                                     headers={"X-Api-Key": key, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status == 201
    except Exception:
        return False


def newcomer(root: Path) -> dict:
    from devstack.peers import series_arriving

    series = series_arriving(1)
    port = free_port()
    work = Path(tempfile.mkdtemp(prefix="bench-newcomer-"))
    console = work / "console.log"
    env = {k: v for k, v in os.environ.items() if k not in ("API_KEY", "SLACK_SIGNING_SECRET")}
    env.update(NEWBOOKS_SAMPLES=str(samples_dir()), PYTHONUNBUFFERED="1")
    with open(console, "wb") as log:
        started = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-m", "devstack", "--port", str(port), "--data-dir", str(work / "data")],
                                cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        first_data = first_note = followed = noticed = None
        line = f"release.new -> console: | {series}".lower()
        try:
            while time.monotonic() - started < 420 and noticed is None:
                if proc.poll() is not None:
                    raise RuntimeError(f"newcomer stack exited: see {console}")
                text = console.read_text(errors="replace").lower()
                if first_data is None and (get(base + "/releases?limit=1") or {}).get("releases"):
                    first_data = time.monotonic() - started
                if first_note is None and "release.new -> console" in text:
                    first_note = time.monotonic() - started
                if followed is None and first_data is not None and follow(base, work / "data", series):
                    followed = time.monotonic() - started
                if followed is not None and line in text:
                    noticed = time.monotonic() - started
                time.sleep(0.25)
        finally:
            proc.send_signal(signal.SIGINT)
            stop_began = time.monotonic()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
            stopped = time.monotonic() - stop_began
    return {"series": series, "first_data_s": round(first_data or -1, 1),
            "first_notification_s": round(first_note or -1, 1), "follow_at_s": round(followed or -1, 1),
            "followed_notification_s": round(noticed or -1, 1),
            "follow_to_notification_s": round((noticed - followed) if noticed and followed else -1, 1),
            "stop_s": round(stopped, 1)}


def measure(label: str, root: Path, idle_s: float, warmup_s: float, rotate_s: float) -> dict:
    port = free_port()
    work = Path(tempfile.mkdtemp(prefix=f"bench-stack-{label}-"))
    log = open(work / "console.log", "wb")  # noqa: SIM115  (the stack's console for its whole run)
    env = {**os.environ, "NEWBOOKS_SAMPLES": str(samples_dir()), "PYTHONUNBUFFERED": "1"}
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "devstack", "--port", str(port), "--data-dir", str(work / "data"),
                             "--rotate-s", str(rotate_s)], cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
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
    parser.add_argument("--baseline-ref", default=None,
                        help="git ref of the previous provisioning path (default: the last commit with devstack/provision.py)")
    parser.add_argument("--idle-s", type=float, default=60.0)
    parser.add_argument("--rotate-s", type=float, default=86400.0,
                        help="seconds between sample weeks for both stacks (make run: 120; default: pinned)")
    parser.add_argument("--warmup-s", type=float, default=180.0, help="after the first check: the first crawl drains")
    parser.add_argument("--newcomer", action="store_true", help="this tree only: first data, first notification, "
                        "follow -> notification, stop (README figures)")
    args = parser.parse_args()
    if samples_dir() is None:
        print("skipped: shared samples folder not found (set NEWBOOKS_SAMPLES)")
        return 0
    if args.newcomer:
        row = newcomer(ROOT)
        print(f"method: one fresh stack (python -m devstack, package step included, default cadence), polled every "
              f"0.25 s; follow via POST /subscriptions as soon as /releases lists one; load average at end "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(json.dumps(row))
        return 0
    if args.baseline_ref is None:
        deleted = subprocess.run(["git", "log", "-1", "--format=%h", "--diff-filter=D", "--", "devstack/provision.py"],
                                 cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()
        args.baseline_ref = f"{deleted}^"
    rows = [measure("baseline:" + args.baseline_ref, baseline_checkout(args.baseline_ref), args.idle_s, args.warmup_s,
                    args.rotate_s),
            measure("deployed-template", ROOT, args.idle_s, args.warmup_s, args.rotate_s)]
    old, new = rows
    print(f"method: sequential runs, fresh data dirs, idle window {args.idle_s:.0f} s after {args.warmup_s:.0f} s warm-up, "
          f"sample week advancing every {args.rotate_s:.0f} s; "
          f"load average at end {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    ratios = {key: round(new[key] / max(old[key], 0.1), 2)
              for key in ("first_release_s", "first_check_s", "idle_cpu_pct_of_one_core")}
    print(json.dumps({"baseline": old, "deployed": new, "ratios_deployed_over_baseline": ratios}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
