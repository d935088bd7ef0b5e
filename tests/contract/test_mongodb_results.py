"""The MongoDB operations the campaign's results rely on, against whichever server is active.

Each pipeline stage and operator services/intake/results/queries.py uses is pinned here, so a
backend that evaluates one differently (nx-27017 is not MongoDB) fails with the operation's name.
The repository itself is then checked against the in-memory fake the unit tests use.

Avoided, because nx-27017 evaluates them differently from MongoDB or falls back to reading
every document: `$group` on a compound `_id` (returned unevaluated), `$median` and `$percentile`
(silently absent), `$sum` of a `$cond` (0), array-membership equality (no match), `$ne: []` and
`"field.0": {$exists}` (wrong), `$not` (not implemented), `$project` of computed values and
`$sort`/`$skip` inside aggregate (Python fallback over every letter).
"""

from __future__ import annotations

from datetime import date

import pytest
from pymongo import ASCENDING, UpdateOne

from services.intake.results.domain import day_pattern
from services.intake.results.places import stored_place
from services.intake.results.queries import ResultsQueries, _as_list
from tests.unit.results.fakes import FakeResultsQueries, make_letter, make_reply

pytestmark = pytest.mark.contract

MARCH = {"$regex": day_pattern(date(2026, 3, 1), date(2026, 3, 31))}


async def group(collection, field: str, match: dict) -> dict:
    pipeline = ([{"$match": match}] if match else []) + [{"$group": {"_id": f"${field}", "n": {"$sum": 1}}}]
    return {row["_id"]: row["n"] async for row in await collection.aggregate(pipeline)}


async def test_a_regex_over_day_strings_selects_the_period_and_a_group_counts_one_field(db):
    await db.c.create_index([("city", ASCENDING), ("day", ASCENDING)])
    await db.c.insert_many([{"_id": "1", "day": "2026-03-01", "city": "Kyiv"},
                            {"_id": "2", "day": "2026-03-31", "city": "Kyiv"},
                            {"_id": "3", "day": "2026-03-15", "city": None},
                            {"_id": "4", "day": "2026-03-16"},
                            {"_id": "5", "day": "2026-04-01", "city": "Lviv"},
                            {"_id": "6", "day": "2026-02-28", "city": "Kyiv"}])
    assert await group(db.c, "city", {"day": MARCH}) == {"Kyiv": 2, None: 2}
    assert await group(db.c, "city", {}) == {"Kyiv": 3, None: 2, "Lviv": 1}


async def test_a_day_range_counts_by_day_along_the_day_index(db):
    await db.c.create_index([("day", ASCENDING)])
    await db.c.insert_many([{"_id": str(n), "day": f"2026-03-{1 + n % 3:02d}"} for n in range(7)]
                           + [{"_id": "x", "day": "2026-02-28"}, {"_id": "y", "day": "2026-03-04"}])
    rows = await group(db.c, "day", {"day": {"$gte": "2026-03-01", "$lte": "2026-03-03"}})
    assert rows == {"2026-03-01": 3, "2026-03-02": 2, "2026-03-03": 2}


async def test_size_zero_finds_letters_without_photographed_pages_within_the_period(db):
    await db.c.create_index([("channel", ASCENDING), ("page_keys", ASCENDING), ("day", ASCENDING)])
    await db.c.insert_many([{"_id": "1", "day": "2026-03-02", "channel": "web", "page_keys": []},
                            {"_id": "2", "day": "2026-03-02", "channel": "web", "page_keys": ["pages/a.jpg"]},
                            {"_id": "3", "day": "2026-03-02", "channel": "kiosk", "page_keys": []},
                            {"_id": "4", "day": "2026-03-02", "channel": "kiosk", "page_keys": ["a", "b"]},
                            {"_id": "5", "day": "2026-05-02", "channel": "web", "page_keys": []}])
    assert await group(db.c, "channel", {"day": MARCH, "page_keys": {"$size": 0}}) == {"web": 1, "kiosk": 1}


