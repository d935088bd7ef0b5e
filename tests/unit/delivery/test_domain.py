"""Delivery's pure rules: routing, the state machine, retries, what operators see."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.delivery.domain import (
    OUTCOMES,
    REASON_MAX_CHARS,
    TRANSITIONS,
    Held,
    LinkAnswer,
    Movement,
    Routed,
    WaitingLetter,
    answer_problem,
    backlog_by,
    can_move,
    choose_route,
    letter_pages,
    needs_review,
    oldest_waiting_s,
    retry_delay_s,
    sent_per_day,
    sources_of,
    status_hold,
    stops_bundle,
    throughput,
)
from services.delivery.model import DELIVERY_STATES
from tests.unit.delivery.factories import make_intermediary, make_prisoner

NOW = datetime(2027, 1, 15, 8, 0, tzinfo=UTC)

pytestmark = pytest.mark.unit

RELATIVE = make_intermediary(id="i_relative", primary=True, capacity_per_bundle=2)
LAWYER = make_intermediary(id="i_lawyer", kind="lawyer", primary=False, capacity_per_bundle=3)
DEFENDER = make_intermediary(id="i_defender", kind="defender", primary=False, capacity_per_bundle=1)


# --- routing ----------------------------------------------------------------------------------


def test_the_primary_intermediary_gets_the_letter_first():
    assert choose_route(make_prisoner(), [LAWYER, RELATIVE, DEFENDER], {}) == Routed("i_relative")


def test_a_full_primary_passes_the_letter_to_the_next_active_intermediary():
    assert choose_route(make_prisoner(), [RELATIVE, LAWYER], {"i_relative": 2}) == Routed("i_lawyer")


def test_when_everyone_is_full_the_letter_waits_for_the_one_with_most_room():
    load = {"i_relative": 4, "i_lawyer": 3}  # 200 % and 100 % of capacity
    assert choose_route(make_prisoner(), [RELATIVE, LAWYER], load) == Routed("i_lawyer")


def test_an_inactive_intermediary_is_never_chosen_even_if_primary():
    inactive = RELATIVE.model_copy(update={"active": False})
    assert choose_route(make_prisoner(), [inactive, LAWYER], {}) == Routed("i_lawyer")


def test_a_prisoner_without_an_active_intermediary_holds_the_letter_with_the_reason():
    decision = choose_route(make_prisoner(), [RELATIVE.model_copy(update={"active": False})], {})
    assert isinstance(decision, Held) and decision.kind == "no_route"
    assert "no active intermediary" in decision.reason
    assert choose_route(make_prisoner(), [], {}).kind == "no_route"


@pytest.mark.parametrize("status", ["released", "deceased"])
def test_a_released_or_deceased_prisoner_gets_no_letters_through_the_usual_route(status):
    decision = choose_route(make_prisoner(status=status, status_since="2026-12-01"), [RELATIVE], {})
    assert decision == Held(f"prisoner_{status}", f"prisoner {status} on 2026-12-01: an operator archives or "
                                                   "redirects the letter")


def test_a_transferred_prisoner_keeps_the_route_and_is_flagged_for_review():
    assert choose_route(make_prisoner(status="transferred"), [RELATIVE], {}) == Routed("i_relative")
    assert "transferred" in needs_review("detained", "transferred")
    assert needs_review("transferred", "transferred") is None
    assert needs_review("detained", "released") is None


def test_an_unknown_prisoner_is_routed_by_its_intermediaries_alone():
    assert choose_route(None, [RELATIVE], {}) == Routed("i_relative")


def test_a_bundle_made_before_the_release_is_stopped_one_made_after_is_not():
    released = make_prisoner(status="released", status_changed_at=NOW)
    assert stops_bundle(released, NOW - timedelta(seconds=1)) == status_hold(released)
    assert stops_bundle(released, NOW + timedelta(seconds=1)) is None
    assert stops_bundle(make_prisoner(), NOW - timedelta(seconds=1)) is None


# --- the state machine ------------------------------------------------------------------------


def test_every_state_has_its_moves_defined_and_outcomes_are_near_the_end():
    assert set(TRANSITIONS) == set(DELIVERY_STATES)
    assert all(TRANSITIONS[outcome] <= {"returned", "blocked"} for outcome in OUTCOMES)


@pytest.mark.parametrize(("current", "target"), [
    ("queued", "bundled"), ("queued", "held"), ("held", "queued"), ("bundled", "sent"), ("bundled", "failed"),
    ("bundled", "held"), ("failed", "bundled"), ("sent", "handed_over"), ("sent", "returned"), ("sent", "blocked"),
    ("handed_over", "returned"),
])
def test_allowed_moves(current, target):
    assert can_move(current, target)


@pytest.mark.parametrize(("current", "target"), [
    ("queued", "sent"), ("queued", "handed_over"), ("held", "sent"), ("bundled", "handed_over"),
    ("sent", "queued"), ("sent", "held"), ("handed_over", "sent"), ("returned", "queued"), ("blocked", "sent"),
    ("failed", "sent"), ("sent", "sent"), ("handed_over", "handed_over"),
])
def test_refused_moves(current, target):
    assert not can_move(current, target)


def test_a_letter_reaches_sent_only_from_bundled():
    assert sources_of("sent") == ("bundled",)
    assert set(sources_of("held")) == {"queued", "bundled", "failed"}


# --- retries ----------------------------------------------------------------------------------


def test_retries_wait_twice_as_long_each_time_up_to_the_maximum():
    assert [retry_delay_s(n, 30, 200) for n in range(1, 7)] == [30, 60, 120, 200, 200, 200]


# --- what operators see -----------------------------------------------------------------------

def waiting(letter_id, prisoner, intermediary, state, age_s):
    return WaitingLetter(letter_id, prisoner, intermediary, state, NOW - timedelta(seconds=age_s))


def test_backlog_counts_letters_not_yet_sent_and_their_oldest_wait_per_intermediary_and_prisoner():
    letters = [
        waiting("l1", "p_1", "i_a", "queued", 60), waiting("l2", "p_1", "i_a", "bundled", 600),
        waiting("l3", "p_2", "i_b", "failed", 30), waiting("l4", "p_2", "i_b", "sent", 9999),
        waiting("l5", "p_3", None, "held", 5000),
    ]
    by_intermediary = {row.key: (row.letters, row.oldest_waiting_s) for row in backlog_by(letters, "intermediary_id", NOW)}
    assert by_intermediary == {"i_a": (2, 600), "i_b": (1, 30)}
    assert [row.key for row in backlog_by(letters, "prisoner_id", NOW)] == ["p_1", "p_2"]  # oldest wait first
    assert oldest_waiting_s(letters, NOW) == 600
    assert oldest_waiting_s([], NOW) == 0


def test_throughput_counts_the_last_day_and_the_last_week():
    seconds, days = (lambda n: NOW - timedelta(seconds=n)), (lambda n: NOW - timedelta(days=n))
    movements = [
        Movement(queued=seconds(100), sent=seconds(50), handed_over=seconds(10)),
        Movement(queued=days(3), sent=days(2), handed_over=None),
        Movement(queued=days(9), sent=days(8), handed_over=days(6)),
    ]
    assert throughput(movements, NOW) == {
        "day": {"queued": 1, "sent": 1, "handed_over": 1},
        "week": {"queued": 2, "sent": 2, "handed_over": 2},
    }
    assert sent_per_day(movements, NOW) == [0, 0, 0, 0, 1, 0, 1]


@pytest.mark.parametrize(("outcome", "reason", "problem"), [
    ("handed_over", None, None),
    ("handed_over", "x" * 1000, "reason_too_long"),
    ("blocked", None, "reason_missing"),
    ("returned", "", "reason_missing"),
    ("returned", "the colony refused it", None),
    ("blocked", "x" * REASON_MAX_CHARS, None),
    ("blocked", "x" * (REASON_MAX_CHARS + 1), "reason_too_long"),
    ("lost", "somewhere", "unknown_outcome"),
])
def test_an_intermediarys_answer_needs_a_short_reason_unless_handed_over(outcome, reason, problem):
    assert answer_problem(outcome, reason) == problem


def test_a_link_answer_can_be_undone_until_its_window_closes_and_is_due_after():
    closes = NOW + timedelta(minutes=10)
    answer = LinkAnswer("l_1", "b_1", "handed_over", None, answered_at=NOW, undoable_until=closes)
    just_before = closes - timedelta(milliseconds=100)
    assert answer.undoable(just_before) and not answer.due(just_before)
    assert not answer.undoable(closes) and answer.due(closes)
    final = LinkAnswer("l_1", "b_1", "handed_over", None, NOW, closes, final=True)
    assert not final.undoable(NOW) and not final.due(closes + timedelta(minutes=1))


def test_letters_are_found_in_the_bundle_pdf_after_its_cover_when_the_counts_agree():
    assert letter_pages([1, 3, 2], bundle_pages=7) == [(2, 2), (3, 5), (6, 7)]
    assert letter_pages([1, 3], bundle_pages=7) is None
