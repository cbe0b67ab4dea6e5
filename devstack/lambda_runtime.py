"""Lambda's event-source semantics, locally: schedules firing at their rate, SQS queues and
DynamoDB streams delivered to handlers in batches, partial batch failure responses honoured,
failed records retried with backoff, and after the configured receive count a message moves to
its DLQ (moto applies the queue's RedrivePolicy on receive, as SQS does).

Each poller runs in its own thread and invokes one batch at a time (reserved concurrency 1).
"""
from __future__ import annotations

import json
import re
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar

from chalicelib.log import get_logger

log = get_logger("devstack")

Handler = Callable[[dict, Any], Any]


@dataclass
class FakeContext:
    function_name: str
    aws_request_id: str = ""
    memory_limit_in_mb: int = 256

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


# Called after every invocation with (function name, the exception it raised or None), and after
# every SQS receive with (queue URL, messages): the local alarms' metrics (devstack/alarms.py).
invocation_observers: list[Callable[[str, BaseException | None], None]] = []
receive_observers: list[Callable[[str, list[dict]], None]] = []


def invoke(function_name: str, handler: Handler, event: dict) -> Any:
    try:
        result = handler(event, FakeContext(function_name, str(uuid.uuid4())))
    except BaseException as exc:
        for observe in invocation_observers:
            observe(function_name, exc)
        raise
    for observe in invocation_observers:
        observe(function_name, None)
    return result


# --- schedules -----------------------------------------------------------------------------

_RATE = re.compile(r"rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)")


def rate_seconds(expression: str) -> int:
    match = _RATE.fullmatch(expression.strip())
    if not match:
        raise ValueError(f"only rate() schedules run locally, not {expression!r}")
    unit = {"minute": 60, "hour": 3600, "day": 86400}[match.group(2).rstrip("s")]
    return int(match.group(1)) * unit


