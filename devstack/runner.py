"""The dev runner: Lambda's event sources for the DEPLOYED stack, in a child process of the local
stack (`python -m devstack` deploys build/<stage>/ into moto, then starts and supervises this).

Everything it runs comes from the stack as deployed (devstack.deploy.read_stack): the functions
(handler, environment, role, timeout), the EventBridge schedules and their targets, the event
source mappings (batch size, filters, bisect, retries, OnFailure destination) and the queues'
redrive policies. Each function runs in its own process under its own role's credentials
(devstack.worker, IAM enforced by devstack.iam_local); the pollers here use the same role, as
Lambda's do. It can be killed at any moment (SIGKILL) like a Lambda host: AWS state lives in the
parent's moto server, stream positions in the data dir's checkpoints, and in-flight queue
messages come back after their visibility timeout.

    python -m devstack.runner --data-dir .data     (environment prepared by the parent)
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

# Set by the parent for the runner's own operations (reading the stack, the TTL reaper standing
# in for DynamoDB); never given to a function.
OPERATOR_KEY = "local"


def function_environ(function: Any, credentials: dict[str, str], local: dict[str, str]) -> dict[str, str]:
    """A function's process environment: the local settings (peers, config files, the caller's
    overrides), the function's environment as deployed, then its role's credentials."""
    scrubbed = {k: v for k, v in local.items() if not k.startswith("AWS_") or k in ("AWS_ENDPOINT_URL", "AWS_REGION",
                                                                                   "AWS_DEFAULT_REGION")}
    overrides = {k: local[k] for k in json.loads(local.get("NEWBOOKS_LOCAL_OVERRIDES", "[]")) if k in local}
    return {**scrubbed, **function.environment, **overrides, **credentials,
            "AWS_LAMBDA_FUNCTION_NAME": function.name, "AWS_LAMBDA_FUNCTION_TIMEOUT": str(function.timeout_s)}


def assume(function: Any, clients: Any) -> dict[str, str]:
    """sts:AssumeRole of the function's role; the credentials plus the role's policies (read from
    IAM) as environment variables for the function's process (iam_local.identity_from_env)."""
    from devstack.deploy import role_policies

    got = clients("sts").assume_role(RoleArn=function.role_arn, RoleSessionName=function.name[:64],
                                     DurationSeconds=43200)["Credentials"]
    policies = [json.dumps(p) for p in role_policies(clients("iam"), function.role_arn)]
    return {
        "AWS_ACCESS_KEY_ID": got["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": got["SecretAccessKey"],
        "AWS_SESSION_TOKEN": got["SessionToken"],
        "NEWBOOKS_LOCAL_IAM": json.dumps({"function": function.name, "role_arn": function.role_arn,
                                          "account": function.role_arn.split(":")[4], "policies": policies}),
    }


def session_for(credentials: dict[str, str]) -> Any:
    """A boto3 session signing with a function's credentials (its pollers')."""
    import boto3

    return boto3.session.Session(aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
                                 aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
                                 aws_session_token=credentials["AWS_SESSION_TOKEN"],
                                 region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))


def local_speedup(rule: str, expression: str, every_s: dict[str, float]) -> float:
    """How much faster than deployed the dev runner fires `rule` (its physical name contains the
    schedule's name from app.py): `every_s` maps names to local periods. Never slower. Pure."""
    from devstack.lambda_runtime import rate_seconds

    def squash(text: str) -> str:  # crawl_dispatch -> crawldispatch, as in newbooks-dev-CrawlDispatchCrawlDispatchEvent-X
        return "".join(c for c in text.lower() if c.isalnum())

    local_s = next((v for name, v in every_s.items() if squash(name) in squash(rule) and v > 0), None)
    return max(1.0, rate_seconds(expression) / local_s) if local_s else 1.0


