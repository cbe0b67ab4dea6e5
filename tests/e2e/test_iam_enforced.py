"""IAM bites in the local stack: the packaged template is deployed with a defect re-introduced in a
copy of the policy files, and the pipeline then fails with an AccessDenied that names the
function, the action and the resource (printed on the console by devstack.iam_local), and no
release is stored. The same stack with the shipped policies is tests/e2e/test_local_stack.py."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import time

import pytest

from devstack.samples import samples_dir
from tests.e2e.stack import BOOT_WAIT_S, BOOTING, Stack, copy_project, get_json, wait_for

pytestmark = [pytest.mark.e2e, BOOTING]  # both stacks boot in the first test
DENIED = re.compile(r"IAM DENIED function=(\S+) action=(\S+) resource=(\S+)")


def _bucket_name_mismatch(policies) -> None:
    """Issue 10's defect: grant `newbooks-*-data/...` while the bucket is `newbooks-<stage>-data-<account>`."""
    path = policies / "crawl_worker.json"
    before = path.read_text()
    assert "-data-*" in before, "the shipped policy no longer names the bucket this way: update the defect"
    path.write_text(before.replace("-data-*", "-data"))


def _missing_put_item(policies) -> None:
    """One action gone: the crawl worker may no longer PutItem into the releases table."""
    path = policies / "crawl_worker.json"
    policy = json.loads(path.read_text())
    hit = False
    for statement in policy["Statement"]:
        if statement["Resource"] == ["arn:aws:dynamodb:*:*:table/newbooks-<stage>-releases"]:
            hit = True
            statement["Action"].remove("dynamodb:PutItem")
            if not statement["Action"]:
                statement["Action"].append("dynamodb:GetItem")  # keep the statement valid
    assert hit, "no releases statement in the shipped crawl_worker policy: update the defect"
    path.write_text(json.dumps(policy))


DEFECTS = {"bucket-name-mismatch": _bucket_name_mismatch, "missing-action": _missing_put_item}


@pytest.fixture(scope="module")
def defective_stacks(tmp_path_factory):
    """One copied project and stack per defect, all started at once (each waits mostly on its
    deploy and first crawl). Not both defects in one copy: the worker puts the raw body to S3
    before it stores releases, so the bucket defect would hide the missing PutItem."""
    if samples_dir() is None:
        pytest.skip("shared samples folder not found: the local stack crawls them")
    stacks: dict[str, Stack] = {}
    try:
        for name, defect in DEFECTS.items():
            base = tmp_path_factory.mktemp(f"iam-{name}")
            root = copy_project(base / "project")
            defect(root / ".chalice" / "policies")
            # the stages deploy the rendered copies (.chalice/policies/<stage>/): render the defect into them
            subprocess.run([sys.executable, "-m", "infra.render_policies"], cwd=root, check=True, capture_output=True)
            stacks[name] = Stack(base / "data", base / "console.log", root=root,
                                 env={"NEWBOOKS_SAMPLES": str(samples_dir())})
        yield stacks
    finally:
        for stack in stacks.values():
            stack.stop()


@pytest.mark.parametrize("defect,action,resource", [
    # the worker looks for the content-addressed raw body (HeadObject: s3:GetObject) before it puts one
    ("bucket-name-mismatch", r"s3:(GetObject|PutObject)", r"arn:aws:s3:::newbooks-dev-data-\d{12}/raw/\w+"),
    ("missing-action", r"dynamodb:PutItem", r"arn:aws:dynamodb:us-east-1:\d{12}:table/newbooks-dev-releases"),
], ids=["bucket-name-mismatch", "missing-action"])
def test_defective_policy_fails_the_local_pipeline_with_access_denied(defect, action, resource, defective_stacks):
    stack = defective_stacks[defect]
    found = wait_for(lambda: [m for m in DENIED.finditer(stack.output()) if re.fullmatch(action, m.group(2))], BOOT_WAIT_S,
                     f"an AccessDenied for {action} on the console", stack)
    function, _, denied_resource = found[0].groups()
    assert function.startswith("newbooks-dev-CrawlWorker-")
    assert re.fullmatch(resource, denied_resource), denied_resource
    time.sleep(3)
    status, body = get_json(stack.base + "/releases?limit=5")
    assert status == 200 and body["releases"] == []  # nothing got through
