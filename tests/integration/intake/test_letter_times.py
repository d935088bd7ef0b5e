"""A letter's points in time as intake stores them (MongoDB or nx-27017): dates, written and compared in
one form whatever wrote them, and letters stored as epoch seconds before that converted at start."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.intake.adapters import MongoLetters
from services.intake.domain import Letter
from services.intake.privacy import FINAL_HOLD_KINDS, FINAL_STATUSES
from shared.mongo import bson_time, read_time

pytestmark = pytest.mark.integration

SUBMITTED = datetime(2026, 12, 1, 9, 30, 0, 250000, tzinfo=UTC)


def make_letter(letter_id: str, submitted_at: datetime = SUBMITTED, **fields) -> Letter:
    return Letter(id=letter_id, client_ref=str(uuid.uuid4()), fingerprint="f", prisoner_id="p_1", body="Привет",
                  channel="web", submitted_at=submitted_at, **fields)


async def test_a_letters_times_read_back_as_dates_and_its_statuses_follow_the_time_they_happened(db):
    letters = MongoLetters(db)
    await letters.ensure_indexes()
    written = SUBMITTED - timedelta(hours=2)
    await letters.insert(make_letter("l_1", written_at=written), [])
    handed_over, sent = SUBMITTED + timedelta(days=20), SUBMITTED + timedelta(days=3)
    assert await letters.record_status("l_1", "handed_over", handed_over, {"prisoner_id": "p_1"})
    # Delivery's reports arrive out of order: a late report of an earlier `sent` is history, not the headline.
    await letters.record_status("l_1", "sent", sent, {})

    letter = await letters.get("l_1")
    assert (letter.status, letter.submitted_at, letter.written_at) == ("handed_over", bson_time(SUBMITTED), bson_time(written))
    stored = await db["letters"].find_one({"_id": "l_1"})
    assert stored["written_day"] == "2026-12-01" and not [name for name in stored if name.endswith("_epoch")]
    (seen,) = await letters.submitted_since(SUBMITTED - timedelta(days=1))
    assert (seen["handed_over_at"], seen["status"]) == (bson_time(handed_over), "handed_over")
    assert [entry.at for entry in await letters.timeline("l_1")] == [bson_time(SUBMITTED), bson_time(sent),
                                                                        bson_time(handed_over)]
    assert await letters.submitted_since(SUBMITTED + timedelta(seconds=1)) == []


async def test_letters_wait_in_a_status_since_their_submission_or_their_last_news(db):
    letters = MongoLetters(db)
    await letters.ensure_indexes()
    for minutes in (30, 10, 20):
        await letters.insert(make_letter(f"l_{minutes}", SUBMITTED + timedelta(minutes=minutes)), [])
    await letters.record_status("l_30", "ready", SUBMITTED, {})

    total, rows = await letters.stalled("received", SUBMITTED + timedelta(minutes=25), 1)
    assert (total, rows) == (2, [("l_10", bson_time(SUBMITTED + timedelta(minutes=10)))])
    (waiting,) = (await letters.stalled("ready", datetime.now(UTC) + timedelta(minutes=1), 10))[1]
    assert waiting[0] == "l_30" and waiting[1] > SUBMITTED  # since intake heard of it, not since it happened
    assert await letters.stalled("ready", SUBMITTED, 10) == (0, [])


async def test_contact_data_is_due_for_erasure_only_past_the_retention_time_after_the_last_news(db):
    letters = MongoLetters(db)
    await letters.ensure_indexes()
    await letters.insert(make_letter("l_done", contact_ciphertext="v1:x"), [])
    await letters.record_status("l_done", "answered", SUBMITTED, {})

    def due(before: datetime):
        return letters.contacts_past_retention(FINAL_STATUSES, FINAL_HOLD_KINDS, before)

    assert await due(datetime.now(UTC) - timedelta(minutes=1)) == []
    assert await due(datetime.now(UTC) + timedelta(minutes=1)) == ["l_done"]
    assert await letters.erase_contact("l_done")
    assert await due(datetime.now(UTC) + timedelta(minutes=1)) == []


async def test_letters_stored_as_epoch_seconds_before_times_were_dates_are_converted_at_start(db):
    # A letter and a reply as intake stored them before: every point in time a float `_epoch` field.
    submitted, handed_over = SUBMITTED.timestamp(), (SUBMITTED + timedelta(days=20)).timestamp()
    old = {**make_letter("l_old").model_dump(mode="python", exclude={"id", "withdrawal_requested_at"}),
           "_id": "l_old", "status": "handed_over", "submitted_epoch": submitted, "written_epoch": submitted - 60,
           "written_day": "2026-12-01", "handed_over_epoch": handed_over, "status_at_epoch": handed_over,
           "status_changed_epoch": handed_over + 5, "withdrawal_requested_epoch": None}
    await db["letters"].insert_one(old)
    await db["letter_replies"].insert_one({"_id": "r_1:l_old", "letter_id": "l_old", "received_epoch": handed_over})
    letters = MongoLetters(db)

    await letters.ensure_indexes()
    await letters.ensure_indexes()  # a second start finds nothing left to convert

    stored = await db["letters"].find_one({"_id": "l_old"})
    assert not [name for name in stored if name.endswith("_epoch")]
    assert read_time(stored["counted_at"]) == bson_time(SUBMITTED - timedelta(minutes=1))
    letter = await letters.get("l_old")
    assert letter.submitted_at == bson_time(SUBMITTED) and letter.withdrawal_requested_at is None
    (seen,) = await letters.submitted_since(SUBMITTED - timedelta(days=1))
    assert seen["handed_over_at"] == bson_time(SUBMITTED + timedelta(days=20))
    assert await letters.stalled("handed_over", SUBMITTED + timedelta(days=21), 10) == (
        1, [("l_old", bson_time(SUBMITTED + timedelta(days=20, seconds=5)))])
    reply = await db["letter_replies"].find_one({"_id": "r_1:l_old"})
    assert "received_epoch" not in reply and "received_at" in reply


async def test_reports_a_few_milliseconds_apart_are_ordered_by_when_they_happened(db):
    # Delivery holds a letter and queues it again within the same second: the later report wins
    # whichever arrives last, though nx-27017 compares times in an update's filter only to the second.
    letters = MongoLetters(db)
    await letters.ensure_indexes()
    await letters.insert(make_letter("l_1"), [])
    queued = SUBMITTED + timedelta(minutes=5)
    held, queued_again = queued + timedelta(milliseconds=200), queued + timedelta(milliseconds=700)
    await letters.record_status("l_1", "queued", queued, {})
    await letters.record_status("l_1", "held", held, {"hold_kind": "no_route"})
    assert (await letters.get("l_1")).status == "held"
    await letters.record_status("l_1", "queued", queued_again, {})
    assert (await letters.get("l_1")).status == "queued"
    # A report of an earlier queueing, arriving late, is history: the headline keeps the latest.
    await letters.record_status("l_1", "queued", queued + timedelta(milliseconds=100), {})
    stored = await db["letters"].find_one({"_id": "l_1"})
    assert stored["status"] == "queued" and read_time(stored["status_at"]) == bson_time(queued_again)
