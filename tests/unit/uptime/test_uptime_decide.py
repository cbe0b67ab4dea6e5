"""The per-target state machine (`decide`), pure: thresholds, reminders, DEGRADED, gaps, and
order-independence under duplicated and shuffled delivery (hypothesis)."""
from __future__ import annotations

import random
from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.uptime import decide
from chalicelib.uptime.decide import DEGRADED, DOWN, UP, Rules, TargetState

RULES = Rules(failure_threshold=3, success_threshold=2, interval_min=1, reminder_min=10)
T0 = decide.to_minute("2026-11-22T10:00:00Z")


class Monitor:
    """What the service does per delivery of a tick minute, without DynamoDB: the tick minutes
    stored so far give the young holes; `apply` folds the outcome; the state is kept when changed.
    A duplicate delivery of a minute re-applies the same stored outcome (as the service does)."""

    def __init__(self, rules: Rules = RULES, name: str = "api", new: bool = False):
        """`new`: a target never decided (PENDING); otherwise an established UP target."""
        self.rules, self.name = rules, name
        self.state = TargetState() if new else TargetState(base=decide.Cursor(status=UP), current=decide.Cursor(status=UP))
        self.ticks: set[int] = set()
        self.alerts: list[decide.Transition] = []
        self.transitions: list[decide.Transition] = []
        self.decisions: list[decide.Decision] = []

    def deliver(self, minute: int, code: str) -> decide.Decision:
        self.ticks.add(minute)
        present = {m for m in self.ticks if minute - 8 <= m <= minute + 8}
        holes = frozenset(h for h in decide.young_holes(present) if h % self.rules.interval_min == minute % self.rules.interval_min)
        decision = decide.apply(self.state, self.name, minute, code, self.rules, holes)
        if decision.changed:
            self.state = decision.state
        self.decisions.append(decision)
        self.transitions.extend(decision.new)
        self.alerts.extend(t for t in decision.new if t.alerts)
        return decision

    def run(self, script: dict[int, str]) -> Monitor:
        for minute in sorted(script):
            self.deliver(minute, script[minute])
        return self


def script_of(codes: str, start: int = T0) -> dict[int, str]:
    """'o' pass, 's' slow pass, 'f' fail, '-' no tick at that minute (a missed schedule)."""
    return {start + i: c for i, c in enumerate(codes) if c != "-"}


def summary(transitions) -> list[tuple[str, int, int | None]]:
    return [(t.type, t.minute - T0, t.duration_s) for t in transitions]


def test_one_failure_then_success_gives_no_alert():
    monitor = Monitor().run(script_of("ofoooo"))
    assert monitor.alerts == []
    assert monitor.state.current.status == UP


def test_two_failures_are_below_the_threshold():
    monitor = Monitor().run(script_of("ffoffo"))
    assert monitor.alerts == [] and monitor.state.current.status == UP


def test_three_failures_give_exactly_one_down():
    monitor = Monitor().run(script_of("offffff"))
    assert summary(monitor.alerts) == [("target.down", 3, None)]
    assert monitor.state.current.status == DOWN
    assert monitor.state.current.down_since == T0 + 1  # the first failed minute of the outage


def test_two_successes_give_exactly_one_recovered_with_the_outage_duration():
    monitor = Monitor().run(script_of("offffooooo"))
    # failed 10:01-10:04, first pass 10:05 (confirmed by the second at 10:06): 4 minutes down
    assert summary(monitor.alerts) == [("target.down", 3, None), ("target.recovered", 6, 240)]
    assert monitor.state.current.status == UP
    assert monitor.state.incidents == [{"start": "2026-11-22T10:01", "end": "2026-11-22T10:05", "duration_s": 240}]


def test_one_success_inside_an_outage_does_not_recover():
    monitor = Monitor().run(script_of("ffffofff"))
    assert [t.type for t in monitor.alerts] == ["target.down"]
    assert monitor.state.current.status == DOWN


def test_event_ids_are_deterministic_from_target_and_minute():
    monitor = Monitor().run(script_of("fffoo"))
    assert [t.event_id("api") for t in monitor.alerts] == [
        "target.down:api:2026-11-22T10:02", "target.recovered:api:2026-11-22T10:04"]


def test_reminders_at_most_every_reminder_interval():
    monitor = Monitor().run(script_of("f" * 35))
    assert summary(monitor.alerts) == [("target.down", 2, None), ("target.reminder", 12, None),
                                       ("target.reminder", 22, None), ("target.reminder", 32, None)]
    minutes = [t.minute for t in monitor.alerts]
    assert all(b - a >= RULES.reminder_min for a, b in pairwise(minutes))


