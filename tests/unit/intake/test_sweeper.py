"""Intake's sweeper against in-memory ports: stale facility copies repaired once, stuck letters reported."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY

from services.intake import sweeper
from services.intake.facilities import placement
from shared.events import PrisonerUpdated
from shared.facilities import Facility
from shared.outbox import Unpublished

pytestmark = pytest.mark.unit

NOW = datetime(2027, 1, 15, 8, 0, tzinfo=UTC)


def make_facility(**overrides) -> Facility:
    facts = {"id": "sizo_1", "name": "СИЗО-1 Симферополь", "kind": "pre_trial_centre", "region": "Крым",
             "address": {"lines": ["ул. Примерная, 1"], "city": "Симферополь", "postcode": "295000"}}
    return Facility.model_validate({**facts, **overrides})


class MemoryFacilities:
    def __init__(self, *facilities: Facility) -> None:
        self.facilities = list(facilities)

    async def list(self) -> list[Facility]:
        return self.facilities


class MemoryPrisoners:
    """Prisoners' documents; `update` as the adapter's: conditional on `only_if`, announcing what it wrote."""

    def __init__(self) -> None:
        self.docs: dict[str, dict] = {}
        self.changed_meanwhile: dict[str, dict] = {}

    async def placed_at(self, facility_id: str) -> list[dict]:
        found = [copy.deepcopy(d) for d in self.docs.values() if d.get("facility_id") == facility_id]
        # Someone else's change lands between the sweeper's read and its write.
        for prisoner_id, fields in self.changed_meanwhile.items():
            self.docs[prisoner_id].update(fields)
        return found

    async def update(self, prisoner_id, fields, announce, only_if=None):
        doc = self.docs.get(prisoner_id)
        if doc is None or any(doc.get(k) != v for k, v in (only_if or {}).items()):
            return None
        doc.update(copy.deepcopy(fields))
        announce(doc)
        return copy.deepcopy(doc)


class MemoryLetters:
    def __init__(self, **rows: list[tuple[str, datetime]]) -> None:
        self.rows = rows

    async def stalled(self, status: str, before: datetime, limit: int):
        found = sorted((row for row in self.rows.get(status, []) if row[1] < before), key=lambda r: r[1])
        return len(found), found[:limit]


class RecordingEvents:
    def __init__(self, *stuck: Unpublished) -> None:
        self.stuck = list(stuck)
        self.published: list = []

    async def unpublished(self, older_than_s: float, limit: int) -> list[Unpublished]:
        return self.stuck[:limit]

    async def publish(self, event) -> bool:
        self.published.append(event)
        return True


def prisoner(prisoner_id: str, facility: Facility | None) -> dict:
    doc = {"_id": prisoner_id, "names": {"uk": "Ремзі", "ru": "Ремзи", "en": "Remzi"}, "status": "detained"}
    return {**doc, **placement(facility)} if facility else doc


def sweeping(letters=None, prisoners=None, facilities=None, events=None) -> sweeper.SweepDeps:
    return sweeper.SweepDeps(letters=letters or MemoryLetters(), prisoners=prisoners or MemoryPrisoners(),
                             facilities=facilities or MemoryFacilities(), outbox=events or RecordingEvents(),
                             deadlines=sweeper.Deadlines(), clock=lambda: NOW)


async def test_a_prisoner_left_with_an_old_copy_of_their_facility_is_repaired_and_announced_once():
    old, new = make_facility(), make_facility(name="СИЗО-1 (новое здание)")
    prisoners = MemoryPrisoners()
    prisoners.docs = {"p_stale": prisoner("p_stale", old), "p_current": prisoner("p_current", new)}
    events = RecordingEvents()
    deps = sweeping(prisoners=prisoners, facilities=MemoryFacilities(new), events=events)
    before = REGISTRY.get_sample_value("intake_overdue_healed_total", {"state": "facility_copy"}) or 0.0

    first = await sweeper.sweep(deps)
    await sweeper.sweep(deps)

    assert prisoners.docs["p_stale"]["facility"] == new.model_dump(mode="json")
    (announced,) = events.published
    assert isinstance(announced, PrisonerUpdated) and announced.prisoner_id == "p_stale"
    assert announced.facility == new
    assert REGISTRY.get_sample_value("intake_overdue_healed_total", {"state": "facility_copy"}) - before == 1
    assert first.overdue == []


async def test_a_repair_overtaken_by_a_newer_change_of_the_prisoner_writes_nothing():
    old, new = make_facility(), make_facility(name="СИЗО-1 (новое здание)")
    prisoners = MemoryPrisoners()
    prisoners.docs = {"p_1": prisoner("p_1", old)}
    # An operator moves the prisoner to another facility while the sweeper is at work.
    elsewhere = make_facility(id="colony_2", name="ИК-2")
    prisoners.changed_meanwhile = {"p_1": placement(elsewhere)}
    events = RecordingEvents()

    await sweeper.sweep(sweeping(prisoners=prisoners, facilities=MemoryFacilities(new), events=events))

    assert prisoners.docs["p_1"]["facility_id"] == "colony_2"
    assert prisoners.docs["p_1"]["facility"] == elsewhere.model_dump(mode="json")
    assert events.published == []


def test_a_copy_is_stale_when_it_differs_is_missing_or_unreadable():
    facility = make_facility()
    assert not sweeper.copy_is_stale(facility.model_dump(mode="json"), facility)
    assert sweeper.copy_is_stale(make_facility(region="Херсон").model_dump(mode="json"), facility)
    assert sweeper.copy_is_stale(None, facility)
    assert sweeper.copy_is_stale({"id": "sizo_1"}, facility)


async def test_letters_sorting_or_delivery_never_took_up_are_reported_and_counted():
    letters = MemoryLetters(received=[("l_unsorted", NOW - timedelta(hours=1)), ("l_fresh", NOW - timedelta(minutes=1))],
                            ready=[("l_unqueued", NOW - timedelta(hours=2))])

    report = await sweeper.sweep(sweeping(letters=letters))

    assert [(e.letter_id, e.state) for e in report.overdue] == [("l_unqueued", "ready"), ("l_unsorted", "received")]
    assert "sorting.letter-received" in report.overdue[1].note
    assert report.counts == {"facility_copy": 0, "ready": 1, "received": 1, "unannounced": 0}
    assert REGISTRY.get_sample_value("intake_overdue_letters", {"state": "received"}) == 1
    assert report.checked_at == NOW


async def test_a_letter_whose_announcement_never_left_is_reported_once_as_unannounced():
    since = NOW - timedelta(seconds=4000)
    stuck = Unpublished("e1", "letter.received", {"letter_id": "l_1", "prisoner_id": "p_1"}, since)
    letters = MemoryLetters(received=[("l_1", since)])

    report = await sweeper.sweep(sweeping(letters=letters, events=RecordingEvents(stuck)))

    (entry,) = report.overdue
    assert (entry.letter_id, entry.state, entry.since) == ("l_1", "unannounced", since)
    assert "letter.received not published yet" in entry.note
    assert (report.counts["unannounced"], report.counts["received"]) == (1, 0)
