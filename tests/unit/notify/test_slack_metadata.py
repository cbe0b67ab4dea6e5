"""Slack messages carry the event id as message metadata (traceable, countable per event)."""
from chalicelib import events as ev
from chalicelib.notify import render


def test_slack_message_metadata_names_the_event():
    event = ev.Event(id="release.new:isbn:9784088820000", type=ev.RELEASE_NEW, occurred_at="2026-11-22T10:00Z",
                     subject="isbn:9784088820000", data={"title": "ONE PIECE 108", "id": "isbn:9784088820000"})
    message = render.slack_message(event, "https://n.example")
    assert message["metadata"] == {"event_type": "newbooks_event",
                                   "event_payload": {"event_id": event.id, "type": "release.new"}}
