"""MongoDB operations sorting's moderation relies on, beyond those in test_mongodb.py.

Sorting keeps its times as dates written through the times codec (a move stamps one with `$set`
on a letter inserted with others; test_mongodb_times.py pins the codec itself), keeps finding
categories as a list of strings, and records decisions as insert-only documents keyed by (letter,
decision).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from shared.mongo import bson_time, read_time, stored_time

pytestmark = pytest.mark.contract

T0 = datetime(2026, 11, 29, 12, 0, 0, 500000, tzinfo=UTC)


def at(seconds: float) -> datetime | str:
    """A stored time `seconds` after T0."""
    return stored_time(T0 + timedelta(seconds=seconds))


async def test_a_move_stamped_with_set_is_compared_and_sorted_as_a_time(db):
    await db.c.insert_many([{"_id": str(i), "state": "review_needed", "received_at": at(-i)} for i in range(3)])
    for i in range(3):
        await db.c.update_one({"_id": str(i)}, {"$set": {"state": "approved", "approved_at": at(i)}})
    stalled = [d["_id"] async for d in db.c.find({"state": "approved", "approved_at": {"$lt": at(1.5)}})
               .sort("approved_at", ASCENDING)]
    assert stalled == ["0", "1"]
    assert read_time((await db.c.find_one({"_id": "2"}))["approved_at"]) == bson_time(T0 + timedelta(seconds=2))


async def test_list_of_strings_written_with_set_reads_back_as_a_list(db):
    await db.c.insert_one({"_id": "l", "categories": ["slogans"], "revision": 0})
    changed = await db.c.update_one({"_id": "l", "revision": 0},
                                    {"$set": {"categories": ["language", "war_politics"], "revision": 1}})
    again = await db.c.update_one({"_id": "l", "revision": 0}, {"$set": {"categories": [], "revision": 1}})
    assert (changed.modified_count, again.modified_count) == (1, 0)
    doc = await db.c.find_one({"_id": "l"})
    assert doc["categories"] == ["language", "war_politics"] and doc["revision"] == 1


async def test_filter_on_several_fields_with_sort_limit_and_count(db):
    docs = [{"_id": f"l{i}", "state": "review_needed" if i % 4 else "ready", "prisoner_id": f"p{i % 2}",
             "campaign_event_id": "e1" if i < 5 else None, "language_flag": i % 3 == 0, "received_at": at(100 - i)}
            for i in range(10)]
    await db.c.insert_many(docs)
    query = {"state": "review_needed", "prisoner_id": "p1", "campaign_event_id": "e1"}
    found = [d["_id"] async for d in db.c.find(query).sort([("received_at", ASCENDING), ("_id", ASCENDING)]).limit(5)]
    assert found == ["l3", "l1"]
    assert await db.c.count_documents(query) == 2
    flagged = [d["_id"] async for d in db.c.find({"state": "review_needed", "language_flag": True})]
    assert sorted(flagged) == ["l3", "l6", "l9"]
    unset_event = [d["_id"] async for d in db.c.find({"state": "ready", "campaign_event_id": None})]
    assert unset_event == ["l8"]


async def test_inserted_list_of_subdocuments_reads_back_as_documents(db):
    history = [{"start": 3, "end": 9, "replacement": "[…]"}, {"start": 0, "end": 1, "replacement": ""}]
    await db.c.insert_one({"_id": "d", "redactions": history})
    assert (await db.c.find_one({"_id": "d"}))["redactions"] == history


async def test_insert_only_history_refuses_the_same_decision_twice_and_lists_in_order(db):
    await db.c.create_index([("letter_id", ASCENDING), ("seq", ASCENDING)])
    await db.c.insert_one({"_id": "l1:redacted:1", "letter_id": "l1", "seq": 1})
    await db.c.insert_one({"_id": "l1:approved", "letter_id": "l1", "seq": 2})
    await db.c.insert_one({"_id": "l2:rejected", "letter_id": "l2", "seq": 1})
    with pytest.raises(DuplicateKeyError):
        await db.c.insert_one({"_id": "l1:approved", "letter_id": "l1", "seq": 3})
    order = [d["_id"] async for d in db.c.find({"letter_id": "l1"}).sort("seq", ASCENDING)]
    assert order == ["l1:redacted:1", "l1:approved"]


async def test_group_by_one_field_with_count_and_max_of_a_name(db):
    await db.c.insert_many([{"_id": str(i), "state": "review_needed", "prisoner_id": f"p{i % 2}",
                             "prisoner_name_ru": f"Имя {i % 2}"} for i in range(5)])
    pipeline = [{"$match": {"state": "review_needed"}},
                {"$group": {"_id": "$prisoner_id", "n": {"$sum": 1}, "name": {"$max": "$prisoner_name_ru"}}}]
    rows = {r["_id"]: (r["n"], r["name"]) async for r in await db.c.aggregate(pipeline)}
    assert rows == {"p0": (3, "Имя 0"), "p1": (2, "Имя 1")}


async def test_conditions_the_undo_window_lanes_and_release_sweep_rely_on(db):
    await db.c.insert_many([
        {"_id": "a", "state": "approved", "lane": "fast", "undo_until": at(1600), "round": 0},
        {"_id": "b", "state": "approved", "lane": "careful", "decided_at": at(900)},
        {"_id": "c", "state": "rejected", "decided_at": at(1000)},
        {"_id": "d", "state": "review_needed", "lane": None},
    ])

    async def ids(cursor) -> list[str]:
        return [d["_id"] async for d in cursor]

    assert await ids(db.c.find({"undo_until": {"$gt": at(1599)}})) == ["a"]
    assert await ids(db.c.find({"undo_until": {"$gt": at(1600)}})) == []
    # $ne matches a missing or null field too: a letter without a lane counts as careful.
    assert sorted(await ids(db.c.find({"lane": {"$ne": "fast"}}))) == ["b", "c", "d"]
    assert sorted(await ids(db.c.find({"state": {"$in": ["approved", "rejected"]}}))) == ["a", "b", "c"]
    assert await ids(db.c.find({"state": "approved", "undo_until": {"$exists": False}})) == ["b"]
    assert await ids(db.c.find({"decided_at": {"$gt": at(0)}}).sort("decided_at", DESCENDING).limit(1)) == ["c"]
    changed = await db.c.update_one({"_id": "a", "state": "approved", "round": 0, "undo_until": {"$gt": at(1599)}},
                                    {"$set": {"state": "review_needed", "round": 1, "scan_key": "scans/new.pdf"}})
    assert changed.modified_count == 1 and (await db.c.find_one({"_id": "a"}))["round"] == 1