def test_no_reminder_once_recovered():
    monitor = Monitor().run(script_of("fffff" + "o" * 30))
    assert [t.type for t in monitor.alerts] == ["target.down", "target.recovered"]


def test_degraded_after_threshold_slow_passes_and_restored_after_fast_ones():
    monitor = Monitor().run(script_of("osssssoo"))
    assert summary(monitor.transitions) == [("target.degraded", 3, None), ("target.restored", 7, None)]
    assert monitor.alerts == []  # DEGRADED is state, not a down/recovery alert
    assert monitor.state.current.status == UP


def test_degraded_state_is_reported_while_slow():
    monitor = Monitor().run(script_of("sss"))
    assert monitor.state.current.status == DEGRADED


def test_slow_passes_count_as_passes_for_recovery():
    monitor = Monitor().run(script_of("fffss"))
    assert summary(monitor.alerts) == [("target.down", 2, None), ("target.recovered", 4, 180)]
    assert monitor.state.current.status == DEGRADED


def test_a_target_never_slow_never_degrades():
    """A target without degraded-response-time never gets code 's' (checker), so only o/f."""
    monitor = Monitor().run(script_of("o" * 20))
    assert monitor.transitions == [] and monitor.state.current.status == UP


def test_missed_tick_is_a_gap_that_breaks_the_failure_run():
    # f f (missed) f f f f: the run restarts after the gap, DOWN needs three failures after it
    # (decided once the hole at 10:02 is older than HOLE_WAIT_MINUTES, i.e. at 10:06)
    monitor = Monitor().run(script_of("ff-fff"))
    assert monitor.alerts == []
    monitor.deliver(T0 + 6, "f")
    assert summary(monitor.alerts) == [("target.down", 5, None)]


def test_missed_tick_waits_for_a_late_tick_before_deciding():
    monitor = Monitor()
    for minute, code in script_of("ff-f").items():
        monitor.deliver(minute, code)
    assert monitor.alerts == []  # minute 2 may still arrive: nothing decided past it
    monitor.deliver(T0 + 2, "f")  # ... and it does, late
    assert summary(monitor.alerts) == [("target.down", 2, None)]


def test_longer_interval_skips_are_not_gaps():
    rules = Rules(failure_threshold=3, success_threshold=2, interval_min=5, reminder_min=60)
    monitor = Monitor(rules).run({T0: "f", T0 + 5: "f", T0 + 10: "f"})
    assert summary(monitor.alerts) == [("target.down", 10, None)]


def test_duplicate_minute_is_a_no_op():
    monitor = Monitor()
    monitor.deliver(T0, "f")
    again = monitor.deliver(T0, "f")
    assert again.duplicate and not again.changed and again.new == ()


def test_outcome_older_than_the_reorder_window_is_late():
    monitor = Monitor().run(script_of("f" * 12))
    late = monitor.deliver(T0 - 1, "o")
    assert late.late and not late.changed


def test_clean_pass_changes_nothing_so_nothing_is_written():
    monitor = Monitor()
    decision = monitor.deliver(T0, "o")
    assert decision.changed is False and decision.new == ()


def test_state_round_trips_through_a_dynamodb_shaped_dict():
    state = Monitor().run(script_of("offffo")).state
    raw = state.to_dict()
    as_dynamo = {**raw, "current": {k: Decimal(v) if isinstance(v, int) else v for k, v in raw["current"].items()}}
    back = TargetState.from_dict(as_dynamo)
    assert back.current == state.current and back.window == state.window and back.emitted == state.emitted
    assert TargetState.from_dict(None) == TargetState()


def test_young_holes():
    assert decide.young_holes({10, 11, 13}) == frozenset({12})
    assert decide.young_holes({1, 10}) == frozenset({7, 8, 9})  # older holes are gaps now
    assert decide.young_holes(set()) == frozenset()


def test_minute_helpers():
    assert decide.minute_iso(decide.to_minute("2026-11-22T10:07:59Z")) == "2026-11-22T10:07"


# --- order independence -----------------------------------------------------------------------

def shuffled_delivery(script: dict[int, str], jitter: list[float]) -> list[int]:
    """Every tick twice, each delivery delayed by up to 2 minutes (jitter in [0, 2))."""
    deliveries = sorted(script) * 2
    return [m for _key, m in sorted((m + j, m) for m, j in zip(deliveries, jitter, strict=False))]


