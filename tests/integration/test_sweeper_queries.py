"""What the sweepers ask of MongoDB (or nx-27017): letters stalled in a state since before a time, events
left unpublished, a facility copy repaired only over the stale one read, the latest report per service."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.delivery.adapters import MongoOutgoing, MongoOverdueReports
from services.delivery.model import OutgoingLetter
from services.intake.adapters import MongoLetters, MongoPrisoners
from services.intake.facilities import placement
from services.intake.staff import Announced
from services.intake.sweeper import copy_is_stale
from services.sorting.adapters import MongoSortedLetters
from services.sorting.sweeper import received_again
from shared.events import LetterReceived, OverdueLetter, OverdueReport, utc_now
from shared.facilities import Facility
from shared.mongo import stored_time, stored_times
from shared.outbox import PENDING_SINCE, Outbox, WithEvents
from tests.unit.sorting.conftest import make_received

pytestmark = pytest.mark.integration


NOON = datetime(2026, 12, 4, 12, 0, 0, 250000, tzinfo=UTC)


def minutes(n: float) -> datetime:
    return NOON + timedelta(minutes=n)


def outgoing(letter_id: str, state: str, changed_at: datetime) -> OutgoingLetter:
    return OutgoingLetter(id=letter_id, prisoner_id="p_1", scan_key="scans/x.pdf", scan_sha256="ab" * 32, pages=1,
                          state=state, queued_at=changed_at, changed_at=changed_at)


async def test_delivery_finds_letters_unchanged_in_a_state_the_longest_first(db):
    letters = MongoOutgoing(db)
    await letters.ensure_indexes()
    for letter_id, state, at in [("l_new", "queued", minutes(90)), ("l_old", "queued", minutes(10)),
                                 ("l_mid", "queued", minutes(50)), ("l_sent", "sent", minutes(5))]:
        await letters.enqueue(outgoing(letter_id, state, at))

    total, found = await letters.stalled("queued", minutes(80), 1)

    assert total == 2 and [letter.id for letter in found] == ["l_old"]
    assert [letter.id for letter in (await letters.stalled("sent", minutes(80), 10))[1]] == ["l_sent"]


async def test_the_latest_report_of_each_service_is_kept_whatever_order_they_arrive_in(db):
    reports = MongoOverdueReports(db)
    now = datetime(2026, 12, 4, 12, tzinfo=UTC)
    entry = OverdueLetter(letter_id="l_1", state="received", since=now - timedelta(hours=1), note="waiting")
    later = OverdueReport.of("intake", now, [entry])

    assert await reports.keep(OverdueReport.of("sorting", now, []))
    assert await reports.keep(later)
    assert not await reports.keep(OverdueReport.of("intake", now - timedelta(minutes=1), []))

    kept = await reports.latest()
    assert [report.service for report in kept] == ["intake", "sorting"]
    assert kept[0].overdue == [entry] and kept[0].checked_at == now


async def test_sorting_finds_stalled_letters_and_rebuilds_their_received_event_as_stored(db):
    letters = MongoSortedLetters(db)
    await letters.ensure_indexes()
    event = make_received("l_1", page_keys=["pages/a.jpg"], facility_page_limit=2)
    await letters.register({**event.model_dump(exclude={"event_id", "occurred_at", "schema_version"}),
                            "text": event.body, "review_reasons": [], "categories": []})
    await letters.register({"letter_id": "l_2", "prisoner_id": "p_1"})
    assert await letters.mark_review_needed("l_2")

    total, rows = await letters.stalled("received", utc_now() + timedelta(seconds=1), 10)
    assert (total, [row[0] for row in rows]) == (1, ["l_1"])
    assert [row[0] for row in (await letters.stalled("review_needed", utc_now() + timedelta(seconds=1), 10))[1]] == ["l_2"]
    assert (await letters.stalled("review_needed", utc_now() - timedelta(minutes=1), 10))[0] == 0

    again = received_again(await letters.get("l_1"))
    assert isinstance(again, LetterReceived) and again.event_id == event.event_id
    assert again.model_dump(exclude={"occurred_at", "submitted_at"}) == event.model_dump(
        exclude={"occurred_at", "submitted_at"})
    assert again.submitted_at.replace(tzinfo=UTC) == event.submitted_at


async def test_intake_finds_letters_no_service_took_up(db):
    letters = MongoLetters(db)
    await letters.ensure_indexes()
    await db["letters"].insert_many([stored_times(doc) for doc in (
        {"_id": "l_received", "status": "received", "submitted_at": minutes(10)},
        {"_id": "l_ready", "status": "ready", "submitted_at": minutes(5), "status_changed_at": minutes(20)},
        {"_id": "l_queued", "status": "queued", "submitted_at": minutes(1), "status_changed_at": minutes(2)},
    )])

    assert await letters.stalled("received", minutes(15), 10) == (1, [("l_received", minutes(10))])
    assert await letters.stalled("ready", minutes(15), 10) == (0, [])
    assert await letters.stalled("ready", minutes(25), 10) == (1, [("l_ready", minutes(20))])


def facility(name: str) -> Facility:
    return Facility.model_validate({
        "id": "sizo_1", "name": name, "kind": "pre_trial_centre", "region": "Крым",
        "address": {"lines": ["ул. Павленко, 3", "ФКУ СИЗО-1"], "city": "Симферополь", "postcode": "295000"},
        "rules": {"page_limit": {"value": 2, "verified_on": "2026-11-01"}}})


async def test_a_facility_copy_read_back_compares_equal_and_is_repaired_only_over_the_stale_one(db):
    prisoners = MongoPrisoners(db)
    old, new = facility("СИЗО-1"), facility("СИЗО-1 (новое здание)")
    await prisoners.upsert({"id": "p_1", "names": {"uk": "Ремзі", "ru": "Ремзи", "en": "Remzi"},
                            "status": "detained", **placement(old)}, Announced())

    (stored,) = await prisoners.placed_at("sizo_1")
    assert not copy_is_stale(stored["facility"], old) and copy_is_stale(stored["facility"], new)
    overtaken = Announced()
    assert await prisoners.update("p_1", placement(new), overtaken, only_if={"facility": new.model_dump(mode="json")}) \
        is None
    assert overtaken.events == []
    repaired = Announced()
    assert await prisoners.update("p_1", placement(new), repaired, only_if={"facility": stored["facility"]})
    assert not copy_is_stale((await prisoners.get("p_1"))["facility"], new)
    (event,) = repaired.events
    assert event.facility == new


async def test_the_outbox_lists_events_left_unpublished_past_the_deadline_but_not_published_ones(db):
    outbox = Outbox(db["outbox"], broker=None, exchange=None)  # reading only: nothing is published here
    carriers = WithEvents(db["letters"], transactions=False)
    stuck, published = make_received("l_1"), make_received("l_2")
    await carriers.insert_one({"_id": "l_1"}, [stuck])
    await carriers.insert_one({"_id": "l_2"}, [published])
    await db["letters"].update_many({}, {"$set": {PENDING_SINCE: stored_time(utc_now() - timedelta(hours=1))}})
    # Published inline, not cleared from its letter yet: the relay's next pass clears it.
    await db["outbox"].insert_one({"_id": str(published.event_id), "published": True,
                                   "created_at": stored_time(utc_now())})
    review = make_received("l_3")  # stored apart from its change, as on a replica set
    await outbox.add(review)
    await db["outbox"].update_one({"_id": str(review.event_id)},
                                  {"$set": {"created_at": stored_time(utc_now() - timedelta(hours=2))}})

    found = await outbox.unpublished(600, 10)

    assert [(event.body["letter_id"], event.routing_key) for event in found] == [
        ("l_3", "letter.received"), ("l_1", "letter.received")]
    assert all(event.since.tzinfo is not None for event in found)
    assert await outbox.unpublished(3 * 3600, 10) == []
