"""`make run`: the whole pipeline on this machine, no AWS account, running what deploys.

1. package: `infra.build_template` (what `make package` runs) builds the merged SAM template and
   deployment.zip for the dev stage into --build-dir;
2. deploy: moto server (in process, 127.0.0.1) stands in for AWS, and devstack.deploy deploys
   that template through CloudFormation (README "Deployed locally" lists moto's gaps);
3. run: `chalice local` serves the HTTP API under the API function's role, and the runner
   (devstack.runner) runs every other function of the deployed stack in its own process under
   its own role, IAM enforced, with Lambda's event-source semantics; local peers serve the sample
   sources and targets.

State is saved under --data-dir (default .data/) at most every 15 s after a change and on Ctrl-C,
and loaded at start.
Notifications with no credentials print to this console.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
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


def base_env(moto_url: str, peers_url: str) -> dict[str, str]:
    """The local settings every process of the stack starts from. Function processes add their
    deployed environment and role credentials on top (devstack.runner.function_environ)."""
    from devstack.runner import OPERATOR_KEY

    return {
        # The stack's own operator credentials (deploying, snapshots, the TTL reaper): never a
        # function's (iam_local registers them as the service, not as a role).
        "AWS_ACCESS_KEY_ID": OPERATOR_KEY,
        "AWS_SECRET_ACCESS_KEY": OPERATOR_KEY,
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
        # A destination told more than NEWBOOKS_NOTIFY_BURST_LIMIT (deployed: 10) releases in an hour
        # gets the rest at the hour's end. The local console hears the sample subscriptions' dozen at
        # start: with 10, a newcomer's follow would print up to an hour late (issue 16).
        "NEWBOOKS_NOTIFY_BURST_LIMIT": os.environ.get("NEWBOOKS_NOTIFY_BURST_LIMIT", "200"),
        # Local settings that win over a function's deployed environment (the console's level).
        "NEWBOOKS_LOCAL_OVERRIDES": json.dumps(["NEWBOOKS_LOG_LEVEL", "NEWBOOKS_NOTIFY_BURST_LIMIT"]),
        "NEWBOOKS_STACK_NAME": f"newbooks-{STAGE}",
    }


def package(build_dir: Path) -> subprocess.Popen:
    """`make package` for the dev stage: the template and zip this run deploys (started here,
    waited for before the deploy)."""
    return subprocess.Popen([sys.executable, "-m", "infra.build_template", "--stage", STAGE, "--out", str(build_dir)],
                            cwd=ROOT, stdout=subprocess.DEVNULL)


def deploy_imports() -> None:
    import samtranslator.translator.translator  # noqa: F401
    from moto.backends import get_backend

    for service in ("cloudformation", "iam", "lambda", "sqs", "dynamodb", "s3", "events", "cloudwatch", "sts"):
        get_backend(service)  # type: ignore[call-overload]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("NEWBOOKS_PORT", "8000")), help="HTTP API port")
    parser.add_argument("--data-dir", default=os.environ.get("NEWBOOKS_DATA_DIR", str(ROOT / ".data")))
    parser.add_argument("--rotate-s", type=float, default=120.0, help="seconds between sample weeks")
    parser.add_argument("--crawl-every-s", type=float, default=60.0,
                        help="the dev runner fires the hourly crawl schedule this often (deployed: every hour)")
    parser.add_argument("--no-api", action="store_true", help="do not start chalice local")
    parser.add_argument("--build-dir", default=str(ROOT / "build" / STAGE), help="where the package step writes")
    parser.add_argument("--no-package", action="store_true", help="deploy --build-dir as it is (already packaged)")
    args = parser.parse_args(argv)
    data_dir = Path(args.data_dir)
    build_dir = Path(args.build_dir).resolve()
    from devstack import preflight

    problem = preflight.problems(args.port, os.environ)
    if problem:
        print(f"newbooks: cannot start: {problem}", file=sys.stderr, flush=True)
        return 2
    from devstack import console, local_credentials

    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ[console.LOG_FILE_ENV] = str(console.log_path(data_dir))
    console.configure()
    credentials = local_credentials.ensure(data_dir, os.environ, STAGE)
    os.environ.update(credentials.environ)
    os.environ["NEWBOOKS_LOCAL_SCHEDULES"] = json.dumps({"crawl_dispatch": args.crawl_every_s})
    packaging = None if args.no_package else package(build_dir)
    # Import the deploy's heavy modules while `chalice package` runs (seconds off start-up).
    warm = threading.Thread(target=deploy_imports, daemon=True)
    warm.start()
    # links in notifications, Slack replies and feeds point at the port this stack really serves
    os.environ.setdefault("NEWBOOKS_PUBLIC_URL", f"http://127.0.0.1:{args.port}")

    from devstack.motoserver import LocalMotoServer

    console.configure()  # moto's werkzeug (access log, request errors) into the log file only

    moto_port = free_port()
    moto = LocalMotoServer("127.0.0.1", moto_port)
    moto.start()
    from devstack.peers import Peers

    peers = Peers(rotate_s=args.rotate_s).start()
    env = base_env(f"http://127.0.0.1:{moto_port}", peers.url)
    os.environ.update(env)

    import boto3

    from chalicelib.log import get_logger
    from devstack import deploy, persist
    from devstack.runner import assume, function_environ

    log = get_logger("devstack")
    console.configure()
    if packaging is not None and packaging.wait() != 0:
        raise SystemExit(f"packaging failed: python -m infra.build_template --stage {STAGE} --out {build_dir}")
    warm.join()
    deployment = deploy.deploy(build_dir, STAGE, boto3.client)
    deploy.detach_moto_invoker()
    view = deploy.read_stack(deployment.stack_name, boto3.client)
    tables, bucket = view.table_names(), view.bucket_names()[0]
    restored = persist.restore(data_dir, tables, bucket)
    print(f"deployed {build_dir / 'sam.json'} as stack {deployment.stack_name} in {deployment.seconds:.1f} s: "
          f"{len(view.functions)} functions, {len(deployment.roles)} roles, {len(deployment.alarms)} alarms", flush=True)
    log.info("local stack ready", extra={"moto": env["AWS_ENDPOINT_URL"], "peers": peers.url, "restored": restored,
                                         "not_deployed_locally": deployment.skipped})

    stop = threading.Event()
    # moto starts empty each time, so stream positions of an earlier run mean nothing now.
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "checkpoints.json").unlink(missing_ok=True)
    runner = Supervisor(data_dir, since=time.time(), log=log)
    runner.start()
    api = None
    if not args.no_api:
        api_function = view.functions[os.environ.get("NEWBOOKS_API_FUNCTION", "APIHandler")]
        api = subprocess.Popen(
            [sys.executable, "-m", "devstack.api", "local", "--host", "127.0.0.1", "--port", str(args.port),
             "--stage", STAGE, "--no-autoreload"],
            cwd=ROOT,
            env=function_environ(api_function, assume(api_function, boto3.client), dict(os.environ)),
        )
        if not wait_http(f"http://127.0.0.1:{args.port}/healthz", 30):
            log.error("chalice local did not come up")

    def save() -> None:
        try:
            persist.dump(data_dir, tables, bucket)
        except Exception as exc:  # never let a snapshot failure stop the stack
            log.error("state snapshot failed", extra={"error": repr(exc)})

    def on_signal(signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    print(banner(f"http://127.0.0.1:{args.port}", credentials, env, peers.url, data_dir, args), flush=True)
    last_save = time.monotonic()
    while not stop.wait(1.0):
        runner.keep_alive()
        if time.monotonic() - last_save >= 15 and moto.changed.is_set():
            moto.changed.clear()  # before the dump: a write during it marks the next one
            save()
            last_save = time.monotonic()
    print("stopping...", flush=True)
    stopping = time.monotonic()
    # Children first, at once (each needs its own grace time), then one save of a quiet moto.
    if api is not None:
        api.terminate()
    runner.stop()
    save()
    if api is not None:
        try:
            api.wait(timeout=2)
        except subprocess.TimeoutExpired:
            api.kill()
    peers.stop()
    print(f"stopped in {time.monotonic() - stopping:.1f} s; state saved in {data_dir}", flush=True)
    return 0


def banner(api_url: str, credentials: object, env: dict[str, str], peers_url: str, data_dir: Path,
           args: argparse.Namespace) -> str:
    """What a newcomer needs after `make run`: where the API is, and how to call it and Slack."""
    from devstack import local_credentials
    from devstack.peers import series_arriving

    # the next sample week's series: follow it now, its release prints here when that week arrives
    series = series_arriving(1) or "Nailbiter"
    slack_args = "" if args.port == 8000 else f" --url {api_url}"
    if data_dir.resolve() != (ROOT / ".data").resolve():
        slack_args += f" --data-dir {data_dir}"
    return "\n".join([
        f"newbooks local stack: API {api_url}  (releases: /releases, status: /status)",
        *local_credentials.howto(api_url, credentials, series, slack_args),  # type: ignore[arg-type]
        f"  sample week advances every {args.rotate_s:.0f} s; crawl every {args.crawl_every_s:.0f} s (deployed: hourly)",
        f"  moto {env['AWS_ENDPOINT_URL']}  peers {peers_url}  data {data_dir}  logs {data_dir / 'logs'}  - Ctrl-C to stop",
    ])


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
            extra = {k: str(v) for k, v in json.loads(overrides.read_text()).items()}
            env.update(extra)
            # ...and they win over the functions' deployed environment, like a redeploy would.
            env["NEWBOOKS_LOCAL_OVERRIDES"] = json.dumps(json.loads(env.get("NEWBOOKS_LOCAL_OVERRIDES", "[]")) + list(extra))
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
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # State is saved and every child stopped; moto's request threads may still sit in a 20 s
    # long poll of the runner that is gone: nothing is left worth waiting for.
    os._exit(code)
