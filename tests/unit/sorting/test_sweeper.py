"""Sorting's sweeper against in-memory ports: a stuck letter is sorted again once, the rest reported."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from prometheus_client import REGISTRY

from services.sorting import service, sweeper
from services.sorting.domain import ModerationPolicy
from shared.events import LetterReady, LetterReviewNeeded
from shared.outbox import Unpublished
from tests.unit.sorting.conftest import make_deps, make_received

pytestmark = pytest.mark.unit


class StuckEvents:
    def __init__(self, *events: Unpublished) -> None:
        self.events = list(events)

    async def unpublished(self, older_than_s: float, limit: int) -> list[Unpublished]:
        return self.events[:limit]


def sweeping(deps, *events: Unpublished) -> sweeper.SweepDeps:
    return sweeper.SweepDeps(deps, StuckEvents(*events), sweeper.Deadlines())


def healed() -> float:
    return REGISTRY.get_sample_value("sorting_overdue_healed_total", {"state": "received"}) or 0.0


async def stuck_in_received(deps, letter_id: str, **overrides) -> None:
    """The handler stored the letter, then stopped before deciding (the message parked after ten tries)."""
    await deps.letters.register(service._facts(make_received(letter_id, **overrides)))


async def test_a_letter_left_in_received_is_sorted_again_and_announced_once():
    deps = make_deps(ModerationPolicy(auto_approve=True, undo_window_s=0))
    await stuck_in_received(deps, "l_stuck")
    deps.clock.advance(sweeper.Deadlines().unsorted_s + 1)
    before = healed()

    first = await sweeper.sweep(sweeping(deps))
    second = await sweeper.sweep(sweeping(deps))

    assert (await deps.letters.get("l_stuck"))["state"] == "ready"
    assert [e.letter_id for e in deps.outbox.of(LetterReady)] == ["l_stuck"]
    assert deps.outbox.publishes == 1, "the second sweep found nothing to do and announced nothing"
    assert healed() - before == 1
    assert first.overdue == second.overdue == []


async def test_a_stuck_letter_goes_to_a_moderator_never_straight_to_a_scan_when_a_person_must_read_it():
    deps = make_deps(ModerationPolicy())
    await stuck_in_received(deps, "l_stuck")
    deps.clock.advance(sweeper.Deadlines().unsorted_s + 1)

    await sweeper.sweep(sweeping(deps))

    assert (await deps.letters.get("l_stuck"))["state"] == "review_needed"
    assert [e.letter_id for e in deps.outbox.of(LetterReviewNeeded)] == ["l_stuck"]
    assert deps.outbox.of(LetterReady) == [] and deps.scans.objects == {}


async def test_a_letter_still_within_its_deadline_is_left_to_its_handler():
    deps = make_deps(ModerationPolicy(auto_approve=True, undo_window_s=0))
    await stuck_in_received(deps, "l_fresh")

    report = await sweeper.sweep(sweeping(deps))

    assert (await deps.letters.get("l_fresh"))["state"] == "received"
    assert deps.outbox.publishes == 0 and report.overdue == []


async def test_a_letter_that_cannot_be_sorted_again_is_reported_with_the_error():
    deps = make_deps(ModerationPolicy(auto_approve=True, undo_window_s=0))
    await stuck_in_received(deps, "l_stuck")
    deps.scans.down = True
    deps.clock.advance(sweeper.Deadlines().unsorted_s + 1)

    report = await sweeper.sweep(sweeping(deps))

    (entry,) = report.overdue
    assert (entry.letter_id, entry.state) == ("l_stuck", "received")
    assert "ConnectionError" in entry.note
    assert report.counts["received"] == 1
    assert REGISTRY.get_sample_value("sorting_overdue_letters", {"state": "received"}) == 1


async def test_letters_waiting_for_people_past_their_deadlines_are_reported_not_decided():
    deps = make_deps(ModerationPolicy())
    await service.sort_letter(make_received("l_review"), deps)
    deps.clock.advance(sweeper.Deadlines().undecided_s + 1)

    report = await sweeper.sweep(sweeping(deps))

    assert [(e.letter_id, e.state) for e in report.overdue] == [("l_review", "review_needed")]
    assert "moderator" in report.overdue[0].note
    assert (await deps.letters.get("l_review"))["state"] == "review_needed"


async def test_an_approval_the_release_sweep_could_not_finish_is_reported():
    deps = make_deps(ModerationPolicy())
    await service.sort_letter(make_received("l_approved"), deps)
    letter = await deps.letters.get("l_approved")
    # Approved, its window long over, the scan never stored (the release sweep keeps failing).
    deps.letters.letters["l_approved"].update(state="approved", release_at=letter["review_needed_at"])
    deps.clock.advance(sweeper.Deadlines().unreleased_s + 1)

    report = await sweeper.sweep(sweeping(deps))

    assert [(e.letter_id, e.state) for e in report.overdue] == [("l_approved", "approved")]
    assert "release sweep" in report.overdue[0].note
    assert deps.outbox.of(LetterReady) == []


async def test_an_event_the_relay_cannot_publish_is_reported_under_its_letter():
    deps = make_deps(ModerationPolicy())
    since = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    stuck = Unpublished("e1", "letter.review_needed", {"letter_id": "l_9", "prisoner_id": "p_1"}, since)

    report = await sweeper.sweep(sweeping(deps, stuck))

    (entry,) = report.overdue
    assert (entry.letter_id, entry.state, entry.since) == ("l_9", "unannounced", since)
    assert "letter.review_needed" in entry.note
    assert report.service == "sorting" and report.counts["unannounced"] == 1


def test_the_received_event_is_rebuilt_from_the_stored_letter_as_it_came():
    event = make_received("l_1", page_keys=["pages/a.jpg"], translation_requested=True, facility_page_limit=2)
    stored = {"_id": "l_1", "state": "received", **service._facts(event)}

    assert sweeper.received_again(stored).model_dump(exclude={"occurred_at"}) == event.model_dump(
        exclude={"occurred_at"})
