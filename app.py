"""newbooks entry points: routes, schedules and event handlers. Each only translates an event
into a service call; the work lives in chalicelib. Services are imported inside the handlers so a
cold start pays only for the function that runs (see bench/import_time.py)."""
from __future__ import annotations

from chalice import Chalice, Response

app = Chalice(app_name="newbooks")
app.api.cors = False


# --- schedules -------------------------------------------------------------------------------


@app.schedule("rate(1 hour)", name="crawl_dispatch")
def crawl_dispatch(event):
    from chalicelib.bootstrap import crawl_service

    return crawl_service().dispatch(event.to_dict())


@app.schedule("rate(1 minute)", name="ping")
def ping(event):
    from chalicelib.bootstrap import uptime_service

    return uptime_service().run_tick(event.to_dict())


@app.schedule("rate(5 minutes)", name="digest_flush")
def digest_flush(event):
    from chalicelib.bootstrap import fanout_service

    return {"sent": fanout_service().flush_digests()}


# --- queues and streams (mappings with ReportBatchItemFailures live in the merge template) ----


@app.lambda_function(name="crawl_worker")
def crawl_worker(event, context):
    from chalicelib.batch import sqs_batch
    from chalicelib.bootstrap import crawl_service

    return sqs_batch(event, lambda body, _record: crawl_service().crawl(body))


@app.lambda_function(name="release_fanout")
def release_fanout(event, context):
    from chalicelib.batch import stream_batch
    from chalicelib.bootstrap import fanout_service

    return stream_batch(event, fanout_service().handle_record)


@app.lambda_function(name="state_fanout")
def state_fanout(event, context):
    from chalicelib.batch import stream_batch
    from chalicelib.bootstrap import fanout_service

    return stream_batch(event, fanout_service().handle_record)


@app.lambda_function(name="tick_archiver")
def tick_archiver(event, context):
    from chalicelib.bootstrap import uptime_service

    return uptime_service().archive_expired(event)


def _deliver(channel: str, event: dict) -> dict:
    from chalicelib.batch import sqs_batch
    from chalicelib.bootstrap import delivery_service

    return sqs_batch(event, lambda body, record: delivery_service().deliver(channel, body, record))


@app.lambda_function(name="deliver_slack")
def deliver_slack(event, context):
    return _deliver("slack", event)


@app.lambda_function(name="deliver_x")
def deliver_x(event, context):
    return _deliver("x", event)


@app.lambda_function(name="deliver_webhook")
def deliver_webhook(event, context):
    return _deliver("webhook", event)


@app.lambda_function(name="deliver_console")
def deliver_console(event, context):
    return _deliver("console", event)


@app.lambda_function(name="slack_worker")
def slack_worker(event, context):
    from chalicelib.batch import sqs_batch
    from chalicelib.bootstrap import slack_commands

    return sqs_batch(event, lambda body, _record: slack_commands().run_job(body))


# --- HTTP API --------------------------------------------------------------------------------


@app.route("/healthz", methods=["GET"])
def healthz():
    return {"ok": True}


@app.route("/releases", methods=["GET"])
def list_releases():
    from chalicelib.bootstrap import release_queries
    from chalicelib.http import json_response, problem_response
    from chalicelib.queries import BadQuery

    try:
        page = release_queries().list(app.current_request.query_params or {})
    except BadQuery as exc:
        return problem_response(400, "Bad query parameter", str(exc), param=exc.param)
    return json_response(page, app.current_request)


@app.route("/releases/{release_id}", methods=["GET"])
def get_release(release_id):
    from chalicelib.bootstrap import release_queries
    from chalicelib.http import json_response, problem_response

    found = release_queries().get(release_id)
    if found is None:
        return problem_response(404, "Release not found", f"no release with id {release_id!r}")
    return json_response(found, app.current_request)


@app.route("/sources", methods=["GET"])
def list_sources():
    from chalicelib.bootstrap import crawl_service
    from chalicelib.http import json_response

    return json_response({"sources": crawl_service().source_health()}, app.current_request)


# --- API: sources, status, targets, subscriptions, DLQ, OpenAPI (API section) ----------------


@app.route("/status", methods=["GET"])
def status():
    from chalicelib.bootstrap import uptime_service
    from chalicelib.http import json_response

    return json_response(uptime_service().status_summary(), app.current_request)


# --- Slack slash command (Slack section) ------------------------------------------------------


@app.route("/slack/commands", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def slack_command():
    from chalicelib.bootstrap import slack_commands

    request = app.current_request
    status, body = slack_commands().handle(dict(request.headers), request.raw_body)
    return Response(body=body, status_code=status, headers={"Content-Type": "application/json"})


# --- feeds, pages, badges (pages section) -----------------------------------------------------


__all__ = ["app", "Response"]
