"""The dev runner: Lambda's event sources for app.py, in a child process of the local stack
(`python -m devstack` starts and supervises it). It can be killed at any moment (SIGKILL) like
a Lambda host: AWS state lives in the parent's moto server, stream positions in the data dir's
checkpoints, and in-flight queue messages come back after their visibility timeout.

    python -m devstack.runner --data-dir .data     (environment prepared by the parent)
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import threading
from pathlib import Path


def start_runner(stop: threading.Event, data_dir: Path, since: float | None) -> list[threading.Thread]:
    """Schedules, queue pollers, stream pollers and the TTL reaper, wired from app.py and the
    resource declarations."""
    import app as app_module

    from chalicelib import resources as r
    from devstack import lambda_runtime as rt
    from devstack.chaos import Chaos
    from devstack.checkpoints import Checkpoints

    chaos = Chaos.from_env(data_dir)
    if chaos:
        chaos.install()
    checkpoints = Checkpoints(data_dir / "checkpoints.json")
    threads: list[threading.Thread] = []
    ttl_tables = {os.environ[t.env]: t.ttl_attribute for t in r.TABLES if t.ttl_attribute}
    reaper = rt.TtlReaper(ttl_tables, stop)
    threads.append(reaper)
    failure_sink = rt.stream_failure_sink(os.environ[r.STREAM_FAILURES_QUEUE.env])
    for mapping in r.MAPPINGS:
        handler = getattr(app_module, mapping.function)
        source = r.by_logical_id(mapping.source)
        if isinstance(source, r.Queue):
            threads.append(rt.QueuePoller(mapping.function, handler, os.environ[source.env], mapping.batch_size, stop,
                                          chaos=chaos, concurrency=mapping.max_concurrency))
        else:
            filters = [json.loads(p) for p in mapping.filter_patterns]
            threads.append(rt.StreamPoller(mapping.function, handler, os.environ[source.env], mapping.batch_size,
                                           filters, mapping.max_retry_attempts, stop, failure_sink, reaper.mark,
                                           checkpoints=checkpoints, since=since, chaos=chaos))
    for thread in threads:
        thread.start()
    for thread in threads:  # be listening before the first schedule writes anything
        if isinstance(thread, rt.StreamPoller):
            thread.ready.wait(10)
    from devstack.alarms import start_alarms  # infra/alarms.py evaluated locally, printed on the console
    threads.append(start_alarms(stop))
    for source in app_module.app.event_sources:
        expression = getattr(source, "schedule_expression", None)
        if expression:
            handler = getattr(app_module, source.handler_string.split(".", 1)[1])
            scheduler = rt.Scheduler(source.name, str(expression), handler, stop, chaos=chaos)
            scheduler.start()
            threads.append(scheduler)
    return threads


def _exit_with_parent(parent: int, stop: threading.Event) -> None:
    """The stack's moto server lives in the parent: without it there is nothing to run against."""
    while not stop.wait(1.0):
        if os.getppid() != parent:
            stop.set()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.runner", description=__doc__)
    parser.add_argument("--data-dir", required=True)
    args = parser.parse_args(argv)
    data_dir = Path(args.data_dir)
    since = float(os.environ["NEWBOOKS_STREAMS_SINCE"]) if os.environ.get("NEWBOOKS_STREAMS_SINCE") else None
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threads = start_runner(stop, data_dir, since)
    threading.Thread(target=_exit_with_parent, args=(os.getppid(), stop), daemon=True).start()
    (data_dir / "runner.pid").write_text(str(os.getpid()))
    stop.wait()
    for thread in threads:
        thread.join(timeout=5)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
