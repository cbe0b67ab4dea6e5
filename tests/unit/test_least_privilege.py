"""Least privilege, checked in CI: every function's IAM policy grants exactly the AWS actions its
code can call (derived statically from app.py and chalicelib by infra/iam_check.py), plus what
Lambda itself needs; no wildcard actions, every resource a named ARN.

Resources are checked too: every policy resource must name something the stage's deploy template
creates (infra/resource_names.py) and nothing of another stage. Policies are written once in
`.chalice/policies/<function>.json` with `<stage>` and rendered per stage
(`python -m infra.render_policies`).

When this fails, the message lists per function the missing actions (with the calling lines)
and the unused ones: fix the policy file, not this test."""
from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

from infra import iam_check, render_policies
from infra.resource_names import stage_names

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


def test_rendered_policies_are_current():
    stale = render_policies.stale(ROOT)
    assert not stale, f"run `python -m infra.render_policies`: stale {[str(p.relative_to(ROOT)) for p in stale]}"


def test_every_stage_checks_its_own_policy_files(results):
    stages = set(json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"])
    assert {r.stage for r in results} == stages == {"dev", "prod"}
    for r in results:
        assert r.policy_file == f"policies/{r.stage}/{r.function}.json"
        text = (ROOT / ".chalice" / r.policy_file).read_text()
        assert f"newbooks-{r.stage}-" in text or f"/newbooks/{r.stage}/" in text
        for other in stages - {r.stage}:
            assert f"newbooks-{other}-" not in text and f"/newbooks/{other}/" not in text, r.policy_file


def test_resource_names_come_from_the_template():
    prod = stage_names("prod")
    assert prod.matches("arn:aws:s3:::newbooks-prod-data-123456789012/raw/abc") is None  # a pattern, not a name
    assert prod.matches("arn:aws:s3:::newbooks-prod-data-*/raw/*") == "arn:aws:s3:::newbooks-prod-data-123456789012/raw/0"
    assert prod.matches("arn:aws:s3:::newbooks-*-data/raw/*") is None  # the old policies' pattern
    assert prod.matches("arn:aws:ssm:*:*:parameter/newbooks/prod/*")
    assert prod.matches("arn:aws:dynamodb:*:*:table/newbooks-prod-state/index/*")
    assert not stage_names("dev").matches("arn:aws:dynamodb:*:*:table/newbooks-prod-state")


def _project_copy(tmp_path: Path) -> Path:
    """app.py, chalicelib/ and .chalice/ of this repo in a temporary directory: a place to break."""
    shutil.copy(ROOT / "app.py", tmp_path / "app.py")
    shutil.copytree(ROOT / "chalicelib", tmp_path / "chalicelib", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / ".chalice", tmp_path / ".chalice", ignore=shutil.ignore_patterns("deployments", "deployed"))
    return tmp_path


def _break_source(project: Path, function: str, old: str, new: str) -> None:
    source = project / ".chalice" / "policies" / f"{function}.json"
    text = source.read_text()
    assert old in text
    source.write_text(text.replace(old, new))
    render_policies.write(project)


def test_the_bucket_name_mismatch_fails_the_check(tmp_path):
    """Issue 10: the template names the bucket newbooks-<stage>-data-<account> while the policies
    granted newbooks-*-data/...: every raw-body put would have been AccessDenied."""
    project = _project_copy(tmp_path)
    _break_source(project, "crawl_worker", "newbooks-<stage>-data-*", "newbooks-*-data")
    results = {(r.stage, r.function): r for r in iam_check.check(project)}
    worker = results[("prod", "crawl_worker")]
    assert not worker.ok
    assert any("'arn:aws:s3:::newbooks-*-data/raw/*' names nothing in the 'prod' template" in p
               and "newbooks-prod-data-123456789012" in p for p in worker.problems), worker.problems
    assert results[("prod", "tick_archiver")].ok  # only the broken policy fails
    assert "names nothing" in iam_check.report([worker])


def test_a_cross_stage_wildcard_fails_the_check(tmp_path):
    project = _project_copy(tmp_path)
    _break_source(project, "ping", "table/newbooks-<stage>-state", "table/newbooks-*-state")
    _break_source(project, "deliver_slack", "parameter/newbooks/<stage>/*", "parameter/newbooks/*")
    results = {(r.stage, r.function): r for r in iam_check.check(project)}
    ping = results[("dev", "ping")]
    assert any("'arn:aws:dynamodb:*:*:table/newbooks-*-state' also reaches stage 'prod'" in p for p in ping.problems)
    slack = results[("dev", "deliver_slack")]
    assert any("parameter/newbooks/*' also reaches stage 'prod'" in p and "/newbooks/prod/" in p for p in slack.problems)


def test_a_stale_rendered_policy_is_reported(tmp_path):
    project = _project_copy(tmp_path)
    source = project / ".chalice" / "policies" / "ping.json"
    source.write_text(source.read_text().replace('"dynamodb:Query",', '"dynamodb:Query", "dynamodb:Scan",', 1))
    assert {p.relative_to(project).as_posix() for p in render_policies.stale(project)} == {
        ".chalice/policies/dev/ping.json", ".chalice/policies/prod/ping.json"}


def test_known_calls_are_found_where_they_are(results):
    """Guards the analyser itself against going blind (an empty call set would match nothing)."""
    by_name = {r.function: r for r in results}
    assert "dynamodb:BatchWriteItem" in by_name["ping"].code_actions  # rollups: batch_writer()
    assert "sqs:SendMessage" in by_name["crawl_dispatch"].code_actions  # closure passed by keyword
    assert "sqs:SendMessage" not in by_name["crawl_worker"].code_actions  # ...that the worker never calls
    assert {"s3:PutObject", "s3:GetObject", "dynamodb:PutItem"} <= by_name["crawl_worker"].code_actions
    assert by_name["tick_archiver"].code_actions == {"s3:PutObject"}
    assert "ssm:GetParameter" in by_name["deliver_slack"].code_actions  # secrets, lazily imported
    # an operation handed over uncalled: aws.all_items(self.table.query, ...) in the digest flush
    assert "dynamodb:Query" in by_name["digest_flush"].code_actions
    # bootstrap's `if TYPE_CHECKING:` imports never run: ping does not reach target deletion
    assert "dynamodb:DeleteItem" not in by_name["ping"].code_actions


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
    results = {r.function: r for r in iam_check.check(project, resources=False)}

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
    worker = {r.function: r for r in iam_check.check(project, resources=False)}["worker"]
    assert any("wildcard action 'dynamodb:*'" in p for p in worker.problems)
    assert any("resource '*' does not name an ARN" in p for p in worker.problems)
    assert not worker.ok
