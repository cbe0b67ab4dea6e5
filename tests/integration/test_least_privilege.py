"""Least privilege, checked in CI: every function's IAM policy grants exactly the AWS actions its
code can call (derived statically from app.py and chalicelib by infra/iam_check.py), plus what
Lambda itself needs; no wildcard actions, every resource a named ARN.

When this fails, the message lists per function the missing actions (with the calling lines)
and the unused ones: fix the policy file, not this test."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from infra import iam_check

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def results():
    return iam_check.check(ROOT)


def test_every_configured_function_has_a_handler_and_a_policy(results):
    configured = set(iam_check.lambda_functions(ROOT / ".chalice" / "config.json"))
    handlers = set(iam_check.entry_points(iam_check.Index(ROOT)))
    assert configured == handlers, f"config only: {configured - handlers}, app.py only: {handlers - configured}"
    assert {r.function for r in results} == configured


def test_policies_match_the_code(results):
    failing = [r for r in results if r.missing or r.unused]
    assert not failing, "policy and code disagree:\n" + iam_check.report(failing)


def test_policies_have_no_wildcard_actions_or_resources(results):
    problems = [f"{r.policy_file}: {p}" for r in results for p in r.problems]
    assert not problems, "\n".join(problems)


def test_known_calls_are_found_where_they_are(results):
    """Guards the analyser itself against going blind (an empty call set would match nothing)."""
    by_name = {r.function: r for r in results}
    assert "dynamodb:BatchWriteItem" in by_name["ping"].code_actions  # rollups: batch_writer()
    assert "sqs:SendMessage" in by_name["crawl_dispatch"].code_actions  # closure passed by keyword
    assert "sqs:SendMessage" not in by_name["crawl_worker"].code_actions  # ...that the worker never calls
    assert {"s3:PutObject", "s3:GetObject", "dynamodb:PutItem"} <= by_name["crawl_worker"].code_actions
    assert by_name["tick_archiver"].code_actions == {"s3:PutObject"}
    assert "ssm:GetParameter" in by_name["deliver_slack"].code_actions  # secrets, lazily imported


# --- the analyser on a small synthetic project: it must catch both directions ------------------

APP = '''
from chalice import Chalice
app = Chalice(app_name="x")

@app.lambda_function(name="worker")
def worker(event, context):
    from chalicelib.boot import service
    return service().run(event)

@app.schedule("rate(1 hour)", name="tick")
def tick(event):
    from chalicelib.boot import service
    return service().tick(event)

@app.route("/items")
def items():
    from chalicelib.boot import service
    return service().items.lookup("x")
'''

BOOT = '''
from dataclasses import dataclass
from typing import Callable
from chalicelib import aws

def service():
    from chalicelib.store import Store

    def send(message):
        aws.client("sqs").send_message(QueueUrl="q", MessageBody=message)

    return Service(Store(), send_message=send)

@dataclass
class Service:
    items: "Store"
    send_message: Callable

    def run(self, event):
        self.items.save(event)

    def tick(self, event):
        self.send_message("hi")
'''

STORE = '''
from chalicelib import aws

class Store:
    def __init__(self):
        self._table = aws.table("t")

    def save(self, item):
        from chalicelib.blobs import put
        self._table.put_item(Item=item)
        put(item)

    def lookup(self, key):
        return self._table.get_item(Key={"pk": key}).get("Item")

    def unused(self):
        self._table.delete_item(Key={})
'''

BLOBS = '''
from chalicelib import aws

def put(item):
    aws.client("s3").put_object(Bucket="b", Key="k", Body=b"")
'''

AWS = '''
def client(name): ...
def resource(name): ...
def table(name): return resource("dynamodb").Table(name)
'''


def _policy(*actions: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": sorted(iam_check.LOGS), "Resource": "arn:aws:logs:*:*:log-group:/aws/lambda/x-*"},
            {"Effect": "Allow", "Action": list(actions), "Resource": ["arn:aws:dynamodb:*:*:table/x-*-t"]},
        ],
    }


@pytest.fixture
def project(tmp_path):
    (tmp_path / "app.py").write_text(textwrap.dedent(APP))
    lib = tmp_path / "chalicelib"
    lib.mkdir()
    for name, text in {"__init__": "", "boot": BOOT, "store": STORE, "blobs": BLOBS, "aws": AWS}.items():
        (lib / f"{name}.py").write_text(textwrap.dedent(text))
    chalice = tmp_path / ".chalice"
    (chalice / "policies").mkdir(parents=True)
    functions = {name: {"iam_policy_file": f"policies/{name}.json"} for name in ("worker", "tick", "api_handler")}
    (chalice / "config.json").write_text(json.dumps({"stages": {"dev": {"lambda_functions": functions}}}))
    return tmp_path


def _write(project: Path, name: str, policy: dict) -> None:
    (project / ".chalice" / "policies" / f"{name}.json").write_text(json.dumps(policy))


def test_analyser_reports_missing_and_unused_actions(project):
    _write(project, "worker", _policy("dynamodb:PutItem", "dynamodb:DeleteItem"))  # lacks s3, grants delete
    _write(project, "tick", _policy("sqs:SendMessage"))
    _write(project, "api_handler", _policy("dynamodb:GetItem"))
    results = {r.function: r for r in iam_check.check(project)}

    worker = results["worker"]
    assert worker.code_actions == {"dynamodb:PutItem", "s3:PutObject"}  # lazy import inside save()
    assert worker.missing == {"s3:PutObject"}
    assert worker.unused == {"dynamodb:DeleteItem"}  # Store.unused() is never reached
    assert results["tick"].code_actions == {"sqs:SendMessage"} and results["tick"].ok
    assert results["api_handler"].code_actions == {"dynamodb:GetItem"} and results["api_handler"].ok
    assert "missing s3:PutObject  <- chalicelib.blobs:5" in iam_check.report([worker])


def test_analyser_refuses_wildcards(project):
    policy = _policy("dynamodb:*")
    policy["Statement"].append({"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": "*"})
    _write(project, "worker", policy)
    _write(project, "tick", _policy("sqs:SendMessage"))
    _write(project, "api_handler", _policy("dynamodb:GetItem"))
    worker = {r.function: r for r in iam_check.check(project)}["worker"]
    assert any("wildcard action 'dynamodb:*'" in p for p in worker.problems)
    assert any("resource '*' does not name an ARN" in p for p in worker.problems)
    assert not worker.ok
