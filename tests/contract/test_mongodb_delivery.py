"""The MongoDB operations delivery relies on beyond those in test_mongodb.py, against the active backend."""

from __future__ import annotations

import pytest
from pymongo import ASCENDING

pytestmark = pytest.mark.contract


async def test_a_move_matches_the_state_among_several_and_another_field_and_happens_once(db):
    await db.c.insert_one({"_id": "l", "state": "queued", "intermediary_id": "i_1", "bundle_id": None})
    wrong = await db.c.update_one({"_id": "l", "state": {"$in": ["queued"]}, "intermediary_id": "i_2"},
                                  {"$set": {"state": "bundled"}})
    first = await db.c.update_one({"_id": "l", "state": {"$in": ["queued", "held"]}, "intermediary_id": "i_1"},
                                  {"$set": {"state": "bundled", "bundle_id": "b_1", "bundled_epoch": 1.5}})
    again = await db.c.update_one({"_id": "l", "state": {"$in": ["queued", "held"]}}, {"$set": {"bundle_id": "b_2"}})
    assert (wrong.modified_count, first.modified_count, again.modified_count) == (0, 1, 0)
    doc = await db.c.find_one({"_id": "l"})
    assert (doc["state"], doc["bundle_id"], doc["bundled_epoch"]) == ("bundled", "b_1", 1.5)


async def test_a_field_inserted_as_none_is_found_by_equality_with_none_until_set(db):
    await db.c.insert_many([{"_id": "a", "intermediary_id": None, "used": None},
                            {"_id": "b", "intermediary_id": "i_1", "used": None}])
    assert [d["_id"] async for d in db.c.find({"intermediary_id": None})] == ["a"]
    used = await db.c.update_one({"_id": "a", "used": None}, {"$set": {"used": 3.0}})
    again = await db.c.update_one({"_id": "a", "used": None}, {"$set": {"used": 4.0}})
    assert (used.modified_count, again.modified_count) == (1, 0)
    assert (await db.c.find_one({"_id": "a"}))["used"] == 3.0


async def test_a_lease_is_taken_by_one_claim_and_lapses_by_time(db):
    await db.c.insert_one({"_id": "b", "state": "ready", "lease_until": 0.0})
    claims = [await db.c.update_one({"_id": "b", "state": {"$in": ["ready"]}, "lease_until": {"$lt": 100.0}},
                                    {"$set": {"lease_until": 220.0}}) for _ in range(2)]
    assert [c.modified_count for c in claims] == [1, 0]
    later = await db.c.update_one({"_id": "b", "lease_until": {"$lt": 300.0}}, {"$set": {"lease_until": 420.0}})
    assert later.modified_count == 1


async def test_due_bundles_by_channel_and_time_in_order(db):
    await db.c.insert_many([
        {"_id": "b1", "state": "ready", "channel": "email", "next_attempt_epoch": 50.0, "lease_until": 0.0},
        {"_id": "b2", "state": "ready", "channel": "email", "next_attempt_epoch": 10.0, "lease_until": 0.0},
        {"_id": "b3", "state": "ready", "channel": "manual", "next_attempt_epoch": 0.0, "lease_until": 0.0},
        {"_id": "b4", "state": "ready", "channel": "email", "next_attempt_epoch": 500.0, "lease_until": 0.0},
        {"_id": "b5", "state": "ready", "channel": "email", "next_attempt_epoch": 0.0, "lease_until": 999.0},
    ])
    cursor = db.c.find({"state": "ready", "channel": {"$in": ["email"]}, "next_attempt_epoch": {"$lte": 100.0},
                        "lease_until": {"$lt": 100.0}}).sort("next_attempt_epoch", ASCENDING).limit(10)
    assert [d["_id"] async for d in cursor] == ["b2", "b1"]


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
        {"_id": "1", "queued_epoch": 10.0, "sent_epoch": None, "body": "x"},
        {"_id": "2", "queued_epoch": 1.0, "sent_epoch": 20.0, "body": "x"},
        {"_id": "3", "queued_epoch": 1.0, "body": "x"},
    ])
    fields = ("queued_epoch", "sent_epoch")
    cursor = db.c.find({"$or": [{f: {"$gte": 5.0}} for f in fields]}, {f: 1 for f in fields})
    rows = {d["_id"]: d async for d in cursor}
    assert set(rows) == {"1", "2"} and "body" not in rows["1"]


async def test_counts_by_two_equal_fields_and_delete_one(db):
    await db.c.insert_many([{"_id": str(n), "i": "a", "state": "queued" if n < 3 else "bundled"} for n in range(5)])
    assert await db.c.count_documents({"i": "a", "state": "queued"}) == 3
    await db.c.delete_one({"_id": "0"})
    assert await db.c.count_documents({"i": "a", "state": "queued"}) == 2


async def test_newest_first_by_a_number(db):
    await db.c.insert_many([{"_id": str(n), "at_epoch": float(n)} for n in (3, 1, 2)])
    assert [d["_id"] async for d in db.c.find({}).sort("at_epoch", -1).limit(2)] == ["3", "2"]


async def test_moves_since_a_time_by_any_of_several_times_one_set_later_with_the_state(db):
    # The monitor's throughput (MongoOutgoing.movements_since): a time written by a later `$set` (a move to
    # hold) is found by its range like one inserted, letters lacking it by the other times.
    await db.c.create_index([("held_epoch", ASCENDING)])
    await db.c.insert_many([
        {"_id": "1", "state": "queued", "queued_epoch": 1.0, "sent_epoch": None, "body": "x"},
        {"_id": "2", "state": "queued", "queued_epoch": 1.0, "body": "x"},
        {"_id": "3", "state": "held", "queued_epoch": 8.0, "held_epoch": 8.0, "body": "x"},
        {"_id": "4", "state": "queued", "queued_epoch": 2.0, "body": "x"},
    ])
    await db.c.update_one({"_id": "1", "state": {"$in": ["queued"]}}, {"$set": {"state": "held", "held_epoch": 6.5}})
    await db.c.update_one({"_id": "4", "state": {"$in": ["queued"]}}, {"$set": {"state": "held", "held_epoch": 3.0}})
    fields = ("queued_epoch", "sent_epoch", "handed_over_epoch", "held_epoch")
    cursor = db.c.find({"$or": [{f: {"$gte": 5.0}} for f in fields]}, {**dict.fromkeys(fields, 1), "state": 1})
    rows = {d["_id"]: d async for d in cursor}
    assert set(rows) == {"1", "3"} and "body" not in rows["1"]
    assert (rows["1"]["state"], rows["1"]["held_epoch"], rows["3"]["queued_epoch"]) == ("held", 6.5, 8.0)
