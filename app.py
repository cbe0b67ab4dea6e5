"""newbooks entry points: routes, schedules and event handlers. Each only translates an event
into a service call; the work lives in chalicelib. Services are imported inside the handlers so a
cold start pays only for the function that runs (see bench/import_time.py)."""
from __future__ import annotations

from chalice import Chalice, Response

# Our JSON logger (chalicelib.log) owns the "newbooks" logger; Chalice would reset it to ERROR.
app = Chalice(app_name="newbooks", configure_logs=False)
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


@app.lambda_function(name="ping_shard")
def ping_shard(event, context):
    from chalicelib.batch import sqs_batch
    from chalicelib.bootstrap import uptime_service

    return sqs_batch(event, lambda body, _record: uptime_service().run_tick(body))


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


@app.lambda_function(name="ops_alarm")
def ops_alarm(event, context):
    from chalicelib.batch import sqs_batch
    from chalicelib.bootstrap import fanout_service
    from chalicelib.notify.ops_alarm import alarm_event

    return sqs_batch(event, lambda body, _record: fanout_service().publish(alarm_event(body)))


@app.lambda_function(name="slack_worker")
def slack_worker(event, context):
    from chalicelib.batch import sqs_batch
    from chalicelib.bootstrap import slack_commands

    return sqs_batch(event, lambda body, _record: slack_commands().run_job(body))


# --- HTTP API --------------------------------------------------------------------------------


# --- API: sources, status, targets, subscriptions, DLQ, OpenAPI (API section) ----------------


# Routes: read the request -> validate (chalicelib.api.validate) -> one service call. `_api` checks
# the API key when protected and turns domain errors into ApiErrors by kind; the `_problems`
# middleware turns ApiError into RFC 9457 problem JSON.
_ANY = ["*/*"]  # accept any Content-Type, so a wrong one is our 415 problem, not Chalice's


def _api(protected: bool = False):
    from chalicelib.api.errors import guarded

    return guarded(lambda: app.current_request, protected=protected)


@app.middleware("http")
def _problems(event, get_response):
    from chalicelib.api.errors import problems

    return problems(event, get_response)


@app.route("/healthz", methods=["GET"], content_types=_ANY)
def healthz():
    return {"ok": True}


@app.route("/openapi.json", methods=["GET"], content_types=_ANY)
def openapi_document():
    from chalicelib.api.openapi import document
    from chalicelib.http import json_response

    return json_response(document(), app.current_request, max_age=300)


@app.route("/releases", methods=["GET"], content_types=_ANY)
@_api()
def list_releases():
    from chalicelib.api import validate
    from chalicelib.bootstrap import release_queries
    from chalicelib.http import json_response

    page = release_queries().list(validate.release_params(app.current_request.query_params))
    return json_response(page, app.current_request)


@app.route("/releases/{release_id}", methods=["GET"], content_types=_ANY)
@_api()
def get_release(release_id):
    from chalicelib.api import errors, validate
    from chalicelib.bootstrap import release_queries
    from chalicelib.http import json_response

    found = release_queries().get(validate.release_id(release_id))
    if found is None:
        raise errors.NotFound("release_id", f"no release with id {release_id!r}")
    return json_response(found, app.current_request)


@app.route("/sources", methods=["GET"], content_types=_ANY)
@_api()
def list_sources():
    from chalicelib.bootstrap import crawl_service
    from chalicelib.http import json_response

    return json_response({"sources": crawl_service().source_health()}, app.current_request)


@app.route("/status", methods=["GET"], content_types=_ANY)
@_api()
def status():
    from chalicelib.bootstrap import uptime_service
    from chalicelib.http import json_response

    summary = uptime_service().status_summary()
    return json_response(summary, app.current_request, etag_of={**summary, "generated_at": None})


@app.route("/status/{target}", methods=["GET"], content_types=_ANY)
@_api()
def target_status(target):
    from chalicelib.api import errors, validate
    from chalicelib.bootstrap import uptime_service
    from chalicelib.http import json_response

    found = uptime_service().target_status(validate.known_target(target))
    if found is None:
        raise errors.NotFound("target", f"no monitoring target named {target!r}")
    return json_response(found, app.current_request)


