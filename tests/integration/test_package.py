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
    for queue in r.QUEUES:
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


def test_background_functions_link_to_the_stages_own_api(built):
    """Prod sets no NEWBOOKS_PUBLIC_URL: notification links must not fall back to 127.0.0.1."""
    sam = json.loads((built / "sam.json").read_text())
    functions = {k: v for k, v in sam["Resources"].items() if v["Type"] == "AWS::Serverless::Function"}
    endpoint = sam["Outputs"]["EndpointURL"]["Value"]["Fn::Sub"]
    for name, fn in functions.items():
        url = fn["Properties"]["Environment"]["Variables"].get("NEWBOOKS_PUBLIC_URL")
        if name == "APIHandler":
            assert url is None  # the API refers to its handler: the handler uses the request's host
        else:
            assert url == {"Fn::Sub": endpoint.rstrip("/")}, name


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


def test_alarms_reach_the_ops_topic(built):
    """Every DLQ (stream-failures' too), the stream-failures queue, every function's Errors and
    Throttles and the age of the oldest crawl message alarm to the ops topic, on ALARM and OK; the
    topic feeds our own notifier through the ops-alarms queue."""
    template = json.loads((built / "sam.json").read_text())["Resources"]
    alarms = {k: v["Properties"] for k, v in template.items() if v["Type"] == "AWS::CloudWatch::Alarm"}
    for props in alarms.values():
        assert props["AlarmActions"] == [{"Ref": "OpsTopic"}] == props["OKActions"], props["AlarmName"]
    dimensions = {(p["MetricName"], json.dumps(p["Dimensions"][0]["Value"], sort_keys=True)) for p in alarms.values()}
    for queue in r.QUEUES:
        assert template[queue.logical_id]["Properties"]["RedrivePolicy"]["maxReceiveCount"] == queue.max_receive_count
        dlq = json.dumps({"Fn::GetAtt": [f"{queue.logical_id}Dlq", "QueueName"]}, sort_keys=True)
        assert ("ApproximateNumberOfMessagesVisible", dlq) in dimensions, queue.short
    failures = json.dumps({"Fn::GetAtt": ["StreamFailuresQueue", "QueueName"]}, sort_keys=True)
    assert ("ApproximateNumberOfMessagesVisible", failures) in dimensions
    assert template["StreamFailuresQueue"]["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
    crawl = json.dumps({"Fn::GetAtt": ["CrawlQueue", "QueueName"]}, sort_keys=True)
    assert ("ApproximateAgeOfOldestMessage", crawl) in dimensions
    functions = [k for k, v in template.items() if v["Type"] == "AWS::Serverless::Function"]
    assert len(functions) == 15
    for logical in functions:
        for metric in ("Errors", "Throttles"):
            assert (metric, json.dumps({"Ref": logical})) in dimensions, (logical, metric)
    assert template["OpsTopic"]["Properties"]["TopicName"] == "newbooks-prod-ops"
    notifier = template["OpsNotifierSubscription"]["Properties"]
    assert notifier["Protocol"] == "sqs" and notifier["Endpoint"] == {"Fn::GetAtt": ["OpsAlarmsQueue", "Arn"]}
    policy = template["OpsAlarmsQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert policy["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Ref": "OpsTopic"}}}
    assert template["OpsAlarmOpsAlarmsQueueMapping"]["Properties"]["FunctionName"] == {"Ref": "OpsAlarm"}


def test_email_subscriptions_come_from_the_ops_config(tmp_path):
    from infra.build_template import ops_config, ops_resources

    path = tmp_path / "ops.yaml"
    path.write_text("prod:\n  email: [oncall@newbooks.invalid, lead@newbooks.invalid]\n  notifier: false\n")
    config = ops_config("prod", path)
    res = ops_resources("prod", config)
    emails = [v["Properties"]["Endpoint"] for k, v in sorted(res.items()) if k.startswith("OpsEmailSubscription")]
    assert emails == ["oncall@newbooks.invalid", "lead@newbooks.invalid"]
    assert "OpsNotifierSubscription" not in res and "OpsAlarmsQueuePolicy" not in res
    path.write_text("prod:\n  email: not-a-list\n")
    with pytest.raises(ValueError, match="email must be a list"):
        ops_config("prod", path)


def test_a_second_package_build_waits_for_the_first(tmp_path):
    """`chalice package` rewrites its cached dependency zip in .chalice/deployments through a fixed
    temporary name: builds of one project (parallel e2e stacks, `make run` beside the tests) take
    turns on infra/build_template.py's lock. Held here, a build waits; released, it completes."""
    import fcntl
    import time

    from infra.build_template import PACKAGE_LOCK

    PACKAGE_LOCK.parent.mkdir(parents=True, exist_ok=True)
    with open(PACKAGE_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        build = subprocess.Popen([sys.executable, "-m", "infra.build_template", "--stage", "dev", "--out", str(tmp_path)],
                                 cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while not (tmp_path / "merge-template.json").exists() and time.monotonic() < deadline:
            time.sleep(0.1)  # up to the lock: the merge template is written before it
        time.sleep(2)
        waiting = build.poll() is None and not (tmp_path / "package").exists()
    out, _ = build.communicate(timeout=300)
    assert waiting, "the build ran while another held the package lock"
    assert build.returncode == 0, out.decode(errors="replace")[-2000:]
    assert (tmp_path / "deployment.zip").stat().st_size > 0
