"""One process per deployed function, like a Lambda container: it runs with that function's
environment and its role's credentials only (IAM enforced by devstack.iam_local), builds its
boto3 clients once (chalicelib.aws / bootstrap, as on Lambda), and handles one invocation at a
time. Processes come from multiprocessing's fork server, which imports app.py once before any
thread exists (each worker is a cheap copy-on-write fork of it), and the runner talks to each
over a pipe: event in, result or error out. A call that outlives the function's
timeout kills the process, as Lambda does, and the next call starts a fresh one.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import traceback
import uuid
from pathlib import Path
from typing import Any

from devstack.deploy import Function


class HandlerError(Exception):
    """The function raised (its traceback text, from the worker process) or timed out."""


def _die_with_parent() -> None:
    """Linux: the kernel kills this process when its parent (the fork server, which exits with
    the runner) dies, SIGKILL included."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:  # not Linux: the runner's exit still closes the pipe, which ends the loop
        pass


def _name_process(name: str) -> None:
    """`ps -o comm` / top show which function a process runs (Linux; 15 characters)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").prctl(15, ctypes.c_char_p(name[:15].encode()), 0, 0, 0)  # PR_SET_NAME
    except OSError:
        pass


def _serve(conn: Any, function: Function, environ: dict[str, str], data_dir: str | None) -> None:
    _die_with_parent()
    _name_process(f"fn:{function.entry_point}")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the runner decides when to stop
    os.environ.clear()
    os.environ.update(environ)
    from chalicelib import bootstrap
    from devstack import iam_local
    from devstack.chaos import Chaos
    from devstack.lambda_runtime import FakeContext

    bootstrap.reset()  # nothing built before the fork survives: clients use this env's credentials
    iam_local.identity_from_env(environ)
    chaos = Chaos.from_env(Path(data_dir) if data_dir else None)
    if chaos:
        chaos.install()
    import app as app_module
    from devstack import console

    console.configure()  # one plain line per crawl result or warning; INFO as JSON to the log file
    handler = getattr(app_module, function.entry_point)
    while True:
        try:
            request_id, event = conn.recv()
        except (EOFError, OSError):
            return
        try:
            result = handler(event, FakeContext(function.name, request_id))
            conn.send(("ok", result))
        except BaseException:
            conn.send(("error", traceback.format_exc(limit=8)))


def context() -> Any:
    """The fork server, preloading app.py; call before the runner starts any thread."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["app", "boto3", "botocore.session", "devstack.iam_local"])
    return ctx


class Worker:
    def __init__(self, function: Function, environ: dict[str, str], data_dir: Path | None = None, ctx: Any = None):
        self.function, self.environ, self.data_dir = function, environ, data_dir
        self.ctx = ctx or context()
        self.lock = threading.Lock()
        self.process: Any = None
        self.conn: Any = None
        self.starts = 0

    def start(self) -> Worker:
        parent, child = self.ctx.Pipe()
        self.process = self.ctx.Process(
            target=_serve, args=(child, self.function, self.environ, str(self.data_dir) if self.data_dir else None),
            name=f"fn-{self.function.logical_id}", daemon=True)
        self.process.start()
        child.close()
        self.conn = parent
        self.starts += 1
        return self

    def __call__(self, event: dict, context: Any = None) -> Any:
        """Invoke the function with `event` (the Handler signature the pollers call)."""
        request_id = getattr(context, "aws_request_id", "") or str(uuid.uuid4())
        with self.lock:
            if self.process is None or not self.process.is_alive():
                self.start()
            try:
                self.conn.send((request_id, event))
                if not self.conn.poll(self.function.timeout_s):
                    self.stop()
                    raise HandlerError(f"{self.function.name}: Task timed out after {self.function.timeout_s} seconds")
                status, value = self.conn.recv()
            except (EOFError, OSError, BrokenPipeError) as exc:
                self.stop()
                raise HandlerError(f"{self.function.name}: the function process died ({exc!r})") from None
        if status == "error":
            raise HandlerError(f"{self.function.name} ({self.function.entry_point}) failed:\n{value}")
        return value

    def stop(self) -> None:
        if self.process is not None and self.process.is_alive():
            self.process.kill()
            self.process.join(5)
        if self.conn is not None:
            self.conn.close()
        self.process = self.conn = None