@app.route("/targets", methods=["GET"], content_types=_ANY)
@_api(protected=True)
def list_targets():
    from chalicelib.bootstrap import uptime_service
    from chalicelib.http import json_response

    return json_response({"targets": uptime_service().list_targets()}, cache_control="private, no-store")


@app.route("/targets", methods=["POST"], content_types=_ANY)
@_api(protected=True)
def add_target():
    from chalicelib.api import validate
    from chalicelib.bootstrap import uptime_service
    from chalicelib.http import json_response

    request = app.current_request
    created = uptime_service().add_target(validate.target_config(validate.json_body(request.headers, request.raw_body)))
    return json_response(created, status=201, cache_control="no-store")


@app.route("/targets/{name}", methods=["DELETE"], content_types=_ANY)
@_api(protected=True)
def delete_target(name):
    from chalicelib.api import errors, validate
    from chalicelib.bootstrap import uptime_service
    from chalicelib.http import no_content

    if not uptime_service().delete_target(validate.target_name(name)):
        raise errors.NotFound("name", f"no runtime-added target named {name!r} (YAML targets live in the file)")
    return no_content()


@app.route("/ping/{token}", methods=["GET", "POST"], content_types=_ANY)
@_api()
def heartbeat_ping(token):
    return _ping(token, None)


@app.route("/ping/{token}/{action}", methods=["GET", "POST"], content_types=_ANY)
@_api()
def heartbeat_ping_action(token, action):
    return _ping(token, action)


def _ping(token, action):
    from chalicelib.api import errors, validate
    from chalicelib.bootstrap import uptime_service
    from chalicelib.http import json_response

    done = uptime_service().heartbeat_ping(*validate.heartbeat_ping(token, action))
    if done is None:
        raise errors.NotFound("token", "no heartbeat has this token")
    return json_response(done, cache_control="no-store")


@app.route("/subscriptions", methods=["POST"], content_types=_ANY)
@_api(protected=True)
def follow():
    from chalicelib.api import validate
    from chalicelib.bootstrap import subscription_service
    from chalicelib.http import json_response

    request = app.current_request
    sub = subscription_service().follow(**validate.subscription(validate.json_body(request.headers, request.raw_body)))
    return json_response(sub.to_dict(), status=201, cache_control="no-store")


@app.route("/subscriptions/{destination}", methods=["GET"], content_types=_ANY)
@_api(protected=True)
def list_subscriptions(destination):
    from chalicelib.api import validate
    from chalicelib.bootstrap import subscription_service
    from chalicelib.http import json_response

    subs = subscription_service().list(validate.destination(destination))
    body = {"destination": destination, "subscriptions": [s.to_dict() for s in subs]}
    return json_response(body, cache_control="private, no-store")


@app.route("/subscriptions/{destination}/{kind}/{match}", methods=["DELETE"], content_types=_ANY)
@_api(protected=True)
def unfollow(destination, kind, match):
    from chalicelib.api import validate
    from chalicelib.bootstrap import subscription_service
    from chalicelib.http import no_content

    args = validate.destination(destination), validate.kind(kind), validate.match(match)
    subscription_service().unfollow(*args)
    return no_content()


@app.route("/dlq", methods=["GET"], content_types=_ANY)
@_api(protected=True)
def list_dlq():
    from chalicelib.api import errors, validate
    from chalicelib.bootstrap import dlq_admin
    from chalicelib.http import json_response

    query, admin = app.current_request.query_params or {}, dlq_admin()
    channel = query.get("channel") and validate.dlq_channel(query["channel"], admin.dlq_urls, missing=errors.BadRequest)
    messages = admin.list_messages(channel or None, validate.dlq_limit(query.get("limit")))
    return json_response({"messages": messages}, cache_control="private, no-store")