def scheduled_event(rule: str, when: datetime) -> dict:
    """An EventBridge scheduled event for the slot `when` (already truncated to the period)."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": [f"arn:aws:events:us-east-1:000000000000:rule/{rule}"],
        "detail": {},
    }


def slot(now: datetime, period_s: int) -> datetime:
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % period_s, timezone.utc)


class Scheduler(threading.Thread):
    """Fires `handler` at start, then at every period boundary (aligned like EventBridge)."""

    def __init__(self, name: str, expression: str, handler: Handler, stop: threading.Event, speedup: float = 1.0,
                 chaos: Any = None):
        super().__init__(name=f"schedule-{name}", daemon=True)
        self.rule, self.handler, self.stop_event, self.chaos = name, handler, stop, chaos
        self.period = rate_seconds(expression)
        self.wait_s = self.period / speedup

    def run(self) -> None:
        fired_at = time.monotonic()
        self.fire(datetime.now(timezone.utc))
        last_slot = slot(datetime.now(timezone.utc), self.period)
        while not self.stop_event.wait(1.0):
            now = datetime.now(timezone.utc)
            current = slot(now, self.period)
            if current != last_slot or time.monotonic() - fired_at >= self.wait_s:
                last_slot, fired_at = current, time.monotonic()
                self.fire(now)

    def fire(self, now: datetime) -> None:
        if self.chaos and self.chaos.chance("skip_schedule_rate"):
            return  # EventBridge may skip a slot
        self._fire_once(now)
        if self.chaos and self.chaos.chance("duplicate_schedule_rate"):
            self._fire_once(now)  # ... or fire twice for the same slot

    def _fire_once(self, now: datetime) -> None:
        event = scheduled_event(self.rule, slot(now, self.period))
        try:
            result = invoke(self.rule, self.handler, event)
            log.info("schedule fired", extra={"rule": self.rule, "time": event["time"], "result": result})
        except Exception:
            if not self.stop_event.is_set():  # a function process stopped with the runner is no failure
                log.error("schedule failed", extra={"rule": self.rule, "trace": traceback.format_exc(limit=5)})


# --- SQS -----------------------------------------------------------------------------------


class QueuePoller(threading.Thread):
    """An SQS event source mapping: long-polls the queue with the function's role (`session`,
    as Lambda's pollers use the execution role) and invokes up to `concurrency` batches at once
    (the mapping's ScalingConfig.MaximumConcurrency): one receiving thread, each batch in its own
    thread, so an idle queue costs one long poll."""

    def __init__(self, function: str, handler: Handler, queue_url: str, batch_size: int, stop: threading.Event,
                 visibility_backoff_s: int = 2, chaos: Any = None, session: Any = None, wait_s: int = 20,
                 redrive: dict | None = None, concurrency: int = 1):
        super().__init__(name=f"sqs-{function}", daemon=True)
        self.chaos, self.session, self.wait_s = chaos, session, wait_s
        self.redrive = redrive or {}  # the queue's RedrivePolicy, as deployed (moto applies it on receive)
        self.function, self.handler, self.queue_url = function, handler, queue_url
        self.batch_size, self.stop_event, self.backoff = min(batch_size, 10), stop, visibility_backoff_s
        self.slots = threading.BoundedSemaphore(max(1, concurrency))

    def run(self) -> None:
        import boto3

        sqs = (self.session or boto3).client("sqs")
        arn = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        while not self.stop_event.is_set():
            if not self.slots.acquire(timeout=1):
                continue
            try:
                messages = self.receive(sqs)
            except Exception:
                self.slots.release()
                log.error("sqs poll failed", extra={"function": self.function, "trace": traceback.format_exc(limit=5)})
                self.stop_event.wait(2)
                continue
            if not messages:
                self.slots.release()
                continue
            threading.Thread(target=self._handle_and_release, args=(sqs, arn, messages), daemon=True,
                             name=f"sqs-{self.function}-batch").start()

    def _handle_and_release(self, sqs: Any, arn: str, messages: list[dict]) -> None:
        try:
            self.handle(sqs, arn, messages)
        except Exception:
            log.error("sqs batch handling failed", extra={"function": self.function, "trace": traceback.format_exc(limit=5)})
        finally:
            self.slots.release()

    def receive(self, sqs: Any) -> list[dict]:
        return sqs.receive_message(
            # Long polling: moto wakes the call when a message arrives, so an idle queue costs one
            # request per `wait_s` instead of one per second.
            QueueUrl=self.queue_url, MaxNumberOfMessages=self.batch_size, WaitTimeSeconds=self.wait_s,
            AttributeNames=["All"], MessageAttributeNames=["All"],
        ).get("Messages", [])

    def poll_once(self, sqs: Any, arn: str) -> int:
        """Receive one batch and handle it in this thread (tests)."""
        messages = self.receive(sqs)
        return self.handle(sqs, arn, messages) if messages else 0

    def handle(self, sqs: Any, arn: str, messages: list[dict]) -> int:
        if not messages:
            return 0
        for observe in receive_observers:
            observe(self.queue_url, messages)
        event = {"Records": [sqs_record(m, arn) for m in messages]}
        if self.chaos and self.chaos.chance("duplicate_rate"):
            # At-least-once: the same messages reach another invocation too (result discarded).
            shuffled = list(event["Records"])
            self.chaos.random.shuffle(shuffled)
            try:
                invoke(self.function, self.handler, {"Records": shuffled})
            except Exception:
                pass
        try:
            response = invoke(self.function, self.handler, event) or {}
            failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
        except Exception:
            if self.stop_event.is_set():
                return 0  # stopping: the messages come back after their visibility timeout
            log.error("batch failed", extra={"function": self.function, "trace": traceback.format_exc(limit=5)})
            failed = {m["MessageId"] for m in messages}
        for message in messages:
            if message["MessageId"] in failed:
                receives = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
                if receives >= int(self.redrive.get("maxReceiveCount", 0) or 10**9):
                    log.warning("message exhausted its receives: next receive moves it to the DLQ",
                                extra={"function": self.function, "message_id": message["MessageId"],
                                       "dlq": self.redrive.get("deadLetterTargetArn")})
                sqs.change_message_visibility(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=min(self.backoff * 2 ** (receives - 1), 60),
                )
            else:
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return len(messages)


def sqs_record(message: dict, arn: str) -> dict:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": message.get("MessageAttributes", {}),
        "md5OfBody": message.get("MD5OfBody"),
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": "us-east-1",
    }


# --- DynamoDB streams ----------------------------------------------------------------------


def matches(pattern: Any, value: Any) -> bool:
    """EventBridge-style filter patterns, the subset our mappings use: nested keys and lists of
    allowed exact values."""
    if isinstance(pattern, list):
        return value in pattern
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(matches(p, value.get(k)) for k, p in pattern.items())
    return pattern == value


class StreamPoller(threading.Thread):
    """A DynamoDB stream event source mapping: reads every shard of the stream (with the
    function's role, `session`) and invokes the handler per batch.
    On a partial failure the batch is retried from the first failed record (with backoff) up to
    `max_retry_attempts`, then the failed records are written to `on_failure` and skipped."""

    def __init__(self, function: str, handler: Handler, stream_arn: str, batch_size: int, filters: list[dict],
                 max_retry_attempts: int, stop: threading.Event, on_failure: Callable[[list[dict]], None],
                 mark: Callable[[dict], dict] = lambda r: r, checkpoints: Any = None, since: float | None = None,
                 chaos: Any = None, session: Any = None, interval_s: float = 0.25, idle_interval_s: float = 2.0):
        super().__init__(name=f"stream-{function}", daemon=True)
        self.function, self.handler, self.stream_arn = function, handler, stream_arn
        # Poll often while records flow, back off to `idle_interval_s` while the stream is quiet
        # (Lambda polls each shard 4 times a second; a quiet local stack should cost ~nothing).
        self.session, self.interval_s, self.idle_interval_s = session, interval_s, idle_interval_s
        self.batch_size, self.filters, self.max_retry_attempts = batch_size, filters, max_retry_attempts
        self.stop_event, self.on_failure, self.mark = stop, on_failure, mark
        # Like an event source mapping, resume after the last completed batch (checkpoints);
        # with none yet, read from the start of the stream but skip records older than `since`
        # (items restored from the data dir at start-up are not news).
        self.checkpoints, self.since, self.chaos = checkpoints, since, chaos
        self.ready = threading.Event()
        self._delivered: list[list[dict]] = []

    def run(self) -> None:
        import boto3

        streams = (self.session or boto3).client("dynamodbstreams")
        arn = self.stream_arn
        iterators: dict[str, str] = {}
        shard_of: dict[str, str] = {}
        for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
            done = self.checkpoints.get(arn, shard["ShardId"]) if self.checkpoints else None
            position: dict[str, str] = {"ShardIteratorType": "LATEST"}
            if done:
                position = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": done}
            elif self.since is not None:
                position = {"ShardIteratorType": "TRIM_HORIZON"}
            iterators[shard["ShardId"]] = streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard["ShardId"], **position
            )["ShardIterator"]
        self.ready.set()
        pending: list[dict] = []
        wait_s = self.interval_s
        while not self.stop_event.is_set():
            seen = 0
            try:
                skipped: dict[str, dict] = {}
                for shard_id, iterator in list(iterators.items()):
                    page = streams.get_records(ShardIterator=iterator, Limit=1000)
                    iterators[shard_id] = page.get("NextShardIterator") or iterator
                    seen += len(page.get("Records", []))
                    for record in page.get("Records", []):
                        record = self.mark(record)
                        record["eventSourceARN"] = arn
                        created = record["dynamodb"].get("ApproximateCreationDateTime")
                        if self.since is not None and hasattr(created, "timestamp") and created.timestamp() < self.since:
                            skipped[shard_id] = record
                            continue
                        if not self.filters or any(matches(f, record) for f in self.filters):
                            shard_of[record["dynamodb"]["SequenceNumber"]] = shard_id
                            pending.append(record)
                while pending and not self.stop_event.is_set():
                    batch, pending = pending[: self.batch_size], pending[self.batch_size :]
                    self.deliver(batch)
                    if self.stop_event.is_set():
                        break  # maybe cut short: no checkpoint, the batch comes again (at least once)
                    last = {shard_of.pop(r["dynamodb"]["SequenceNumber"], ""): r for r in batch}
                    for shard_id, record in last.items():
                        self._checkpoint(arn, shard_id, record)
                for shard_id, record in skipped.items():
                    if not any(shard_of.get(p["dynamodb"]["SequenceNumber"]) == shard_id for p in pending):
                        self._checkpoint(arn, shard_id, record)
            except Exception:
                log.error("stream poll failed", extra={"function": self.function, "trace": traceback.format_exc(limit=5)})
            wait_s = self.interval_s if seen else min(wait_s * 2, self.idle_interval_s)
            self.stop_event.wait(wait_s)

    def _checkpoint(self, arn: str, shard_id: str, record: dict) -> None:
        if self.checkpoints and shard_id:
            self.checkpoints.set(arn, shard_id, record["dynamodb"]["SequenceNumber"])

    def deliver(self, batch: list[dict]) -> None:
        if self.chaos:
            self._chaos_extra_deliveries(batch)
        attempt = 0
        while batch and not self.stop_event.is_set():
            try:
                response = invoke(self.function, self.handler, {"Records": batch}) or {}
                failed = [f["itemIdentifier"] for f in response.get("batchItemFailures", [])]
            except Exception:
                if self.stop_event.is_set():
                    return  # stopping: not checkpointed, so the batch comes again next start
                log.error("stream batch failed", extra={"function": self.function, "trace": traceback.format_exc(limit=5)})
                failed = [r["dynamodb"]["SequenceNumber"] for r in batch]
            if not failed:
                return
            first = next(i for i, r in enumerate(batch) if r["dynamodb"]["SequenceNumber"] in set(failed))
            batch = batch[first:]
            attempt += 1
            if attempt > self.max_retry_attempts:
                self.on_failure(batch)
                return
            self.stop_event.wait(min(0.5 * 2 ** attempt, 10))

    def _chaos_extra_deliveries(self, batch: list[dict]) -> None:
        """Duplicates now, and stale batches again later, out of order (results discarded)."""
        extra = []
        if self.chaos.chance("duplicate_rate"):
            extra.append(list(batch))
        if self._delivered and self.chaos.chance("late_rate"):
            extra.append(self.chaos.random.choice(self._delivered))
        self._delivered = [*self._delivered, list(batch)][-20:]
        for records in extra:
            try:
                invoke(self.function, self.handler, {"Records": records})
            except Exception:
                pass


def stream_failure_sink(queue_url: str, session: Any = None) -> Callable[[list[dict]], None]:
    """Lambda's OnFailure destination for streams: the records' metadata to an SQS queue, sent
    with the function's role (`session`) as Lambda does."""

    def sink(records: list[dict]) -> None:
        import boto3

        body = {
            "requestContext": {"condition": "RetryAttemptsExhausted"},
            "DDBStreamBatchInfo": {
                "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
                "batchSize": len(records),
                "streamArn": records[0].get("eventSourceARN"),
            },
        }
        (session or boto3).client("sqs").send_message(QueueUrl=queue_url, MessageBody=json.dumps(body))
        log.error("stream records exhausted retries", extra=body["DDBStreamBatchInfo"])

    return sink


class TtlReaper(threading.Thread):
    """moto stores TTL settings but never expires items; DynamoDB does, within about 48 hours.
    This deletes expired items every `interval_s` and tags their REMOVE stream records with the
    service identity real TTL deletions carry, so TTL-driven handlers run locally too."""

    SERVICE_IDENTITY: ClassVar[dict[str, str]] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}

    def __init__(self, tables: dict[str, str], stop: threading.Event, interval_s: float = 60.0):
        super().__init__(name="ttl-reaper", daemon=True)
        self.tables, self.stop_event, self.interval_s = tables, stop, interval_s  # name -> ttl attribute
        self._reaped: set[str] = set()
        self._lock = threading.Lock()

    def run(self) -> None:
        while not self.stop_event.wait(self.interval_s):
            try:
                self.reap(time.time())
            except Exception:
                log.error("ttl reaper failed", extra={"trace": traceback.format_exc(limit=5)})

    def reap(self, now: float) -> int:
        import boto3

        ddb = boto3.client("dynamodb")
        count = 0
        for table, attribute in self.tables.items():
            kwargs: dict[str, Any] = {"TableName": table, "FilterExpression": "#t < :now",
                                      "ExpressionAttributeNames": {"#t": attribute},
                                      "ExpressionAttributeValues": {":now": {"N": str(int(now))}}}
            while True:
                page = ddb.scan(**kwargs)  # dev tooling only: the request paths never scan
                for item in page.get("Items", []):
                    key = {k: item[k] for k in ("pk", "sk") if k in item}
                    with self._lock:
                        self._reaped.add(json.dumps(key, sort_keys=True))
                    ddb.delete_item(TableName=table, Key=key)
                    count += 1
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return count

    def mark(self, record: dict) -> dict:
        if record.get("eventName") == "REMOVE":
            key = json.dumps(record["dynamodb"].get("Keys", {}), sort_keys=True)
            with self._lock:
                if key in self._reaped:
                    self._reaped.discard(key)
                    record = {**record, "userIdentity": self.SERVICE_IDENTITY}
        return record


def iso_now(offset_s: float = 0) -> str:
    return (datetime.now(timezone.utc) + timedelta(seconds=offset_s)).strftime("%Y-%m-%dT%H:%M:%SZ")