async def test_grouping_on_a_list_field_gives_one_group_per_distinct_list(db):
    await db.c.create_index([("cats", ASCENDING), ("day", ASCENDING)])
    await db.c.insert_many([{"_id": "1", "day": "2026-03-02", "cats": ["slogans", "symbols"]},
                            {"_id": "2", "day": "2026-03-03", "cats": ["slogans", "symbols"]},
                            {"_id": "3", "day": "2026-03-04", "cats": ["slogans"]},
                            {"_id": "4", "day": "2026-03-05", "cats": []},
                            {"_id": "5", "day": "2026-03-06"}])
    rows = await group(db.c, "cats", {"day": MARCH})
    # MongoDB answers with the lists, nx-27017 with their JSON text: _as_list reads both.
    assert sorted((tuple(_as_list(key)), n) for key, n in rows.items()) == [
        ((), 1), ((), 1), (("slogans",), 1), (("slogans", "symbols"), 2)]
    # Only letters with categories: MongoDB compares the elements, nx-27017 the list's text (so [] too).
    present = await group(db.c, "cats", {"day": MARCH, "cats": {"$gte": ""}})
    assert {tuple(_as_list(key)): n for key, n in present.items() if _as_list(key)} == {
        ("slogans",): 1, ("slogans", "symbols"): 2}


async def test_equality_on_the_event_combines_with_the_period(db):
    await db.c.insert_many([{"_id": "1", "day": "2026-03-02", "event": "e_1", "p": "a"},
                            {"_id": "2", "day": "2026-03-02", "event": "e_2", "p": "a"},
                            {"_id": "3", "day": "2026-04-02", "event": "e_1", "p": "b"}])
    await db.c.create_index([("event", ASCENDING)])
    assert await group(db.c, "p", {"day": MARCH, "event": "e_1"}) == {"a": 1}


async def test_gte_empty_text_selects_the_letters_that_have_a_text_in_a_field(db):
    await db.c.create_index([("reason", ASCENDING), ("day", ASCENDING)])
    await db.c.insert_many([{"_id": "1", "day": "2026-03-02", "reason": "censor"},
                            {"_id": "2", "day": "2026-03-03", "reason": "censor"},
                            {"_id": "3", "day": "2026-03-04", "reason": None},
                            {"_id": "4", "day": "2026-03-05"},
                            {"_id": "5", "day": "2026-04-05", "reason": "moved"}])
    assert await group(db.c, "reason", {"day": MARCH, "reason": {"$gte": ""}}) == {"censor": 2}


async def test_a_group_on_null_counts_the_matching_documents_and_nothing_when_none_match(db):
    await db.c.insert_many([{"_id": str(n), "day": "2026-03-02", "delay": float(n)} for n in range(3)])
    rows = [r async for r in await db.c.aggregate([{"$match": {"day": MARCH, "delay": {"$gte": 0}}},
                                                   {"$group": {"_id": None, "n": {"$sum": 1}}}])]
    assert rows == [{"_id": None, "n": 3}]
    none = [r async for r in await db.c.aggregate([{"$match": {"day": {"$regex": "^1999-"}}},
                                                   {"$group": {"_id": None, "n": {"$sum": 1}}}])]
    # MongoDB answers with no row, nx-27017 with a row counting 0: the code reads both as 0.
    assert sum(row["n"] for row in none) == 0


async def test_a_sorted_walk_with_skip_and_limit_reads_one_field_in_order(db):
    await db.c.create_index([("delay", ASCENDING), ("handed", ASCENDING), ("day", ASCENDING)])
    await db.c.insert_many([{"_id": str(n), "day": "2026-03-02" if n != 4 else "2026-06-01", "delay": float(10 - n),
                             "handed": 1.0, "body": "x"} for n in range(8)]
                           + [{"_id": "x", "day": "2026-03-02", "handed": None}])
    cursor = db.c.find({"day": MARCH, "delay": {"$gte": 0}}, {"_id": 0, "delay": 1}).sort("delay", ASCENDING)
    assert [d async for d in cursor.skip(2).limit(2)] == [{"delay": 5.0}, {"delay": 7.0}]