@app.route("/dlq/{channel}/redrive", methods=["POST"], content_types=_ANY)
@_api(protected=True)
def redrive_dlq(channel):
    from chalicelib.api import validate
    from chalicelib.bootstrap import dlq_admin
    from chalicelib.http import json_response

    request, admin = app.current_request, dlq_admin()
    validate.dlq_channel(channel, {c: u for c, u in admin.dlq_urls.items() if u and admin.queue_urls.get(c)})
    ids = validate.redrive_ids(validate.json_body(request.headers, request.raw_body, required=False))
    return json_response({"channel": channel, "redriven": admin.redrive(channel, ids)}, cache_control="no-store")


# --- Slack slash command (Slack section) ------------------------------------------------------


@app.route("/slack/commands", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def slack_command():
    from chalicelib.bootstrap import slack_commands

    request = app.current_request
    status, body = slack_commands().handle(dict(request.headers), request.raw_body)
    return Response(body=body, status_code=status, headers={"Content-Type": "application/json"})


@app.route("/slack/interactions", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def slack_interaction():
    from chalicelib.bootstrap import slack_interactions

    request = app.current_request
    status, body = slack_interactions().handle_interaction(dict(request.headers), request.raw_body)
    return Response(body=body, status_code=status, headers={"Content-Type": "application/json"})


@app.route("/slack/events", methods=["POST"], content_types=["application/json"])
def slack_event():
    from chalicelib.bootstrap import slack_interactions

    request = app.current_request
    status, body = slack_interactions().handle_event(dict(request.headers), request.raw_body)
    return Response(body=body, status_code=status, headers={"Content-Type": "application/json"})


# --- feeds, pages, badges (pages section) -----------------------------------------------------


def _page(render, *args):
    """Call a chalicelib.pages.service renderer (it answers bad input in its own format: an HTML
    page, an SVG badge); a domain error it lets through (BadDestination, BadQuery) becomes the API's
    problem JSON by the same kind table."""
    from chalicelib.api.errors import from_domain
    from chalicelib.errors import DomainError

    try:
        return render(*args).response(app.current_request)
    except DomainError as exc:
        return from_domain(exc).response()


@app.route("/feeds/releases.atom", methods=["GET", "HEAD"])
def feed_releases_atom():
    from chalicelib.pages.service import pages

    return _page(pages(app.current_request.context).releases_feed, "atom", app.current_request.query_params)


@app.route("/feeds/releases.rss", methods=["GET", "HEAD"])
def feed_releases_rss():
    from chalicelib.pages.service import pages

    return _page(pages(app.current_request.context).releases_feed, "rss", app.current_request.query_params)


@app.route("/feeds/{destination}/releases.atom", methods=["GET", "HEAD"])
def feed_destination_atom(destination):
    from chalicelib.pages.service import pages

    return _page(pages(app.current_request.context).destination_feed, destination, app.current_request.query_params)


@app.route("/feeds/{destination}/upcoming.ics", methods=["GET", "HEAD"])
def feed_destination_ics(destination):
    from chalicelib.pages.service import pages

    return _page(pages(app.current_request.context).upcoming_ics, destination, app.current_request.query_params)


@app.route("/pages/status", methods=["GET", "HEAD"])
def page_status():
    from chalicelib.pages.service import pages

    return _page(pages(app.current_request.context).status_html)


@app.route("/pages/releases", methods=["GET", "HEAD"])
def page_releases():
    from chalicelib.pages.service import pages

    return _page(pages(app.current_request.context).releases_html, app.current_request.query_params)


@app.route("/badges/{target}/status.svg", methods=["GET", "HEAD"])
def badge_status(target):
    from chalicelib.pages.service import pages

    return _page(pages(app.current_request.context).status_badge, target)


@app.route("/badges/{target}/uptime.svg", methods=["GET", "HEAD"])
def badge_uptime(target):
    from chalicelib.pages.service import pages

    return _page(pages(app.current_request.context).uptime_badge, target, app.current_request.query_params)


@app.route("/favicon.ico", methods=["GET", "HEAD"])
def favicon():
    from chalicelib.pages.service import PagesService

    return PagesService.favicon().response(app.current_request)


__all__ = ["Response", "app"]
