"""Regex conditions with a time cap: `re` has no timeout and holds the GIL while it backtracks,
so one pattern like `(a+)+$` on a hostile body would stop every check of the tick. Each
search runs in a forked child that answers one byte on a pipe; the parent awaits the pipe on
the event loop and SIGKILLs the child at the target's deadline. Cost: one fork per regex
evaluation (~1-3 ms here), paid only by targets with `re(...)` conditions; the child runs at
nice 19 so a pattern that backtracks until its deadline does not take CPU from the other checks. Gatus uses Go's
RE2, linear by construction; installing `regex` (which has a timeout) would add 3.6 MB to the
Lambda package."""
from __future__ import annotations

import asyncio
import os
import re
import signal
import threading

MAX_CHILDREN = 16  # regex children alive at once (waiting for a slot counts against the deadline)
_slots: dict[int, asyncio.Semaphore] = {}


class RegexTimeout(TimeoutError):
    pass


def _slot() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    found = _slots.get(id(loop))
    if found is None:
        _slots.clear()  # one event loop per tick: drop the previous tick's
        found = _slots[id(loop)] = asyncio.Semaphore(MAX_CHILDREN)
    return found


def _reap(pid: int) -> None:
    """Collect the child without blocking the loop: a killed child at nice 19 on a busy machine
    can take a while to be scheduled and exit (a blocking waitpid measured 140 ms)."""
    if os.waitpid(pid, os.WNOHANG)[0] == 0:
        threading.Thread(target=os.waitpid, args=(pid, 0), daemon=True).start()


async def search(pattern: re.Pattern[str] | str, text: str, timeout_s: float) -> bool:
    """`re.search(pattern, text) is not None`, or RegexTimeout after `timeout_s`."""
    compiled = re.compile(pattern) if isinstance(pattern, str) else pattern
    if timeout_s <= 0:
        raise RegexTimeout(f"no time left for re({compiled.pattern[:40]})")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    try:
        async with asyncio.timeout_at(deadline):
            await _slot().acquire()
    except TimeoutError:
        raise RegexTimeout(f"re({compiled.pattern[:40]}) waited past the deadline for a slot") from None
    try:
        return await _search(compiled, text, deadline - loop.time())
    finally:
        _slot().release()


async def _search(compiled: re.Pattern[str], text: str, timeout_s: float) -> bool:
    if timeout_s <= 0:
        raise RegexTimeout(f"no time left for re({compiled.pattern[:40]})")
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: match, answer, leave without running any parent cleanup
        code = 2
        try:
            os.close(read_fd)
            os.nice(19)  # while it runs, the checks of the tick come first
            found = compiled.search(text) is not None
            os.write(write_fd, b"1" if found else b"0")
            code = 0
        finally:
            os._exit(code)
    os.close(write_fd)
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[bytes] = loop.create_future()

    def readable() -> None:
        if not answer.done():
            try:
                answer.set_result(os.read(read_fd, 1))
            except OSError as exc:
                answer.set_exception(exc)

    loop.add_reader(read_fd, readable)
    finished = False
    try:
        async with asyncio.timeout(timeout_s):
            data = await answer
        finished = True
    except TimeoutError:
        raise RegexTimeout(f"re({compiled.pattern[:40]}) ran past the target's deadline") from None
    finally:
        loop.remove_reader(read_fd)
        os.close(read_fd)
        if not finished:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        _reap(pid)
    if data not in (b"0", b"1"):
        raise RuntimeError("regex evaluation failed in its child process")
    return data == b"1"
