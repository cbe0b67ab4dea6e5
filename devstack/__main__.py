"""`make run`: the whole pipeline on this machine, no AWS account.

moto server (in process, 127.0.0.1) stands in for AWS; resources come from
chalicelib/resources.py; `chalice local` serves the HTTP API; this runner fires the schedules
and feeds queues and streams to the handlers with Lambda's semantics; local peers serve the
sample sources and targets. State is saved under --data-dir (default .data/) every 15 s and on
Ctrl-C, and loaded at start. Notifications with no credentials print to this console.
"""
from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import threading
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAGE = "dev"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, timeout_s: float) -> bool:
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except Exception:
            time.sleep(0.2)
    return False


def stage_env() -> dict[str, str]:
    """The stage's environment from .chalice/config.json: `chalice local` applies it to the API,
    and the runner applies it to itself, so every handler sees what it would see on Lambda."""
    import json

    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    return {**config.get("environment_variables", {}), **config["stages"][STAGE].get("environment_variables", {})}


def base_env(moto_url: str, peers_url: str) -> dict[str, str]:
    return {
        **stage_env(),
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": moto_url,
        "NEWBOOKS_STAGE": STAGE,
        "NEWBOOKS_SSM_DISABLED": "1",
        "NEWBOOKS_PEERS_URL": peers_url,
        "NEWBOOKS_PEERS_HOSTPORT": peers_url.split("://", 1)[1],
        # The sample configuration, unless the caller names its own files.
        "NEWBOOKS_SOURCES_FILE": os.environ.get("NEWBOOKS_SOURCES_FILE", str(ROOT / "devstack" / "config" / "sources.yaml")),
        "NEWBOOKS_TARGETS_FILE": os.environ.get("NEWBOOKS_TARGETS_FILE", str(ROOT / "devstack" / "config" / "targets.yaml")),
        "NEWBOOKS_SUBSCRIPTIONS_FILE": os.environ.get(
            "NEWBOOKS_SUBSCRIPTIONS_FILE", str(ROOT / "chalicelib" / "config" / "subscriptions.yaml")),
        # The console is for notifications: the runner logs warnings and errors only.
        "NEWBOOKS_LOG_LEVEL": os.environ.get("NEWBOOKS_LOG_LEVEL", "WARNING"),
        # sample covers are URLs on publishers' CDNs: this machine (and a test browser) stays offline
        "NEWBOOKS_COVER_IMAGES": os.environ.get("NEWBOOKS_COVER_IMAGES", "off"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("NEWBOOKS_PORT", "8000")), help="HTTP API port")
    parser.add_argument("--data-dir", default=os.environ.get("NEWBOOKS_DATA_DIR", str(ROOT / ".data")))
    parser.add_argument("--rotate-s", type=float, default=120.0, help="seconds between sample weeks")
    parser.add_argument("--no-api", action="store_true", help="do not start chalice local")
    args = parser.parse_args(argv)
    data_dir = Path(args.data_dir)

    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request access log

    moto_port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
    moto.start()
    from devstack.peers import Peers

    peers = Peers(rotate_s=args.rotate_s).start()
    env = base_env(f"http://127.0.0.1:{moto_port}", peers.url)
    os.environ.update(env)

    from devstack import persist, provision
    from chalicelib.log import get_logger

    log = get_logger("devstack")
    resource_env = provision.create_all(STAGE)
    os.environ.update(resource_env)
    restored = persist.restore(data_dir, STAGE)
    log.info("local stack ready", extra={"moto": env["AWS_ENDPOINT_URL"], "peers": peers.url, "restored": restored})

    stop = threading.Event()
    api = None
    if not args.no_api:
        api = subprocess.Popen(
            [str(Path(sys.executable).with_name("chalice")), "local", "--host", "127.0.0.1", "--port", str(args.port),
             "--stage", STAGE, "--no-autoreload"],
            cwd=ROOT,
            env={**os.environ},
        )
        if not wait_http(f"http://127.0.0.1:{args.port}/healthz", 30):
            log.error("chalice local did not come up")
    # moto starts empty each time, so stream positions of an earlier run mean nothing now.
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "checkpoints.json").unlink(missing_ok=True)
    runner = Supervisor(data_dir, since=time.time(), log=log)
    runner.start()

    def save() -> None:
        try:
            persist.dump(data_dir, STAGE)
        except Exception as exc:  # never let a snapshot failure stop the stack
            log.error("state snapshot failed", extra={"error": repr(exc)})

    def on_signal(signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    print(f"newbooks local stack: API http://127.0.0.1:{args.port}  (releases: /releases, status: /status)", flush=True)
    print(f"  moto {env['AWS_ENDPOINT_URL']}  peers {peers.url}  data {data_dir}  - Ctrl-C to stop", flush=True)
    last_save = time.monotonic()
    while not stop.wait(1.0):
        runner.keep_alive()
        if time.monotonic() - last_save >= 15:
            save()
            last_save = time.monotonic()
    print("stopping...", flush=True)
    runner.stop()
    save()
    if api is not None:
        api.terminate()
        try:
            api.wait(timeout=10)
        except subprocess.TimeoutExpired:
            api.kill()
    peers.stop()
    moto.stop()
    print("stopped; state saved in", data_dir, flush=True)
    return 0


class Supervisor:
    """Runs `devstack.runner` as a child process and restarts it when it dies, as Lambda
    replaces a crashed host. `<data dir>/runner.env.json`, when present, is merged into the
    child's environment at each start: a local stand-in for deploying a new version."""

    def __init__(self, data_dir: Path, since: float, log: object):
        self.data_dir, self.since, self.log = data_dir, since, log
        self.process: subprocess.Popen | None = None
        self.restarts = 0

    def start(self) -> None:
        import json

        overrides = self.data_dir / "runner.env.json"
        env = {**os.environ, "NEWBOOKS_STREAMS_SINCE": str(self.since)}
        if overrides.exists():
            env.update({k: str(v) for k, v in json.loads(overrides.read_text()).items()})
        self.process = subprocess.Popen([sys.executable, "-m", "devstack.runner", "--data-dir", str(self.data_dir)],
                                        cwd=ROOT, env=env)

    def keep_alive(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            self.restarts += 1
            self.log.warning("runner exited, restarting", extra={"returncode": self.process.returncode,  # type: ignore[attr-defined]
                                                                 "restarts": self.restarts})
            self.start()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


if __name__ == "__main__":
    raise SystemExit(main())
