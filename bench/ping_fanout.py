"""1,000 loopback targets, each answering after 200 ms, checked in one invocation; 5 % of them
hostile (devstack/hostile_peer.py: every shape of issue 13 plus never-answered DNS names).

    .venv/bin/python bench/ping_fanout.py [--targets 1000] [--hostile 0.05] [--delay 0.2] [--baseline 50] [--repeat 3]

Hostile targets have a 1 s deadline (healthy ones 5 s), so the goal still bounds the tick: their
verdicts must each be a failure of the expected class and every healthy verdict must be a pass
(the run stops with an error otherwise). The hostile peer runs in its own child process too.

The peer is a plain asyncio.Protocol HTTP/1.1 server (answers via loop.call_later, no coroutine
per connection) in a child process, so its CPU is not spent inside the measured process and its
event loop does not compete with the checker's: the goal measures our checker, not the peer.
Reports the wall time of `Checker.check_all` over all targets (median of `--repeat` fresh runs,
every run listed), the CPU seconds this process used for it, a one-after-another baseline
(`max_concurrency=1`) measured on `--baseline` targets in the same run and scaled linearly, the
peak RSS of this process, and the 1-minute load average (the machine is shared: wall time
under load is CPU time divided by the share of a core we get). Last line: one JSON object.
Goal: wall_s <= 1.5 on a 2-core machine, peak_mb <= 256.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


class _Peer(asyncio.Protocol):
    """asyncio.Protocol (no streams, no coroutine per connection): reads a request head, answers
    `delay` seconds later via loop.call_later, keeps the connection for further requests."""

    BODY = b'{"status":"up"}'
    RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n" + BODY

    def __init__(self, delay: float):
        self.delay, self.buffer, self.transport = delay, b"", None

    def __call__(self):
        return _Peer(self.delay)

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            _head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            asyncio.get_running_loop().call_later(self.delay, self._answer)

    def _answer(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(self.RESPONSE)

    def connection_lost(self, exc) -> None:
        self.transport = None


def serve(port_queue, delay: float) -> None:
    """The loopback peer, in its own process so its CPU is not spent inside the measured one."""

    async def main():
        server = await asyncio.get_running_loop().create_server(_Peer(delay), "127.0.0.1", 0, backlog=4096)
        port_queue.put(server.sockets[0].getsockname()[1])
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--targets", type=int, default=1000)
    parser.add_argument("--delay", type=float, default=0.2)
    parser.add_argument("--baseline", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--hostile", type=float, default=0.05, help="share of hostile targets")
    args = parser.parse_args()

    from chalicelib.uptime.checker import Checker
    from chalicelib.uptime.ssrf import AddressPolicy
    from chalicelib.uptime.targets import parse_target

    queue = multiprocessing.Queue()
    peer = multiprocessing.Process(target=serve, args=(queue, args.delay), daemon=True)
    peer.start()
    port = queue.get(timeout=10)
    from chalicelib.uptime.resolver import DnsResolver, parse_servers
    from devstack.hostile_peer import SHAPES, HostileProcess

    hostile_peer = HostileProcess()
    try:
        n_hostile = int(round(args.targets * args.hostile))
        shapes = [*SHAPES, "slowdns"]
        hostile = []
        for i in range(n_hostile):
            shape = shapes[i % len(shapes)]
            url = (f"http://slow{i}.test:{hostile_peer.port}/ok" if shape == "slowdns"
                   else f"{hostile_peer.url}/{shape}")
            conditions = ["[BODY] == re(^(a+)+$)"] if shape == "redos" else ["[STATUS] == 200", '[BODY].status == "up"']
            hostile.append(parse_target({"name": f"h{i:04d}-{shape}", "url": url, "timeout": "1s", "conditions": conditions}))
        healthy = [
            parse_target({"name": f"t{i:04d}", "url": f"http://127.0.0.1:{port}/t/{i}", "timeout": "5s",
                          "conditions": ["[STATUS] == 200", '[BODY].status == "up"']})
            for i in range(args.targets - n_hostile)
        ]
        spread = max(1, len(healthy) // max(1, n_hostile))
        targets = [*healthy]
        for i, target in enumerate(hostile):  # interleaved, not all at the end
            targets.insert(min(len(targets), i * (spread + 1)), target)
        healthy_names = {t.name for t in healthy}
        policy = AddressPolicy(allow_private=True)
        checker = Checker(policy, max_concurrency=args.targets,
                          resolver=DnsResolver(parse_servers(hostile_peer.dns_server), attempt_timeout_s=0.5))
        asyncio.run(checker.check_all(targets[:5]))  # warm-up: imports, SSL context

        walls, cpus = [], []
        for _ in range(max(1, args.repeat)):
            started, cpu = time.perf_counter(), time.process_time()
            results = asyncio.run(checker.check_all(targets))
            walls.append(time.perf_counter() - started)
            cpus.append(time.process_time() - cpu)
            ok = sum(r.ok for r in results)
            wrong = [r for r in results if r.ok != (r.name in healthy_names)]
            if wrong:
                raise SystemExit(f"{len(wrong)} wrong verdicts (healthy must pass, hostile must fail): {wrong[:3]}")
            hostile_errors = sorted({f"{r.name.split('-', 1)[1]}:{r.error}" for r in results if r.name not in healthy_names})
        wall, cpu_s = statistics.median(walls), statistics.median(cpus)
        load = os.getloadavg()[0]

        # same run, same load: the healthy targets alone (the hostile ones' cost as a ratio)
        started = time.perf_counter()
        asyncio.run(checker.check_all(healthy))
        healthy_only = time.perf_counter() - started

        sequential = Checker(policy, max_concurrency=1)
        started = time.perf_counter()
        asyncio.run(sequential.check_all(healthy[: args.baseline]))
        baseline = (time.perf_counter() - started) * args.targets / args.baseline
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    finally:
        peer.terminate()
        peer.join(5)
        hostile_peer.stop()

    print(f"targets={args.targets} ok={ok} hostile={n_hostile} (each failed as expected) delay={args.delay}s")
    print(f"hostile verdicts: {', '.join(hostile_errors)}")
    print(f"concurrent, one invocation : {wall:6.2f} s   (goal <= 1.5 s; median of {walls and len(walls)}: "
          f"{', '.join(f'{w:.2f}' for w in walls)}; CPU {cpu_s:.2f} s; load average {load:.1f})")
    print(f"healthy targets only       : {healthy_only:6.2f} s   (same run; with hostile / without: x{wall / healthy_only:.2f})")
    print(f"one after another (scaled) : {baseline:6.2f} s   (measured on {args.baseline}, x{args.targets / args.baseline:g})")
    print(f"peak RSS                   : {peak_mb:6.1f} MB  (goal <= 256 MB)")
    print(json.dumps({"bench": "ping_fanout", "targets": args.targets, "ok": ok, "hostile": n_hostile,
                      "healthy_exact": True, "wall_s": round(wall, 3), "healthy_only_wall_s": round(healthy_only, 3),
                      "walls_s": [round(w, 3) for w in walls], "cpu_s": round(cpu_s, 3),
                      "baseline_s": round(baseline, 2), "baseline_targets": args.baseline,
                      "peak_mb": round(peak_mb, 1), "load_avg_1m": round(load, 2),
                      "goal_met": wall <= 1.5 and peak_mb <= 256}))


if __name__ == "__main__":
    main()
