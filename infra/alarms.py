"""Every alarm newbooks raises, declared once: the merge template renders them as
AWS::CloudWatch::Alarm with the ops topic as action (infra/build_template.py), and the local
stack evaluates the same definitions against moto and its own runtime (devstack/alarms.py).

- every dead-letter queue not empty (inspect with GET /dlq, then redrive);
- the stream-failures queue not empty (stream records that exhausted their retries);
- every function's Errors and Throttles (Errors counts unhandled exceptions and timeouts; a
  partial batch failure is not an error);
- the age of the oldest crawl message (crawl workers stuck or too few).

Metric names and dimensions: AWS/SQS and AWS/Lambda metrics as documented in the SQS Developer
Guide ("Available CloudWatch metrics for Amazon SQS") and the Lambda Developer Guide ("Types of
metrics for Lambda functions"), read 2026-12-03.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from chalicelib import resources as r

ROOT = Path(__file__).resolve().parent.parent
COMPARISONS = {
    "GreaterThanThreshold": lambda value, threshold: value > threshold,
    "GreaterThanOrEqualToThreshold": lambda value, threshold: value >= threshold,
}
CRAWL_AGE_LIMIT_S = 45 * 60  # hourly crawls of a few sources finish well inside this


@dataclass(frozen=True)
class AlarmDef:
    logical_id: str
    short: str  # the alarm is named newbooks-<stage>-<short>
    description: str
    namespace: str  # AWS/SQS | AWS/Lambda
    metric: str
    subject_kind: str  # "queue" (QueueName = physical queue name) | "function" (FunctionName)
    subject: str  # queue: physical short name ("crawl-dlq"); function: Chalice name ("ping")
    subject_ref: str  # logical id of the queue / function in the template
    statistic: str = "Maximum"
    period_s: int = 300
    evaluation_periods: int = 1
    threshold: float = 0
    comparison: str = "GreaterThanThreshold"

    def name(self, stage: str) -> str:
        return r.physical_name(stage, self.short)

    def breaching(self, value: float) -> bool:
        return COMPARISONS[self.comparison](value, self.threshold)


def function_names(stage: str, root: Path = ROOT) -> list[str]:
    config = json.loads((root / ".chalice" / "config.json").read_text())
    # A stage without its own section (tests deploy the data resources of a "test" stage) has the
    # functions every stage has: the dev stage's list.
    return list(config["stages"].get(stage, config["stages"]["dev"])["lambda_functions"])


def alarm_definitions(stage: str, root: Path = ROOT) -> list[AlarmDef]:
    from infra.build_template import logical_function_id

    out: list[AlarmDef] = []
    for queue in r.QUEUES:
        if queue.has_dlq:
            out.append(AlarmDef(
                f"{queue.logical_id}DlqAlarm", f"{queue.dlq_short}-not-empty",
                f"Messages in the {queue.short} dead-letter queue: inspect with GET /dlq, then redrive",
                "AWS/SQS", "ApproximateNumberOfMessagesVisible", "queue", queue.dlq_short, f"{queue.logical_id}Dlq"))
    failures = r.STREAM_FAILURES_QUEUE
    out.append(AlarmDef(
        f"{failures.logical_id}Alarm", f"{failures.short}-not-empty",
        "Stream records exhausted their retries (fan-out / archive): each message names the batch to replay",
        "AWS/SQS", "ApproximateNumberOfMessagesVisible", "queue", failures.short, failures.logical_id))
    crawl = r.CRAWL_QUEUE
    out.append(AlarmDef(
        f"{crawl.logical_id}AgeAlarm", f"{crawl.short}-oldest-message-age",
        f"A crawl message has waited over {CRAWL_AGE_LIMIT_S // 60} minutes: crawl workers are stuck or too few",
        "AWS/SQS", "ApproximateAgeOfOldestMessage", "queue", crawl.short, crawl.logical_id,
        threshold=CRAWL_AGE_LIMIT_S))
    for function in function_names(stage, root):
        logical = logical_function_id(function)
        for metric in ("Errors", "Throttles"):
            out.append(AlarmDef(
                f"{logical}{metric}Alarm", f"{function.replace('_', '-')}-{metric.lower()}",
                f"{function}: {metric.lower()} in the last 5 minutes (logs: /aws/lambda/<stack>-{logical}-*)",
                "AWS/Lambda", metric, "function", function, logical, statistic="Sum"))
    return out