def start_runner(stop: threading.Event, data_dir: Path, since: float | None) -> list[threading.Thread]:
    """Function processes, schedules, queue pollers, stream pollers and the TTL reaper, wired
    from the deployed stack."""
    from multiprocessing import forkserver

    import boto3

    from devstack import deploy, iam_local
    from devstack import lambda_runtime as rt
    from devstack.chaos import Chaos
    from devstack.checkpoints import Checkpoints
    from devstack.worker import Worker, context

    ctx = context()
    forkserver.ensure_running()  # before any thread; it imports app.py while we read the stack
    iam_local.register(os.environ["AWS_ACCESS_KEY_ID"], iam_local.SERVICE)
    iam_local.install()
    view = deploy.read_stack(os.environ["NEWBOOKS_STACK_NAME"], boto3.client)
    api = os.environ.get("NEWBOOKS_API_FUNCTION", "APIHandler")
    credentials = {}
    workers: dict[str, Worker] = {}
    for logical_id, function in view.functions.items():
        if logical_id == api:
            continue  # `chalice local` serves it (devstack.__main__)
        credentials[logical_id] = assume(function, boto3.client)
        iam_local.register(credentials[logical_id]["AWS_ACCESS_KEY_ID"],  # its pollers sign with these
                           iam_local.Identity.from_json(credentials[logical_id]["NEWBOOKS_LOCAL_IAM"]))
        workers[logical_id] = Worker(function, function_environ(function, credentials[logical_id], dict(os.environ)),
                                     data_dir, ctx).start()

    chaos = Chaos.from_env(data_dir)
    checkpoints = Checkpoints(data_dir / "checkpoints.json")
    threads: list[threading.Thread] = []
    ttl_tables = {}
    ddb = boto3.client("dynamodb")
    for table in view.table_names():
        ttl = ddb.describe_time_to_live(TableName=table).get("TimeToLiveDescription", {})
        if ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING") and ttl.get("AttributeName"):
            ttl_tables[table] = ttl["AttributeName"]
    reaper = rt.TtlReaper(ttl_tables, stop)
    threads.append(reaper)
    for mapping in view.mappings:
        function = view.functions[mapping.function]
        session = session_for(credentials[mapping.function])
        if mapping.source_arn.startswith("arn:aws:sqs:"):
            queue = view.queue_by_arn(mapping.source_arn)
            threads.append(rt.QueuePoller(function.name, workers[mapping.function], queue.url, mapping.batch_size, stop,
                                          chaos=chaos, session=session, redrive=queue.redrive,
                                          concurrency=mapping.max_concurrency))
        else:
            sink = rt.stream_failure_sink(view.queue_by_arn(mapping.on_failure_arn).url, session) \
                if mapping.on_failure_arn else (lambda records: None)
            filters = [json.loads(p) for p in mapping.filters]
            threads.append(rt.StreamPoller(function.name, workers[mapping.function], mapping.source_arn,
                                           mapping.batch_size, filters, mapping.max_retry_attempts or 0, stop, sink,
                                           reaper.mark, checkpoints=checkpoints, since=since, chaos=chaos,
                                           session=session))
    for thread in threads:
        thread.start()
    for thread in threads:  # be listening before the first schedule writes anything
        if isinstance(thread, rt.StreamPoller):
            thread.ready.wait(10)
    from devstack.alarms import start_alarms  # infra/alarms.py evaluated locally, printed on the console

    prefix = f"newbooks-{os.environ.get('NEWBOOKS_STAGE', 'dev')}-"
    threads.append(start_alarms(stop, queue_urls={q.url.rsplit("/", 1)[1].removeprefix(prefix): q.url
                                                  for q in view.queues.values()}))
    # The dev runner may fire a schedule faster than deployed (`--crawl-every-s`): the local sample
    # week advances every few minutes, the hourly crawl would miss most of it (issue 16).
    every_s = {k: float(v) for k, v in json.loads(os.environ.get("NEWBOOKS_LOCAL_SCHEDULES", "{}")).items()}
    for schedule in view.schedules:
        speedup = local_speedup(schedule.rule, schedule.expression, every_s)
        scheduler = rt.Scheduler(schedule.rule, schedule.expression, workers[schedule.function], stop, speedup=speedup,
                                 chaos=chaos)
        scheduler.start()
        threads.append(scheduler)
    return threads


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.runner", description=__doc__)
    parser.add_argument("--data-dir", required=True)
    args = parser.parse_args(argv)
    data_dir = Path(args.data_dir)
    from devstack import console

    console.configure()
    since = float(os.environ["NEWBOOKS_STREAMS_SINCE"]) if os.environ.get("NEWBOOKS_STREAMS_SINCE") else None
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    parent = os.getppid()
    threads = start_runner(stop, data_dir, since)
    (data_dir / "runner.pid").write_text(str(os.getpid()))
    # The stack's moto server lives in the parent: without it there is nothing to run against.
    while not stop.wait(2.0):
        if os.getppid() != parent:
            stop.set()
    deadline = time.monotonic() + 1  # pollers may sit in a 20 s long poll: do not wait for them
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
