"""Every MongoDB operation the services rely on, against whichever server is active.

If a backend diverges (nx-27017 is not MongoDB), the failure names the operation here instead
of surfacing as a mystery in a service. Known nx-27017 deviations the code avoids are pinned too,
as expectations about what the code must NOT rely on.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from shared.auth import FailedSignIns

pytestmark = pytest.mark.contract

NOW = datetime(2026, 11, 29, 12, 0, 0, 123000, tzinfo=UTC)


async def test_inserted_document_reads_back_with_nested_values_unicode_and_aware_datetimes(db):
    doc = {"_id": "l_1", "body": "Ёлка, й, Şükrü çğıñöşü", "author": {"city": "Полтава"}, "keys": ["a", "b"],
           "at": NOW, "flag": False, "none": None, "n": 3}
    await db.c.insert_one(doc)
    back = await db.c.find_one({"_id": "l_1"})
    assert back["body"] == doc["body"] and back["author"] == {"city": "Полтава"} and back["keys"] == ["a", "b"]
    assert back["at"] == NOW and back["at"].tzinfo is not None
    assert back["flag"] is False and back["none"] is None and back["n"] == 3


async def test_unique_index_refuses_a_second_document_with_the_same_key(db):
    await db.c.create_index([("client_ref", ASCENDING)], unique=True)
    await db.c.create_index([("client_ref", ASCENDING)], unique=True)  # idempotent at every start
    await db.c.insert_one({"_id": "1", "client_ref": "x"})
    with pytest.raises(DuplicateKeyError):
        await db.c.insert_one({"_id": "2", "client_ref": "x"})
    with pytest.raises(DuplicateKeyError):
        await db.c.insert_one({"_id": "1", "client_ref": "y"})
    assert await db.c.count_documents({}) == 1


async def test_conditional_update_changes_a_document_once(db):
    await db.c.insert_one({"_id": "l", "state": "received", "rank": 0})
    first = await db.c.update_one({"_id": "l", "state": "received"}, {"$set": {"state": "ready", "sha": "ab"}})
    again = await db.c.update_one({"_id": "l", "state": "received"}, {"$set": {"state": "ready", "sha": "cd"}})
    assert (first.modified_count, again.modified_count) == (1, 0)
    backwards = await db.c.update_one({"_id": "l", "rank": {"$lt": 0}}, {"$set": {"rank": 0}})
    assert backwards.modified_count == 0
    assert (await db.c.find_one({"_id": "l"}))["sha"] == "ab"


async def test_upsert_with_set_on_insert_creates_once_and_keeps_the_first_values(db):
    for key in ("first", "second"):
        await db.c.update_one({"_id": "l"}, {"$setOnInsert": {"scan_key": key, "state": "received"}}, upsert=True)
    doc = await db.c.find_one({"_id": "l"})
    assert doc["scan_key"] == "first" and doc["state"] == "received"


async def test_upsert_with_set_and_set_on_insert_keeps_counters(db):
    for name in ("А", "Б"):
        await db.c.update_one({"_id": "p"}, {"$set": {"name": name}, "$setOnInsert": {"letters": 0}}, upsert=True)
        await db.c.update_one({"_id": "p"}, {"$inc": {"letters": 1}})
    doc = await db.c.find_one({"_id": "p"})
    assert doc["name"] == "Б" and doc["letters"] == 2


async def test_boolean_flag_set_later_is_found_by_equality(db):
    await db.c.insert_many([{"_id": str(i), "published": False, "created_at": NOW - timedelta(seconds=i)}
                            for i in range(3)])
    await db.c.update_one({"_id": "1"}, {"$set": {"published": True}})
    pending = [d["_id"] async for d in db.c.find({"published": False}).sort("created_at", ASCENDING)]
    assert pending == ["2", "0"]
    assert await db.c.count_documents({"published": True}) == 1


async def test_range_query_on_inserted_datetimes(db):
    await db.c.insert_many([{"_id": str(i), "created_at": NOW - timedelta(seconds=10 * i)} for i in range(4)])
    older = {d["_id"] async for d in db.c.find({"created_at": {"$lt": NOW - timedelta(seconds=15)}})}
    assert older == {"2", "3"}


async def test_sort_by_two_fields_and_limit(db):
    await db.c.insert_many([{"_id": f"p{i}", "letters": i % 2} for i in range(5)])
    order = [d["_id"] async for d in db.c.find({}).sort([("letters", ASCENDING), ("_id", ASCENDING)]).limit(3)]
    assert order == ["p0", "p2", "p4"]


async def test_count_with_filter_and_limit(db):
    await db.c.insert_many([{"_id": str(i), "kiosk_id": "k1" if i < 3 else "k2"} for i in range(5)])
    assert await db.c.count_documents({"kiosk_id": "k1"}) == 3
    assert await db.c.count_documents({}, limit=1) == 1


async def test_group_by_one_field_counts(db):
    await db.c.insert_many([{"_id": str(i), "state": "queued" if i < 3 else "held"} for i in range(5)])
    rows = {r["_id"]: r["n"] async for r in await db.c.aggregate([{"$group": {"_id": "$state", "n": {"$sum": 1}}}])}
    assert rows == {"queued": 3, "held": 2}


async def test_drop_database_removes_everything(db):
    await db.c.insert_one({"_id": "x"})
    await db.client.drop_database(db.name)
    assert await db.c.count_documents({}) == 0


async def test_ping_answers(db):
    assert (await db.client.admin.command("ping"))["ok"] == 1


async def test_membership_and_not_null_filters(db):
    await db.c.insert_many([
        {"_id": "a", "status": "held", "contact": "v1:x", "at": 5.0},
        {"_id": "b", "status": "sent", "contact": None, "at": 1.0},
        {"_id": "c", "status": "ready", "contact": "v1:y", "at": 2.0},
    ])
    assert {d["_id"] async for d in db.c.find({"status": {"$in": ["held", "sent"]}})} == {"a", "b"}
    assert {d["_id"] async for d in db.c.find({"contact": {"$ne": None}})} == {"a", "c"}
    moved = await db.c.update_one({"_id": "a", "status": {"$in": ["held"]}, "at": {"$lt": 6.0}},
                                  {"$set": {"status": "queued", "at": 6.0}})
    assert moved.modified_count == 1
    assert (await db.c.find_one({"_id": "a"}))["at"] == 6.0


async def test_a_list_and_a_float_written_with_set_read_back(db):
    await db.c.insert_one({"_id": "l"})
    await db.c.update_one({"_id": "l"}, {"$set": {"categories": ["slogans", "symbols"], "epoch": 1764417600.25}})
    doc = await db.c.find_one({"_id": "l"})
    assert doc["categories"] == ["slogans", "symbols"] and doc["epoch"] == 1764417600.25


async def test_failed_sign_ins_are_shared_by_replicas_and_age_out_of_the_window(db):
    now = [NOW]
    # Two replicas of one service: two objects on the same collection.
    first, second = (FailedSignIns(db["failed_sign_ins"], "3/minute", clock=lambda: now[0]) for _ in range(2))
    await first.ensure_indexes()
    await first.failed("203.0.113.7")
    await second.failed("203.0.113.7")
    assert await first.allowed("203.0.113.7") and await second.allowed("203.0.113.7")
    await second.failed("203.0.113.7")
    assert not await first.allowed("203.0.113.7") and not await second.allowed("203.0.113.7")
    assert await first.allowed("198.51.100.1")  # another address is not locked out
    now[0] += timedelta(seconds=61)
    assert await first.allowed("203.0.113.7")
    await first.failed("203.0.113.7")  # the expired attempts are cleared as a new one is counted
    assert await db["failed_sign_ins"].count_documents({"address": "203.0.113.7"}) == 1


async def test_or_of_a_membership_and_a_compound_condition_with_a_range(db):
    # Retention: letters in a final status, or held and archived, whose last news is old enough.
    await db.c.insert_many([
        {"_id": "done", "status": "rejected", "held_kind": None, "changed": 1.0},
        {"_id": "archived", "status": "held", "held_kind": "archived", "changed": 1.0},
        {"_id": "kept", "status": "held", "held_kind": "released", "changed": 1.0},
        {"_id": "recent", "status": "rejected", "held_kind": None, "changed": 9.0},
    ])
    found = db.c.find({"$or": [{"status": {"$in": ["rejected"]}},
                               {"status": "held", "held_kind": {"$in": ["archived"]}}],
                       "changed": {"$lt": 5.0}}, {"_id": 1})
    assert sorted([doc["_id"] async for doc in found]) == ["archived", "done"]