async def test_letters_without_a_field_are_found_by_equality_with_none_and_updated_in_bulk(db):
    await db.c.insert_many([{"_id": "a", "handed_over_epoch": 50.0, "submitted_epoch": 10.0},
                            {"_id": "b", "handed_over_epoch": 90.0, "submitted_epoch": 20.0, "after": 70.0},
                            {"_id": "c", "handed_over_epoch": None, "submitted_epoch": 30.0},
                            {"_id": "d", "submitted_epoch": 40.0}])
    await db.c.create_index([("after", ASCENDING), ("handed_over_epoch", ASCENDING), ("day", ASCENDING)])
    found = [d async for d in db.c.find({"after": None, "handed_over_epoch": {"$gt": 0}},
                                        {"submitted_epoch": 1, "handed_over_epoch": 1}).limit(10)]
    assert [(d["_id"], d["handed_over_epoch"] - d["submitted_epoch"]) for d in found] == [("a", 40.0)]
    await db.c.bulk_write([UpdateOne({"_id": "a"}, {"$set": {"after": 40.0}})], ordered=False)
    assert [d async for d in db.c.find({"after": None, "handed_over_epoch": {"$gt": 0}})] == []


async def test_the_indexes_are_made_once_and_again_without_error(db):
    queries = ResultsQueries(db)
    await queries.ensure_indexes()
    await queries.ensure_indexes()  # at every start


DIRECTORY = [{"_id": "p_1", "names": {"uk": "А", "en": "A"}, "status": "detained", "birthday": "1985-03-14"},
             {"_id": "p_2", "names": {"uk": "Б", "en": "B"}, "status": "released", "birthday": None}]
EVENTS = [{"_id": "e_1", "name": "Fair", "city": "Kyiv", "country": "UA", "starts_on": "2026-03-01"}]


def letters() -> list[dict]:
    return [
        make_letter(1, day="2026-03-02", moderation="auto", status="handed_over", handed_over_epoch=86400.0 * 3),
        make_letter(2, day="2026-03-02", channel="kiosk", campaign_event_id="e_1", page_keys=["pages/a.jpg"],
                    finding_categories=["handwritten"], moderation="approved", status="answered",
                    handed_over_epoch=86400.0),
        make_letter(3, day="2026-03-20", finding_categories=["slogans", "symbols"], status="blocked",
                    blocked_reason="censor", writer_city=None, prisoner_id="p_2"),
        make_letter(4, day="2026-04-20", finding_categories=["slogans"], status="rejected", writer_country=None),
        make_letter(5, day="2026-03-21", status="failed", failed_reason="smtp", failed_epoch=500.0,
                    prisoner_id="p_demo_01"),
        make_letter(6, day="2026-03-22", status="failed", failed_reason="smtp", failed_epoch=300.0),
        make_letter(7, day="2026-03-22", status="held", held_kind="no_route"),
    ]


def replies(stored: list[dict]) -> list[dict]:
    by_id = {doc["_id"]: doc for doc in stored}
    return [make_reply("r_1", by_id["l_1"]), make_reply("r_1", by_id["l_2"]), make_reply("r_2", by_id["l_2"]),
            make_reply("r_3", by_id["l_4"])]


@pytest.fixture(params=["fake", "mongodb"])
async def queries(request, db):
    stored = letters()
    if request.param == "fake":
        return FakeResultsQueries(stored, DIRECTORY, EVENTS, replies(stored))
    real = ResultsQueries(db)
    await real.ensure_indexes()
    await db["letters"].insert_many(stored)
    await db["letter_replies"].insert_many(replies(stored))
    await db["prisoners"].insert_many(DIRECTORY)
    await db["campaign_events"].insert_many(EVENTS)
    return real


