"""The MongoDB operations delivery relies on beyond those in test_mongodb.py, against the active backend.

Times are written and compared as the adapters do, through the times codec (shared/mongo.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pymongo import ASCENDING

from shared.mongo import _Server, bson_time, read_time, stored_time

pytestmark = pytest.mark.contract

EARLIER = datetime(2026, 12, 1, tzinfo=UTC)
NO_LEASE = datetime(1970, 1, 1, tzinfo=UTC)  # model.LONG_AGO: a lease nobody holds


def at(seconds: float) -> datetime | str:
    """A time `seconds` after a fixed moment, in the form the adapters write and compare."""
    return stored_time(EARLIER + timedelta(seconds=seconds))


async def test_a_move_matches_the_state_among_several_and_another_field_and_happens_once(db):
    await db.c.insert_one({"_id": "l", "state": "queued", "intermediary_id": "i_1", "bundle_id": None})
    wrong = await db.c.update_one({"_id": "l", "state": {"$in": ["queued"]}, "intermediary_id": "i_2"},
                                  {"$set": {"state": "bundled"}})
    first = await db.c.update_one({"_id": "l", "state": {"$in": ["queued", "held"]}, "intermediary_id": "i_1"},
                                  {"$set": {"state": "bundled", "bundle_id": "b_1", "bundled_at": at(1.5)}})
    again = await db.c.update_one({"_id": "l", "state": {"$in": ["queued", "held"]}}, {"$set": {"bundle_id": "b_2"}})
    assert (wrong.modified_count, first.modified_count, again.modified_count) == (0, 1, 0)
    doc = await db.c.find_one({"_id": "l"})
    assert (doc["state"], doc["bundle_id"], read_time(doc["bundled_at"])) == ("bundled", "b_1", bson_time(
        EARLIER + timedelta(seconds=1.5)))


async def test_a_field_inserted_as_none_is_found_by_equality_with_none_until_set(db):
    await db.c.insert_many([{"_id": "a", "intermediary_id": None, "used": None},
                            {"_id": "b", "intermediary_id": "i_1", "used": None}])
    assert [d["_id"] async for d in db.c.find({"intermediary_id": None})] == ["a"]
    used = await db.c.update_one({"_id": "a", "used": None}, {"$set": {"used": 3.0}})
    again = await db.c.update_one({"_id": "a", "used": None}, {"$set": {"used": 4.0}})
    assert (used.modified_count, again.modified_count) == (1, 0)
    assert (await db.c.find_one({"_id": "a"}))["used"] == 3.0


async def test_a_lease_is_taken_by_one_claim_and_lapses_by_time(db):
    await db.c.insert_one({"_id": "b", "state": "ready", "leased_until": stored_time(NO_LEASE)})
    claims = [await db.c.update_one({"_id": "b", "state": {"$in": ["ready"]}, "leased_until": {"$lt": at(100)}},
                                    {"$set": {"leased_until": at(220)}}) for _ in range(2)]
    assert [c.modified_count for c in claims] == [1, 0]
    later = await db.c.update_one({"_id": "b", "leased_until": {"$lt": at(300)}}, {"$set": {"leased_until": at(420)}})
    assert later.modified_count == 1


async def test_due_bundles_by_channel_and_time_in_order(db):
    free = stored_time(NO_LEASE)
    await db.c.insert_many([
        {"_id": "b1", "state": "ready", "channel": "email", "next_attempt_at": at(50), "leased_until": free},
        {"_id": "b2", "state": "ready", "channel": "email", "next_attempt_at": at(10), "leased_until": free},
        {"_id": "b3", "state": "ready", "channel": "manual", "next_attempt_at": at(0), "leased_until": free},
        {"_id": "b4", "state": "ready", "channel": "email", "next_attempt_at": at(500), "leased_until": free},
        {"_id": "b5", "state": "ready", "channel": "email", "next_attempt_at": at(0), "leased_until": at(999)},
    ])
    # A failed attempt moves the next one later with `$set`: found in order with those inserted.
    await db.c.update_one({"_id": "b4", "state": {"$in": ["ready"]}}, {"$set": {"next_attempt_at": at(30)}})
    cursor = db.c.find({"state": "ready", "channel": {"$in": ["email"]}, "next_attempt_at": {"$lte": at(100)},
                        "leased_until": {"$lt": at(100)}}).sort("next_attempt_at", ASCENDING).limit(10)
    assert [d["_id"] async for d in cursor] == ["b2", "b4", "b1"]


async def test_a_list_of_strings_set_later_reads_back_as_a_list(db):
    await db.c.insert_one({"_id": "b", "letter_ids": []})
    await db.c.update_one({"_id": "b"}, {"$set": {"letter_ids": ["l_1", "l_2"], "pages": 3}})
    doc = await db.c.find_one({"_id": "b"})
    assert doc["letter_ids"] == ["l_1", "l_2"] and doc["pages"] == 3


async def test_distinct_values_of_the_matching_documents(db):
    await db.c.insert_many([{"_id": "1", "i": "a", "state": "queued"}, {"_id": "2", "i": "b", "state": "queued"},
                            {"_id": "3", "i": "a", "state": "queued"}, {"_id": "4", "i": "c", "state": "sent"},
                            {"_id": "5", "i": None, "state": "queued"}])
    assert sorted(v for v in await db.c.distinct("i", {"state": "queued"}) if v) == ["a", "b"]


async def test_recent_movements_by_any_of_several_times_with_only_those_fields(db):
    await db.c.insert_many([
        {"_id": "1", "queued_at": at(10), "sent_at": None, "body": "x"},
        {"_id": "2", "queued_at": at(1), "sent_at": at(20), "body": "x"},
        {"_id": "3", "queued_at": at(1), "body": "x"},
    ])
    fields = ("queued_at", "sent_at")
    cursor = db.c.find({"$or": [{f: {"$gte": at(5)}} for f in fields]}, {f: 1 for f in fields})
    rows = {d["_id"]: d async for d in cursor}
    assert set(rows) == {"1", "2"} and "body" not in rows["1"]


async def test_counts_by_two_equal_fields_and_delete_one(db):
    await db.c.insert_many([{"_id": str(n), "i": "a", "state": "queued" if n < 3 else "bundled"} for n in range(5)])
    assert await db.c.count_documents({"i": "a", "state": "queued"}) == 3
    await db.c.delete_one({"_id": "0"})
    assert await db.c.count_documents({"i": "a", "state": "queued"}) == 2


async def test_newest_first_by_a_time(db):
    await db.c.insert_many([{"_id": str(n), "at": at(n)} for n in (3, 1, 2)])
    assert [d["_id"] async for d in db.c.find({}).sort("at", -1).limit(2)] == ["3", "2"]


async def test_moves_since_a_time_by_any_of_several_times_one_set_later_with_the_state(db):
    # The monitor's throughput (MongoOutgoing.movements_since): a time written by a later `$set` (a move to
    # hold) is found by its range like one inserted, letters lacking it by the other times.
    await db.c.create_index([("held_at", ASCENDING)])
    await db.c.insert_many([
        {"_id": "1", "state": "queued", "queued_at": at(1), "sent_at": None, "body": "x"},
        {"_id": "2", "state": "queued", "queued_at": at(1), "body": "x"},
        {"_id": "3", "state": "held", "queued_at": at(8), "held_at": at(8), "body": "x"},
        {"_id": "4", "state": "queued", "queued_at": at(2), "body": "x"},
    ])
    await db.c.update_one({"_id": "1", "state": {"$in": ["queued"]}}, {"$set": {"state": "held", "held_at": at(6.5)}})
    await db.c.update_one({"_id": "4", "state": {"$in": ["queued"]}}, {"$set": {"state": "held", "held_at": at(3)}})
    fields = ("queued_at", "sent_at", "handed_over_at", "held_at")
    cursor = db.c.find({"$or": [{f: {"$gte": at(5)}} for f in fields]}, {**dict.fromkeys(fields, 1), "state": 1})
    rows = {d["_id"]: d async for d in cursor}
    assert set(rows) == {"1", "3"} and "body" not in rows["1"]
    assert (rows["1"]["state"], read_time(rows["1"]["held_at"]), read_time(rows["3"]["queued_at"])) == (
        "held", bson_time(EARLIER + timedelta(seconds=6.5)), bson_time(EARLIER + timedelta(seconds=8)))


async def test_quirk_nx_27017_an_update_filter_compares_text_times_to_the_second(db):
    """Why a newer version is chosen on the times read back, not by a range in the update's filter
    (adapters.py `_keep_if_later`): on the stand-in a find compares text times exactly, an update only
    to the second. Equality on the time read back is what both servers do alike enough to replace it."""
    await db.c.insert_one({"_id": "p", "updated_at": at(0.737)})
    later = at(0.759)
    assert await db.c.count_documents({"_id": "p", "updated_at": {"$lt": later}}) == 1
    moved = await db.c.update_one({"_id": "p", "updated_at": {"$lt": later}}, {"$set": {"name": "newer"}})
    assert moved.matched_count == (0 if _Server.times_as_text else 1)
    stored = (await db.c.find_one({"_id": "p"}))["updated_at"]
    replaced = await db.c.update_one({"_id": "p", "updated_at": stored}, {"$set": {"updated_at": later}})
    assert replaced.matched_count == 1
    assert read_time((await db.c.find_one({"_id": "p"}))["updated_at"]) == bson_time(
        EARLIER + timedelta(seconds=0.759))
