"""Times as the services store them (shared/mongo.py): what the adapters rely on, on either server.

The stand-in's quirks with dates are pinned here by name, so the codec that hides them has a reason
that a test states: `$set` turns a date into text, and text sorts before dates.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pymongo import ASCENDING, DESCENDING

from shared.mongo import (
    _Server,
    bson_time,
    count_unchanged,
    read_time,
    read_times,
    stored_time,
    stored_times,
    upgrade_times,
)

pytestmark = pytest.mark.contract

NOW = datetime(2026, 11, 29, 12, 0, 0, 123456, tzinfo=UTC)


async def test_a_time_written_by_insert_set_or_upsert_reads_back_equal_to_the_millisecond(db):
    await db.c.insert_one({"_id": "a", "at": stored_time(NOW)})
    await db.c.update_one({"_id": "a"}, {"$set": {"later": stored_time(NOW + timedelta(hours=1))}})
    await db.c.update_one({"_id": "b"}, {"$set": {"at": stored_time(NOW)}}, upsert=True)
    for doc in [d async for d in db.c.find()]:
        back = read_times(doc, ["at", "later"])
        assert back["at"] == bson_time(NOW) and back["at"].tzinfo is not None
    assert read_times(await db.c.find_one({"_id": "a"}), ["later"])["later"] == bson_time(NOW + timedelta(hours=1))


async def test_times_sort_and_compare_in_order_whichever_way_they_were_written(db):
    # Inserted at one time, moved by `$set` to another: on nx-27017 a raw datetime would now be a
    # date in one document and text in the next, and text sorts first. Written by stored_time, one form.
    await db.c.insert_many([{"_id": str(i), "at": stored_time(NOW + timedelta(minutes=i))} for i in range(4)])
    await db.c.update_one({"_id": "0"}, {"$set": {"at": stored_time(NOW + timedelta(minutes=10))}})
    order = [d["_id"] async for d in db.c.find().sort("at", ASCENDING)]
    assert order == ["1", "2", "3", "0"]
    assert [d["_id"] async for d in db.c.find().sort("at", DESCENDING)] == ["0", "3", "2", "1"]
    cutoff = stored_time(NOW + timedelta(minutes=2, seconds=30))
    assert {d["_id"] async for d in db.c.find({"at": {"$lt": cutoff}})} == {"1", "2"}
    assert {d["_id"] async for d in db.c.find({"at": {"$gte": cutoff}})} == {"3", "0"}


async def test_day_ranges_and_min_max_over_stored_times(db):
    days = [NOW - timedelta(days=d, hours=h) for d in range(3) for h in (0, 5)]
    await db.c.insert_many([{"_id": str(i), "at": stored_time(t)} for i, t in enumerate(days)])
    start = datetime(2026, 11, 28, tzinfo=UTC)
    one_day = {"at": {"$gte": stored_time(start), "$lt": stored_time(start + timedelta(days=1))}}
    assert await db.c.count_documents(one_day) == 2
    rows = await (await db.c.aggregate([{"$group": {"_id": None, "first": {"$min": "$at"}, "last": {"$max": "$at"}}}])).to_list()
    assert read_time(rows[0]["first"]) == bson_time(min(days)) and read_time(rows[0]["last"]) == bson_time(NOW)


async def test_quirk_nx_27017_set_writes_a_datetime_back_as_text(db):
    await db.c.insert_one({"_id": "a", "at": NOW})
    await db.c.update_one({"_id": "a"}, {"$set": {"at": NOW}})
    raw = (await db.c.find_one({"_id": "a"}))["at"]
    if _Server.times_as_text:
        assert isinstance(raw, str)  # the quirk the codec exists for
    else:
        assert isinstance(raw, datetime)
    assert read_time(raw) == bson_time(NOW)


def test_read_times_converts_only_the_named_fields():
    doc = {"at": "2026-12-01 13:00:00.123000", "body": "2026-12-01 13:00:00", "step": {"at": {"$date": "2026-12-01T13:00:00.123000"}}}
    back = read_times(doc, ["at", "step.at", "missing"])
    assert back["at"] == datetime(2026, 12, 1, 13, 0, 0, 123000, tzinfo=UTC)
    assert back["step"]["at"] == back["at"] and back["body"] == "2026-12-01 13:00:00"
    assert stored_times({"x": [NOW], "y": {"z": NOW}, "n": 1})["n"] == 1
    with pytest.raises(ValueError):
        stored_time(datetime(2026, 1, 1))


async def test_documents_stored_with_epoch_seconds_are_upgraded_once_to_dates(db):
    epoch = NOW.timestamp()
    await db.c.insert_many([{"_id": "old", "queued_epoch": epoch, "changed_epoch": epoch + 60, "state": "queued"},
                            {"_id": "new", "queued_at": stored_time(NOW), "state": "sent"}])
    await db.c.create_index([("state", ASCENDING), ("queued_epoch", ASCENDING)])
    renamed = {"queued_epoch": "queued_at", "changed_epoch": "changed_at"}
    assert await upgrade_times(db.c, renamed) == 1
    assert [index["name"] async for index in await db.c.list_indexes()] == ["_id_"]
    assert await upgrade_times(db.c, renamed) == 0  # again at the next start: nothing left
    old = read_times(await db.c.find_one({"_id": "old"}), ["queued_at", "changed_at"])
    assert old["queued_at"] == bson_time(NOW) and old["changed_at"] == bson_time(NOW + timedelta(minutes=1))
    assert "queued_epoch" not in old and old["state"] == "queued"
    # The upgraded time is in the same form as one written today: one range query finds both.
    assert await db.c.count_documents({"queued_at": {"$gte": stored_time(NOW), "$lte": stored_time(NOW)}}) == 2


async def test_quirk_nx_27017_an_update_filter_compares_times_only_to_the_second(db):
    # A find compares times exactly; an update's filter on nx-27017 only to the second. So a change
    # decided by "which is later" compares the times read back and writes on an unchanged write count
    # (count_unchanged), never on a time in the filter.
    await db.c.insert_one({"_id": "a", "at": stored_time(NOW), "writes": 1})
    later = stored_time(NOW + timedelta(milliseconds=300))
    assert await db.c.count_documents({"_id": "a", "at": {"$lt": later}}) == 1
    matched = (await db.c.update_one({"_id": "a", "at": {"$lt": later}}, {"$set": {"x": 1}})).matched_count
    assert matched == (0 if _Server.times_as_text else 1)
    doc = await db.c.find_one({"_id": "a"})
    written = await db.c.update_one({"_id": "a", **count_unchanged(doc, "writes")}, {"$set": {"x": 2}, "$inc": {"writes": 1}})
    again = await db.c.update_one({"_id": "a", **count_unchanged(doc, "writes")}, {"$set": {"x": 3}, "$inc": {"writes": 1}})
    assert (written.matched_count, again.matched_count) == (1, 0)
    fresh = await db.c.find_one({"_id": "b"}) or {}
    assert count_unchanged(fresh, "writes") == {"writes": {"$exists": False}}
