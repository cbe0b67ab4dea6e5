"""Start-up checks of the local stack (issue 16, point 3): each problem is one line that says
what is wrong and how to fix it, printed before anything starts (no banner claiming a port the
stack cannot serve, no 40-line traceback)."""
from __future__ import annotations

import errno
import os
import socket
from collections.abc import Mapping
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent


def port_problem(port: int, host: str = "127.0.0.1") -> str | None:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return (f"port {port} on {host} is in use (another `make run`?): stop that process, or pick "
                        f"another port: NEWBOOKS_PORT={port + 1} make run")
            return f"cannot listen on {host}:{port} ({exc.strerror}): pick another port: NEWBOOKS_PORT=8001 make run"
    return None


def samples_problem() -> str | None:
    from devstack.samples import samples_dir

    if samples_dir() is not None:
        return None
    configured = os.environ.get("NEWBOOKS_SAMPLES")
    where = f"NEWBOOKS_SAMPLES={configured} is not a folder" if configured else \
        f"no {ROOT.parent / 'shared' / 'samples'} and NEWBOOKS_SAMPLES is not set"
    return (f"sample sources not found ({where}): the local stack serves them as its release sources; "
            "set NEWBOOKS_SAMPLES=/path/to/shared/samples")


def config_problem(environ: Mapping[str, str]) -> str | None:
    """The sources and targets files the stack will run with must load (the functions would
    otherwise fail one by one, later, in their own processes)."""
    from chalicelib.configfile import ConfigError
    from chalicelib.crawl.sources_config import load_sources
    from chalicelib.uptime.ssrf import AddressPolicy
    from chalicelib.uptime.targets import load_file

    sources = environ.get("NEWBOOKS_SOURCES_FILE", str(ROOT / "devstack" / "config" / "sources.yaml"))
    targets = environ.get("NEWBOOKS_TARGETS_FILE", str(ROOT / "devstack" / "config" / "targets.yaml"))
    # The files name the peers' URL, known only once they listen: any loopback URL parses the same.
    placeholders = {"NEWBOOKS_PEERS_URL": "http://127.0.0.1:9", "NEWBOOKS_PEERS_HOSTPORT": "127.0.0.1:9"}
    with mock.patch.dict(os.environ, {**placeholders, **environ}):
        for what, variable, path, load in (
                ("sources", "NEWBOOKS_SOURCES_FILE", sources, load_sources),
                ("targets", "NEWBOOKS_TARGETS_FILE", targets,
                 lambda p: load_file(p, policy=AddressPolicy(allow_private=True)))):
            try:
                load(Path(path))
            except (ConfigError, ValueError, TypeError, KeyError, OSError) as exc:
                detail = " ".join(str(exc).split()).removeprefix(f"{path}: ")
                return (f"the {what} file {path} does not load: {detail} "
                        f"(fix the file, or unset {variable} for the sample one)")
    return None


def problems(port: int, environ: Mapping[str, str]) -> str | None:
    """The first start-up problem, as one line with its fix, or None."""
    return port_problem(port) or samples_problem() or config_problem(environ)
