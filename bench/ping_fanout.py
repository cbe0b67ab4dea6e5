"""1,000 loopback targets, each answering after 200 ms, checked in one invocation.

    .venv/bin/python bench/ping_fanout.py [--targets 1000] [--delay 0.2] [--baseline 50]

The peer is an asyncio HTTP server in a child process (so it does not share the GIL with the
checker). Reports wall time of `Checker.check_all` for all targets, a one-after-another baseline
(concurrency 1) measured on a subset and scaled, and peak RSS of this process. Last line: JSON.
Goal: wall_s <= 1.5 on a 2-core machine, peak_mb <= 256.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def serve(port_queue, delay: float) -> None:
    async def handle(reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                if not head:
                    break
                await asyncio.sleep(delay)
                body = b'{"status":"up"}'
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=4096)
        port_queue.put(server.sockets[0].getsockname()[1])
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--targets", type=int, default=1000)
    parser.add_argument("--delay", type=float, default=0.2)
    parser.add_argument("--baseline", type=int, default=50)
    args = parser.parse_args()

    from chalicelib.uptime.checker import Checker
    from chalicelib.uptime.ssrf import AddressPolicy
    from chalicelib.uptime.targets import parse_target

    queue = multiprocessing.Queue()
    peer = multiprocessing.Process(target=serve, args=(queue, args.delay), daemon=True)
    peer.start()
    port = queue.get(timeout=10)
    try:
        targets = [
            parse_target({"name": f"t{i:04d}", "url": f"http://127.0.0.1:{port}/t/{i}", "timeout": "5s",
                          "conditions": ["[STATUS] == 200", '[BODY].status == "up"']})
            for i in range(args.targets)
        ]
        policy = AddressPolicy(allow_private=True)
        checker = Checker(policy, max_concurrency=args.targets)
        asyncio.run(checker.check_all(targets[:5]))  # warm-up: imports, SSL context

        started = time.perf_counter()
        results = asyncio.run(checker.check_all(targets))
        wall = time.perf_counter() - started
        ok = sum(r.ok for r in results)

        sequential = Checker(policy, max_concurrency=1)
        started = time.perf_counter()
        asyncio.run(sequential.check_all(targets[: args.baseline]))
        baseline = (time.perf_counter() - started) * args.targets / args.baseline
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    finally:
        peer.terminate()
        peer.join(5)

    print(f"targets={args.targets} ok={ok} delay={args.delay}s")
    print(f"concurrent, one invocation : {wall:6.2f} s   (goal <= 1.5 s)")
    print(f"one after another (scaled) : {baseline:6.2f} s   (measured on {args.baseline}, x{args.targets / args.baseline:g})")
    print(f"peak RSS                   : {peak_mb:6.1f} MB  (goal <= 256 MB)")
    print(json.dumps({"bench": "ping_fanout", "targets": args.targets, "ok": ok, "wall_s": round(wall, 3),
                      "baseline_s": round(baseline, 2), "peak_mb": round(peak_mb, 1)}))


if __name__ == "__main__":
    main()