async def test_the_repository_and_its_fake_answer_alike(queries):
    assert await queries.note_handover_delays() == 2
    assert await queries.note_handover_delays() == 0
    not_demo = {"$nin": ["p_demo_01"]}
    kyiv, no_city = stored_place("Kyiv", "UA", None), stored_place(None, "UA", None)
    assert await queries.count_by("place", {"written_day": MARCH, "prisoner_id": not_demo}) == {
        kyiv: 3, no_city: 1, stored_place("Kyiv", "UA", "e_1"): 1}
    assert await queries.count_by("campaign_event_id", {}) == {None: 6, "e_1": 1}
    assert await queries.count_present("campaign_event_id", {}) == {"e_1": 1}
    assert await queries.count_present("blocked_reason", {"written_day": MARCH}) == {"censor": 1}
    assert await queries.count_present("failed_reason", {"written_day": MARCH, "status": "failed",
                                                         "prisoner_id": not_demo}) == {"smtp": 1}
    assert await queries.count_by("held_kind", {"written_day": MARCH, "status": "held"}) == {"no_route": 1}
    assert await queries.typed_by_channel({"written_day": MARCH}) == {"web": 5}
    assert await queries.count_by("prisoner_id", {"written_day": MARCH, "campaign_event_id": "e_1"}) == {"p_1": 1}
    assert await queries.count_present("reached_prisoner", {"written_day": MARCH}) == {"p_1": 2}
    assert await queries.by_category_combination({}) == {("handwritten",): 1, ("slogans", "symbols"): 1,
                                                          ("slogans",): 1}
    assert await queries.handover_count({"written_day": MARCH}) == 2
    assert await queries.handover_delays_at({"written_day": MARCH}, 0, 2) == [86400.0, 3 * 86400.0]
    assert await queries.handover_delays_at({"written_day": MARCH}, 1, 2) == [3 * 86400.0]
    assert await queries.distinct_replies({"written_day": MARCH, "prisoner_id": not_demo}) == 2
    assert await queries.distinct_replies({"campaign_event_id": "e_1"}) == 2
    assert await queries.any_letter_to(["p_nobody", "p_demo_01"]) and not await queries.any_letter_to(["p_nobody"])
    assert await queries.oldest_failure({"written_day": MARCH}) == 300.0
    assert await queries.oldest_failure({"written_day": MARCH, "prisoner_id": {"$nin": ["p_1"]}}) == 500.0
    assert [p["_id"] for p in await queries.prisoners()] == ["p_1", "p_2"]
    assert [e["_id"] for e in await queries.campaign_events()] == ["e_1"]


async def test_letters_stored_before_the_written_day_get_it_and_their_place_from_the_receipt(db):
    await db["letters"].insert_many([
        {"_id": "old", "submitted_day": "2025-05-01", "submitted_epoch": 7.0, "writer_city": "Київ",
         "writer_country": None, "campaign_event_id": "e_1", "prisoner_id": "p_1"},
        make_letter(1, day="2026-03-02")])
    await ResultsQueries(db).ensure_indexes()
    old = await db["letters"].find_one({"_id": "old"})
    assert (old["written_day"], old["written_epoch"], old["place"]) == ("2025-05-01", 7.0,
                                                                        stored_place("Київ", None, "e_1"))
    assert await ResultsQueries(db).note_written_days() == 0


async def test_letters_that_reached_their_prisoner_before_reached_prisoner_existed_get_it_once(db):
    await db["letters"].insert_many([
        {"_id": "a", "written_day": "2026-03-02", "prisoner_id": "p_1", "status": "handed_over"},
        {"_id": "b", "written_day": "2026-03-02", "prisoner_id": "p_2", "status": "answered"},
        {"_id": "c", "written_day": "2026-03-02", "prisoner_id": "p_3", "status": "blocked"}])
    queries = ResultsQueries(db)
    await queries.ensure_indexes()
    assert await queries.count_present("reached_prisoner", {"written_day": MARCH}) == {"p_1": 1, "p_2": 1}
    assert await queries.note_reached_prisoners() == 0
