"""The local stack's alarms: the definitions of infra/alarms.py (the ones the template deploys),
evaluated here every `period_s` against moto and this machine's Lambda runtime, printed on the
console at each state change and, when the stack has the ops topic, published to it the way
CloudWatch would (its notifier subscription then carries them through our own pipeline).

moto stores alarms but never evaluates them, and publishes no SQS or Lambda metrics, so each
metric comes from where the local stack can see it:

- ApproximateNumberOfMessagesVisible: the queue's ApproximateNumberOfMessages (GetQueueAttributes);
- Errors: invocations of the local runtime that raised (devstack/lambda_runtime.invoke), summed
  over the alarm's period;
- Throttles: the local runtime never throttles, so these stay OK (a README gap);
- ApproximateAgeOfOldestMessage: the age (SentTimestamp) of the oldest message a poller received
  in the period, or, while the queue holds messages and nothing was received, the time since the
  backlog was last seen draining (peeking would count as a receive and move messages to the DLQ).

    from devstack.alarms import start_alarms
    threads.append(start_alarms(stop))      # the runner's hook (devstack/runner.py)
"""
from __future__ import annotations

import json
import os
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from chalicelib import resources as r

OK, ALARM = "OK", "ALARM"


class RuntimeMetrics:
    """Counters fed by the local Lambda runtime's observers (thread-safe)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.lock = threading.Lock()
        self.errors: dict[str, deque[float]] = defaultdict(deque)
        self.received: dict[str, deque[tuple[float, float]]] = defaultdict(deque)  # url -> (at, sent_at)

    def invocation(self, function: str, error: BaseException | None) -> None:
        if error is not None and isinstance(error, Exception):  # a SIGKILL is not the function's error
            with self.lock:
                self.errors[function].append(self.clock())

    def receive(self, queue_url: str, messages: list[dict]) -> None:
        now = self.clock()
        with self.lock:
            for message in messages:
                sent_ms = (message.get("Attributes") or {}).get("SentTimestamp")
                if sent_ms:
                    self.received[queue_url].append((now, int(sent_ms) / 1000.0))

    def errors_since(self, function: str, since: float) -> int:
        with self.lock:
            found = self.errors[function]
            while found and found[0] < since - 3600:
                found.popleft()
            return sum(1 for at in found if at >= since)

    def oldest_received_age(self, queue_url: str, since: float) -> tuple[float, bool]:
        """(largest age at receipt in the window, whether anything was received in it)."""
        with self.lock:
            found = self.received[queue_url]
            while found and found[0][0] < since - 3600:
                found.popleft()
            window = [(at, sent) for at, sent in found if at >= since]
        return max((at - sent for at, sent in window), default=0.0), bool(window)


class LocalAlarms:
    def __init__(self, stage: str, definitions: list[Any], sqs: Any, queue_urls: dict[str, str], *,
                 metrics: RuntimeMetrics | None = None, sns: Any = None, topic_arn: str | None = None,
                 out: Callable[[str], None] = lambda line: print(line, flush=True),
                 clock: Callable[[], float] = time.time) -> None:
        self.stage, self.definitions, self.sqs, self.queue_urls = stage, definitions, sqs, queue_urls
        self.metrics = metrics or RuntimeMetrics(clock)
        self.sns, self.topic_arn, self.out, self.clock = sns, topic_arn, out, clock
        self.states: dict[str, str] = {d.logical_id: OK for d in definitions}  # notBreaching: no data is OK
        self.backlog_since: dict[str, float] = {}

    def install(self) -> LocalAlarms:
        from devstack import lambda_runtime as rt

        rt.invocation_observers.append(self.metrics.invocation)
        rt.receive_observers.append(self.metrics.receive)
        return self

    # --- metrics -----------------------------------------------------------------------------
    def value(self, alarm: Any) -> float:
        now = self.clock()
        since = now - alarm.period_s
        if alarm.subject_kind == "function":
            return float(self.metrics.errors_since(alarm.subject, since)) if alarm.metric == "Errors" else 0.0
        url = self.queue_urls[alarm.subject]
        visible = int(self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
                      ["Attributes"]["ApproximateNumberOfMessages"])
        if alarm.metric == "ApproximateNumberOfMessagesVisible":
            return float(visible)
        age, progressed = self.metrics.oldest_received_age(url, since)
        if visible == 0 or progressed:
            self.backlog_since[url] = now
        return max(age, now - self.backlog_since.setdefault(url, now)) if visible else age

    # --- evaluation --------------------------------------------------------------------------
    def evaluate(self) -> list[dict[str, Any]]:
        """Evaluate every alarm once; print and publish each state change; return the changes."""
        changes = []
        for alarm in self.definitions:
            try:
                value = self.value(alarm)
            except Exception as exc:  # a queue not created (yet): no data, keep the state
                self.out(f"[newbooks] alarm {alarm.name(self.stage)}: no data ({type(exc).__name__})")
                continue
            state = ALARM if alarm.breaching(value) else OK
            previous = self.states[alarm.logical_id]
            if state == previous:
                continue
            self.states[alarm.logical_id] = state
            change = self._notification(alarm, state, previous, value)
            changes.append(change)
            self.out(f"[newbooks] {state} {change['AlarmName']}: {change['NewStateReason']} - {alarm.description}")
            if self.sns is not None and self.topic_arn:
                self.sns.publish(TopicArn=self.topic_arn, Subject=f"{state}: {change['AlarmName']}",
                                 Message=json.dumps(change))
        return changes

    def _notification(self, alarm: Any, state: str, previous: str, value: float) -> dict[str, Any]:
        """The message CloudWatch sends to an alarm's SNS action (see chalicelib/notify/ops_alarm.py)."""
        relation = "was greater than" if alarm.breaching(value) else "was not greater than"
        return {
            "AlarmName": alarm.name(self.stage),
            "AlarmDescription": alarm.description,
            "NewStateValue": state,
            "OldStateValue": previous,
            "NewStateReason": f"{alarm.metric} {value:g} {relation} the threshold ({alarm.threshold:g}) "
                              f"(local evaluation, {alarm.statistic} over {alarm.period_s} s)",
            "StateChangeTime": datetime.fromtimestamp(self.clock(), timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
            "Trigger": {"MetricName": alarm.metric, "Namespace": alarm.namespace, "Statistic": alarm.statistic,
                        "Period": alarm.period_s, "Threshold": alarm.threshold,
                        "ComparisonOperator": alarm.comparison},
        }


def queue_urls_from_env() -> dict[str, str]:
    """Physical short name ("crawl", "crawl-dlq") -> URL, from the environment the stack sets."""
    out: dict[str, str] = {}
    for queue in r.QUEUES:
        if os.environ.get(queue.env):
            out[queue.short] = os.environ[queue.env]
        dlq_env = queue.env.replace("_QUEUE_URL", "_DLQ_URL")
        if queue.has_dlq and os.environ.get(dlq_env):
            out[queue.dlq_short] = os.environ[dlq_env]
    return out


def ops_topic_arn(sns: Any, stage: str) -> str | None:
    wanted = f":{r.physical_name(stage, 'ops')}"
    topics = sns.list_topics().get("Topics", [])
    return next((t["TopicArn"] for t in topics if t["TopicArn"].endswith(wanted)), None)


def from_env(stage: str | None = None, queue_urls: dict[str, str] | None = None) -> LocalAlarms:
    import boto3

    from infra.alarms import alarm_definitions

    stage = stage or os.environ.get("NEWBOOKS_STAGE", "dev")
    urls = queue_urls if queue_urls is not None else queue_urls_from_env()
    definitions = [d for d in alarm_definitions(stage) if d.subject_kind == "function" or d.subject in urls]
    sns = boto3.client("sns")
    try:
        topic = ops_topic_arn(sns, stage)
    except Exception:  # no SNS in this stack: print only
        topic = None
    return LocalAlarms(stage, definitions, boto3.client("sqs"), urls, sns=sns, topic_arn=topic)


def start_alarms(stop: threading.Event, period_s: float | None = None,
                 queue_urls: dict[str, str] | None = None) -> threading.Thread:
    """Install the runtime observers and evaluate every `period_s` (NEWBOOKS_ALARM_PERIOD_S,
    default 30) until `stop` is set. Returns the started thread."""
    period = float(period_s or os.environ.get("NEWBOOKS_ALARM_PERIOD_S", "30"))
    alarms = from_env(queue_urls=queue_urls).install()

    def loop() -> None:
        while not stop.wait(period):
            try:
                alarms.evaluate()
            except Exception as exc:  # never let the alarms stop the stack
                print(f"[newbooks] alarm evaluation failed: {type(exc).__name__}: {exc}", flush=True)

    thread = threading.Thread(target=loop, name="alarms", daemon=True)
    thread.start()
    return thread