def alerts_of(script: dict[int, str], order: list[int], rules: Rules = RULES) -> list[tuple]:
    monitor = Monitor(rules)
    for minute in order:
        monitor.deliver(minute, script[minute])
    return [(t.type, t.minute, t.duration_s) for t in monitor.alerts]


codes = st.text(alphabet="offfs-", min_size=1, max_size=40)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(codes=codes, data=st.data(), reminder=st.sampled_from([5, 60]))
def test_duplicated_and_shuffled_delivery_gives_the_same_alerts_as_the_ordered_run(codes, data, reminder):
    rules = Rules(failure_threshold=3, success_threshold=2, interval_min=1, reminder_min=reminder)
    script = script_of(codes)
    if not script:
        return
    jitter = data.draw(st.lists(st.floats(0, 1.999), min_size=2 * len(script), max_size=2 * len(script)))
    ordered = alerts_of(script, sorted(script), rules)
    shuffled = alerts_of(script, shuffled_delivery(script, jitter), rules)
    assert shuffled == ordered
    ids = [(t, m) for t, m, _ in shuffled]
    assert len(ids) == len(set(ids))  # nothing announced twice


def test_seeded_random_orders_agree_with_the_ordered_run():
    """The previous ad-hoc check (random orders of a flapping script), kept with a fixed seed;
    the hypothesis property above is the general form."""
    script = script_of("offffoofffoo")
    ordered = alerts_of(script, sorted(script))
    assert [t for t, _m, _d in ordered] == ["target.down", "target.recovered"] * 2
    rng = random.Random(2026)
    for _ in range(500):
        jitter = [rng.uniform(0, 2.0) for _ in range(2 * len(script))]
        assert alerts_of(script, shuffled_delivery(script, jitter)) == ordered


@pytest.mark.parametrize("codes", ["ffff", "fffoo", "fofofofofo", "ssssoo", "fff-ff-oo"])
def test_reversed_within_the_window_still_agrees(codes):
    script = script_of(codes)
    order = sorted(list(script) * 2, key=lambda m: -(m - T0) % 2 + m)  # pairs swapped
    assert alerts_of(script, order) == alerts_of(script, sorted(script))


# --- PENDING (issue 13 point 2) ----------------------------------------------------------------
def test_a_new_target_is_pending_until_its_first_threshold_decision():
    assert TargetState().current.status == decide.PENDING
    monitor = Monitor(new=True)
    monitor.deliver(T0, "f")
    monitor.deliver(T0 + 1, "f")
    assert monitor.state.current.status == decide.PENDING and monitor.alerts == []
    monitor.deliver(T0 + 2, "f")
    assert monitor.state.current.status == DOWN
    assert summary(monitor.alerts) == [("target.down", 2, None)]
    assert monitor.alerts[0].previous == decide.PENDING


def test_a_new_target_that_passes_becomes_up_silently_after_the_success_threshold():
    monitor = Monitor(new=True)
    monitor.deliver(T0, "o")
    assert monitor.state.current.status == decide.PENDING
    monitor.deliver(T0 + 1, "o")
    assert monitor.state.current.status == UP and monitor.alerts == []
    assert summary(monitor.transitions) == [("target.decided", 1, None)]
    assert monitor.state.quiet  # from now on a pass is neither read nor written


def test_mixed_results_keep_a_new_target_pending_and_it_is_never_quiet():
    monitor = Monitor(new=True).run(script_of("fofofo"))
    assert monitor.state.current.status == decide.PENDING and monitor.alerts == []
    assert not monitor.state.quiet


def test_a_new_slow_target_is_decided_degraded():
    monitor = Monitor(new=True).run(script_of("ss"))
    assert monitor.state.current.status == DEGRADED and monitor.alerts == []


@pytest.mark.parametrize("event_type, failure, text", [
    ("target.down", {"error": "status", "condition": "[STATUS] == 200 (got 500)"}, "failing: [STATUS] == 200 (got 500)"),
    ("target.reminder", {"error": "timeout", "condition": "no verdict within 10s"}, "failing: timeout (no verdict within 10s)"),
    ("target.recovered", {"error": "status", "condition": "[STATUS] == 200 (got 500)"}, "passing again: [STATUS] == 200 (was 500)"),
    ("target.recovered", {"error": "connect", "condition": "ConnectionRefusedError"}, "passing again: connect (ConnectionRefusedError)"),
    ("target.down", {}, None),
])
def test_alert_texts_say_what_fails_or_now_passes(event_type, failure, text):
    from chalicelib.uptime.service import alert_condition

    assert alert_condition(event_type, failure) == text
