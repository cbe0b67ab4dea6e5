"""Notification fan-out and delivery.

Flow: DynamoDB stream record -> `fanout` (events from `chalicelib.events`, subscriptions matched
by `subscriptions`) -> one SQS message per (event, destination) on the destination's channel
queue -> `delivery` (ledger claim, render, send through `slack` / `x` / `webhook` / `console`)
-> ledger marked sent. Permanent failures go to the channel DLQ with a reason (`dlq`) and raise
an operator alert. Digests and quiet hours hold release events as pending items (`digest`)
flushed by a schedule.
"""
