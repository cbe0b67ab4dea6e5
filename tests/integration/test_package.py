"""The deploy artifacts: chalice package + merge template lints clean, the zip imports on its own,
and every declared resource and mapping made it into the template."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib import resources as r

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("build")
    subprocess.run([sys.executable, "-m", "infra.build_template", "--stage", "prod", "--out", str(out)], cwd=ROOT, check=True)
    return out


def test_cfn_lint_has_no_findings(built):
    lint = subprocess.run([str(Path(sys.executable).with_name("cfn-lint")), str(built / "sam.json")], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_zip_imports_app_and_crawlers_without_boto3(built):
    sys.path.insert(0, str(ROOT / "infra"))
    from check_package import check

    result = check(built / "deployment.zip")
    assert result["app"] == "newbooks"
    assert result["crawlers"] == "crawlers"
    assert result["boto3_present"] is False
    assert result["zip_ok"], f"deployment.zip is {result['zip_bytes']} bytes (> 2 MiB)"


def test_template_has_every_resource_and_partial_batch_mappings(built):
    template = json.loads((built / "sam.json").read_text())["Resources"]
    for table in r.TABLES:
        props = template[table.logical_id]["Properties"]
        assert props["TableName"] == f"newbooks-prod-{table.short}"
        if table.ttl_attribute:
            assert props["TimeToLiveSpecification"]["AttributeName"] == table.ttl_attribute
    for queue in (q for q in r.QUEUES if q.has_dlq):
        redrive = template[queue.logical_id]["Properties"]["RedrivePolicy"]
        assert redrive["maxReceiveCount"] == queue.max_receive_count
        alarm = template[f"{queue.logical_id}DlqAlarm"]["Properties"]
        assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible" and alarm["Threshold"] == 0
    mappings = [v for v in template.values() if v["Type"] == "AWS::Lambda::EventSourceMapping"]
    assert len(mappings) == len(r.MAPPINGS)
    assert all(m["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"] for m in mappings)
    crawl_worker_env = template["CrawlWorker"]["Properties"]["Environment"]["Variables"]
    assert crawl_worker_env["CRAWL_QUEUE_URL"] == {"Ref": "CrawlQueue"}
    assert crawl_worker_env["NEWBOOKS_STAGE"] == "prod"  # chalice's own value survives the merge


def test_policies_name_arns_not_wildcards():
    for path in (ROOT / ".chalice" / "policies").rglob("*.json"):
        for statement in json.loads(path.read_text())["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            assert "*" not in actions and not any(a.endswith(":*") for a in actions), path.name
            assert "*" not in resources, path.name


def test_ping_shards_mapping_runs_concurrently_within_the_queue_visibility(built):
    template = json.loads((built / "sam.json").read_text())["Resources"]
    mapping = template["PingShardPingShardsQueueMapping"]["Properties"]
    assert mapping["FunctionName"] == {"Ref": "PingShard"} and mapping["BatchSize"] == 1
    assert mapping["ScalingConfig"]["MaximumConcurrency"] >= 2  # Lambda's minimum; shards run at once
    queue = template[r.PING_SHARDS_QUEUE.logical_id]["Properties"]
    assert queue["VisibilityTimeout"] >= template["PingShard"]["Properties"]["Timeout"]
    assert template["Ping"]["Properties"]["Environment"]["Variables"]["PING_SHARDS_QUEUE_URL"] == {"Ref": "PingShardsQueue"}
