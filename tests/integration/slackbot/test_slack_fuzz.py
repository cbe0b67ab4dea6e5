"""The Slack endpoint under random input: arbitrary form bodies and headers never produce a 5xx.
Unsigned or badly signed requests get 401 (415 for a non-form Content-Type) and do nothing; correctly signed random bodies get an
answer (help for anything it cannot read), never an error page."""
from __future__ import annotations

import time
from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

header_value = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=80)
headers = st.dictionaries(
    st.sampled_from(["X-Slack-Signature", "X-Slack-Request-Timestamp", "Content-Type", "X-Slack-Retry-Num"]),
    header_value, max_size=4)
form_fields = st.dictionaries(
    st.sampled_from(["text", "channel_id", "user_id", "command", "response_url", "team_id", "trigger_id", "junk"]),
    st.text(max_size=200), max_size=8)
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(body=st.binary(max_size=600), extra=headers)
def test_random_unsigned_requests_get_401_and_queue_nothing(slack, body, extra):
    response = slack.post(body, headers=extra, signature="v0=" + "0" * 64)
    # 401 for the signature; a Content-Type other than a form is turned away earlier (415)
    expected = 415 if "Content-Type" in extra and "x-www-form-urlencoded" not in extra["Content-Type"] else 401
    assert response.status_code == expected, (body, extra, response.status_code, response.body[:300])
    assert slack.queued() == []


@FUZZ
@given(fields=form_fields, raw=st.binary(max_size=200))
def test_random_signed_bodies_get_an_answer_never_a_server_error(slack, fields, raw):
    for body in (urlencode(fields).encode(), raw):
        response = slack.post(body, timestamp=str(int(time.time())))
        assert response.status_code < 500, (body, response.status_code, response.body[:300])
        if response.status_code == 200:
            assert response.json.get("response_type", "ephemeral") == "ephemeral"
