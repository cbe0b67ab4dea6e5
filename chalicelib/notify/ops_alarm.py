"""CloudWatch alarm notifications -> `ops.alarm` events for the `ops` subscriptions.

The ops SNS topic delivers each alarm state change to the ops-alarms queue with raw message
delivery (the body is CloudWatch's alarm JSON); without it the body is SNS's envelope with the
JSON in `Message`. Both are accepted. Fields used: AlarmName, AlarmDescription, NewStateValue,
OldStateValue, NewStateReason, StateChangeTime (the alarm notification format as in the AWS
Lambda Go events test data `cloudwatch-alarm-sns-payload-single-metric.json` and the CloudWatch
User Guide "Using Amazon CloudWatch alarms", read 2026-12-03).

The event id is the alarm name + new state + state change time, so a notification delivered
twice is one (event, destination) in the ledger: posted once.
"""
from __future__ import annotations

import json
from typing import Any

from chalicelib.events import Event
from chalicelib.notify.model import OPS_ALARM


class NotAnAlarm(ValueError):
    """The message is not a CloudWatch alarm notification (fails the record; the queue's DLQ
    keeps it for a look)."""


def alarm_event(body: Any) -> Event:
    """Pure: the queue message body (already JSON-decoded) -> the event to route."""
    if isinstance(body, dict) and body.get("Type") == "Notification" and isinstance(body.get("Message"), str):
        try:
            body = json.loads(body["Message"])
        except ValueError:
            raise NotAnAlarm("SNS message is not JSON") from None
    if not isinstance(body, dict) or not body.get("AlarmName") or not body.get("NewStateValue"):
        raise NotAnAlarm("no AlarmName / NewStateValue: not a CloudWatch alarm notification")
    name, state = str(body["AlarmName"])[:255], str(body["NewStateValue"])
    changed = str(body.get("StateChangeTime") or "")
    occurred = changed[:19] + "Z" if len(changed) >= 19 else changed
    raw_trigger = body.get("Trigger")
    trigger: dict[str, Any] = raw_trigger if isinstance(raw_trigger, dict) else {}
    return Event(
        id=f"{OPS_ALARM}:{name}:{state}:{changed}",
        type=OPS_ALARM,
        occurred_at=occurred,
        subject=name,
        data={
            "alarm": name,
            "state": state,
            "previous_state": body.get("OldStateValue"),
            "condition": str(body.get("NewStateReason") or "")[:300] or None,
            "description": body.get("AlarmDescription"),
            "metric": trigger.get("MetricName"),
        },
    )
