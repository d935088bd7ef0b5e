"""The MongoDB operations the campaign's results rely on, against whichever server is active.

Each pipeline stage and operator services/intake/results/queries.py uses is pinned here, so a
backend that evaluates one differently (nx-27017 is not MongoDB) fails with the operation's name.
The repository itself is then checked against the in-memory fake the unit tests use.

Avoided, because nx-27017 evaluates them differently from MongoDB or falls back to reading
every document: `$group` on a compound `_id` (returned unevaluated), `$median` and `$percentile`
(silently absent), `$sum` of a `$cond` (0), array-membership equality (no match), `$ne: []` and
`"field.0": {$exists}` (wrong), `$not` (not implemented), `$project` of computed values,
`$sort`/`$skip` inside aggregate, and a `find` whose filter holds a time (nx-27017 then reads every
matching letter and sorts, skips and limits in Python; an aggregation's `$match` with the same filter
stays in SQL).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from pymongo import ASCENDING, UpdateOne

from services.intake.results.places import stored_place
from services.intake.results.queries import SINCE_EVER, ResultsQueries, _as_list
from services.intake.results.report import period_match
from shared.mongo import read_time, stored_time, stored_times
from tests.unit.results.fakes import FakeResultsQueries, make_letter, make_reply, noon

pytestmark = pytest.mark.contract

# The period as the report asks for it: a range of the time a letter counts at (datetimes, as the fake reads it).
MARCH = period_match(date(2026, 3, 1), date(2026, 3, 31))
MARCH_DAYS = period_match(date(2026, 3, 1), date(2026, 3, 31), as_days=True)


def march() -> dict:
    """March as a range of stored times, for the operations below (stored_time's form depends on the server)."""
    return stored_times(MARCH["counted_at"])


def at(day: str, **later) -> datetime | str:
    """A letter's time on `day` (noon, or midnight plus `later`) as intake stores it."""
    return stored_time(noon(day).replace(hour=0) + timedelta(**later) if later else noon(day))


async def group(collection, field: str, match: dict) -> dict:
    pipeline = ([{"$match": match}] if match else []) + [{"$group": {"_id": f"${field}", "n": {"$sum": 1}}}]
    return {row["_id"]: row["n"] async for row in await collection.aggregate(pipeline)}


async def test_a_range_of_times_selects_the_period_to_the_millisecond_and_a_group_counts_one_field(db):
    await db.c.create_index([("city", ASCENDING), ("at", ASCENDING)])
    await db.c.insert_many([{"_id": "1", "at": at("2026-03-01", hours=0), "city": "Kyiv"},
                            {"_id": "2", "at": at("2026-03-31", hours=24, milliseconds=-1), "city": "Kyiv"},
                            {"_id": "3", "at": at("2026-03-15"), "city": None},
                            {"_id": "4", "at": at("2026-03-16")},
                            {"_id": "5", "at": at("2026-04-01", hours=0), "city": "Lviv"},
                            {"_id": "6", "at": at("2026-02-28", hours=24, milliseconds=-1), "city": "Kyiv"},
                            {"_id": "7", "city": "Kyiv"}])
    assert await group(db.c, "city", {"at": march()}) == {"Kyiv": 2, None: 2}
    assert await group(db.c, "city", {}) == {"Kyiv": 4, None: 2, "Lviv": 1}


async def test_a_range_of_times_counts_by_day_along_the_day_and_time_index(db):
    await db.c.create_index([("day", ASCENDING), ("at", ASCENDING)])
    await db.c.insert_many([{"_id": str(n), "day": f"2026-03-{1 + n % 3:02d}", "at": at(f"2026-03-{1 + n % 3:02d}")}
                            for n in range(7)] + [{"_id": "x", "day": "2026-02-28", "at": at("2026-02-28")},
                                                  {"_id": "y", "day": "2026-04-01", "at": at("2026-04-01")}])
    rows = await group(db.c, "day", {"at": march()})
    assert rows == {"2026-03-01": 3, "2026-03-02": 2, "2026-03-03": 2}


async def test_a_range_of_day_strings_selects_the_replies_of_the_period(db):
    await db.c.create_index([("reply", ASCENDING), ("written_day", ASCENDING)])
    await db.c.insert_many([{"_id": "1", "reply": "r_1", "written_day": "2026-03-01"},
                            {"_id": "2", "reply": "r_1", "written_day": "2026-03-31"},
                            {"_id": "3", "reply": "r_2", "written_day": "2026-04-01"},
                            {"_id": "4", "reply": "r_3", "written_day": "2026-02-28"}])
    assert await group(db.c, "reply", MARCH_DAYS) == {"r_1": 2}


async def test_size_zero_finds_letters_without_photographed_pages_within_the_period(db):
    await db.c.create_index([("channel", ASCENDING), ("page_keys", ASCENDING), ("at", ASCENDING)])
    await db.c.insert_many([{"_id": "1", "at": at("2026-03-02"), "channel": "web", "page_keys": []},
                            {"_id": "2", "at": at("2026-03-02"), "channel": "web", "page_keys": ["pages/a.jpg"]},
                            {"_id": "3", "at": at("2026-03-02"), "channel": "kiosk", "page_keys": []},
                            {"_id": "4", "at": at("2026-03-02"), "channel": "kiosk", "page_keys": ["a", "b"]},
                            {"_id": "5", "at": at("2026-05-02"), "channel": "web", "page_keys": []}])
    assert await group(db.c, "channel", {"at": march(), "page_keys": {"$size": 0}}) == {"web": 1, "kiosk": 1}


async def test_grouping_on_a_list_field_gives_one_group_per_distinct_list(db):
    await db.c.create_index([("cats", ASCENDING), ("at", ASCENDING)])
    await db.c.insert_many([{"_id": "1", "at": at("2026-03-02"), "cats": ["slogans", "symbols"]},
                            {"_id": "2", "at": at("2026-03-03"), "cats": ["slogans", "symbols"]},
                            {"_id": "3", "at": at("2026-03-04"), "cats": ["slogans"]},
                            {"_id": "4", "at": at("2026-03-05"), "cats": []},
                            {"_id": "5", "at": at("2026-03-06")}])
    rows = await group(db.c, "cats", {"at": march()})
    # MongoDB answers with the lists, nx-27017 with their JSON text: _as_list reads both.
    assert sorted((tuple(_as_list(key)), n) for key, n in rows.items()) == [
        ((), 1), ((), 1), (("slogans",), 1), (("slogans", "symbols"), 2)]
    # Only letters with categories: MongoDB compares the elements, nx-27017 the list's text (so [] too).
    present = await group(db.c, "cats", {"at": march(), "cats": {"$gte": ""}})
    assert {tuple(_as_list(key)): n for key, n in present.items() if _as_list(key)} == {
        ("slogans",): 1, ("slogans", "symbols"): 2}


async def test_equality_on_the_event_combines_with_the_period(db):
    await db.c.insert_many([{"_id": "1", "at": at("2026-03-02"), "event": "e_1", "p": "a"},
                            {"_id": "2", "at": at("2026-03-02"), "event": "e_2", "p": "a"},
                            {"_id": "3", "at": at("2026-04-02"), "event": "e_1", "p": "b"}])
    await db.c.create_index([("event", ASCENDING)])
    assert await group(db.c, "p", {"at": march(), "event": "e_1"}) == {"a": 1}


async def test_gte_empty_text_selects_the_letters_that_have_a_text_in_a_field(db):
    await db.c.create_index([("reason", ASCENDING), ("at", ASCENDING)])
    await db.c.insert_many([{"_id": "1", "at": at("2026-03-02"), "reason": "censor"},
                            {"_id": "2", "at": at("2026-03-03"), "reason": "censor"},
                            {"_id": "3", "at": at("2026-03-04"), "reason": None},
                            {"_id": "4", "at": at("2026-03-05")},
                            {"_id": "5", "at": at("2026-04-05"), "reason": "moved"}])
    assert await group(db.c, "reason", {"at": march(), "reason": {"$gte": ""}}) == {"censor": 2}


async def test_a_group_on_null_counts_the_matching_documents_and_nothing_when_none_match(db):
    await db.c.insert_many([{"_id": str(n), "at": at("2026-03-02"), "delay": float(n)} for n in range(3)])
    rows = [r async for r in await db.c.aggregate([{"$match": {"at": march(), "delay": {"$gte": 0}}},
                                                   {"$group": {"_id": None, "n": {"$sum": 1}}}])]
    assert rows == [{"_id": None, "n": 3}]
    long_ago = stored_times(period_match(date(1999, 1, 1), date(1999, 12, 31))["counted_at"])
    none = [r async for r in await db.c.aggregate([{"$match": {"at": long_ago}},
                                                   {"$group": {"_id": None, "n": {"$sum": 1}}}])]
    # MongoDB answers with no row, nx-27017 with a row counting 0: the code reads both as 0.
    assert sum(row["n"] for row in none) == 0


async def test_a_find_without_a_time_finds_letters_lacking_a_field_up_to_a_limit(db):
    await db.c.create_index([("delay", ASCENDING), ("at", ASCENDING)])
    await db.c.insert_many([{"_id": "a", "delay": 7300.0}, {"_id": "b", "delay": 10.0, "hours": 0},
                            {"_id": "c", "delay": None}, {"_id": "d"}, {"_id": "e", "delay": 0.0}])
    found = [d async for d in db.c.find({"delay": {"$gte": 0}, "hours": None}, {"delay": 1}).limit(10)]
    assert sorted((d["_id"], d["delay"]) for d in found) == [("a", 7300.0), ("e", 0.0)]
    assert len([d async for d in db.c.find({"delay": {"$gte": 0}, "hours": None}).limit(1)]) == 1


async def test_letters_without_a_field_and_with_a_time_are_found_by_an_aggregation_and_updated_in_bulk(db):
    await db.c.insert_many([{"_id": "a", "handed": at("2026-03-05"), "at": at("2026-03-02")},
                            {"_id": "b", "handed": at("2026-03-09"), "at": at("2026-03-02"), "after": 70.0},
                            {"_id": "c", "handed": None, "at": at("2026-03-02")},
                            {"_id": "d", "at": at("2026-03-02")},
                            {"_id": "e", "handed": at("2026-03-06"), "at": at("2026-03-02")}])
    await db.c.create_index([("after", ASCENDING), ("handed", ASCENDING), ("at", ASCENDING)])
    # Any time at all: the lower bound the results use leaves out the letters without one.
    ever = {"after": None, "handed": {"$gte": stored_time(SINCE_EVER)}}
    found = [d async for d in await db.c.aggregate([{"$match": ever}, {"$limit": 1}])]
    assert len(found) == 1 and found[0]["_id"] in {"a", "e"}
    found = [d async for d in await db.c.aggregate([{"$match": ever}, {"$limit": 10}])]
    assert sorted((d["_id"], read_time(d["handed"]) - read_time(d["at"])) for d in found) == [
        ("a", timedelta(days=3)), ("e", timedelta(days=4))]
    await db.c.bulk_write([UpdateOne({"_id": d["_id"]}, {"$set": {"after": 1.0}}) for d in found], ordered=False)
    assert [d async for d in await db.c.aggregate([{"$match": ever}, {"$limit": 10}])] == []


async def test_a_group_on_a_time_gives_times_that_read_back_as_they_were_written(db):
    await db.c.insert_many([{"_id": "1", "at": at("2026-03-02"), "failed": at("2026-03-04", hours=7), "s": "failed"},
                            {"_id": "2", "at": at("2026-03-03"), "failed": at("2026-03-04", hours=9), "s": "failed"},
                            {"_id": "3", "at": at("2026-03-03"), "failed": at("2026-03-04", hours=9), "s": "failed"},
                            {"_id": "4", "at": at("2026-03-03"), "failed": at("2026-03-01"), "s": "queued"},
                            {"_id": "5", "at": at("2026-03-03"), "s": "failed"}])
    await db.c.create_index([("failed", ASCENDING), ("at", ASCENDING)])
    rows = await group(db.c, "failed", {"at": march(), "s": "failed"})
    assert {None if t is None else read_time(t): n for t, n in rows.items()} == {
        noon("2026-03-04").replace(hour=7): 1, noon("2026-03-04").replace(hour=9): 2, None: 1}


async def test_the_indexes_are_made_once_and_again_without_error(db):
    queries = ResultsQueries(db)
    await queries.ensure_indexes()
    await queries.ensure_indexes()  # at every start


async def test_the_letters_indexes_on_the_written_day_without_the_time_counted_are_dropped_at_start(db):
    # As a deployment has them from before the period was a range of times.
    for keys in ([("written_day", ASCENDING)], [("place", ASCENDING), ("written_day", ASCENDING)],
                 [("channel", ASCENDING), ("page_keys", ASCENDING), ("written_day", ASCENDING)]):
        await db["letters"].create_index(keys)
    await ResultsQueries(db).ensure_indexes()
    indexes = [list(index["key"]) async for index in await db["letters"].list_indexes()]
    assert [keys for keys in indexes if "written_day" in keys] == [["written_day", "counted_at"]]
    assert ["place", "counted_at"] in indexes and ["channel", "page_keys", "counted_at"] in indexes


DIRECTORY = [{"_id": "p_1", "names": {"uk": "А", "en": "A"}, "status": "detained", "birthday": "1985-03-14"},
             {"_id": "p_2", "names": {"uk": "Б", "en": "B"}, "status": "released", "birthday": None}]
EVENTS = [{"_id": "e_1", "name": "Fair", "city": "Kyiv", "country": "UA", "starts_on": "2026-03-01"}]


WRITTEN = noon("2026-03-02")
FIRST_FAILURE = noon("2026-03-23")


def letters() -> list[dict]:
    return [
        make_letter(1, day="2026-03-02", moderation="auto", status="handed_over",
                    handed_over_at=WRITTEN + timedelta(days=3)),
        make_letter(2, day="2026-03-02", channel="kiosk", campaign_event_id="e_1", page_keys=["pages/a.jpg"],
                    finding_categories=["handwritten"], moderation="approved", status="answered",
                    handed_over_at=WRITTEN + timedelta(days=1)),
        make_letter(3, day="2026-03-20", finding_categories=["slogans", "symbols"], status="blocked",
                    blocked_reason="censor", writer_city=None, prisoner_id="p_2"),
        make_letter(4, day="2026-04-20", finding_categories=["slogans"], status="rejected", writer_country=None),
        make_letter(5, day="2026-03-21", status="failed", failed_reason="smtp",
                    failed_at=FIRST_FAILURE + timedelta(seconds=200),
                    prisoner_id="p_demo_01"),
        make_letter(6, day="2026-03-22", status="failed", failed_reason="smtp", failed_at=FIRST_FAILURE),
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
    # Times as intake writes them.
    await db["letters"].insert_many([stored_times(doc) for doc in stored])
    await db["letter_replies"].insert_many([stored_times(doc) for doc in replies(stored)])
    await db["prisoners"].insert_many(DIRECTORY)
    await db["campaign_events"].insert_many(EVENTS)
    return real


async def test_the_repository_and_its_fake_answer_alike(queries):
    assert await queries.note_handover_delays() == 2
    assert await queries.note_handover_delays() == 0
    not_demo = {"$nin": ["p_demo_01"]}
    kyiv, no_city = stored_place("Kyiv", "UA", None), stored_place(None, "UA", None)
    assert await queries.count_by("place", {**MARCH, "prisoner_id": not_demo}) == {
        kyiv: 3, no_city: 1, stored_place("Kyiv", "UA", "e_1"): 1}
    assert await queries.count_by("campaign_event_id", {}) == {None: 6, "e_1": 1}
    assert await queries.count_present("campaign_event_id", {}) == {"e_1": 1}
    assert await queries.count_present("blocked_reason", MARCH) == {"censor": 1}
    assert await queries.count_present("failed_reason", {**MARCH, "status": "failed",
                                                         "prisoner_id": not_demo}) == {"smtp": 1}
    assert await queries.count_by("held_kind", {**MARCH, "status": "held"}) == {"no_route": 1}
    assert await queries.typed_by_channel(MARCH) == {"web": 5}
    assert await queries.count_by("prisoner_id", {**MARCH, "campaign_event_id": "e_1"}) == {"p_1": 1}
    assert await queries.count_present("reached_prisoner", MARCH) == {"p_1": 2}
    assert await queries.by_category_combination({}) == {("handwritten",): 1, ("slogans", "symbols"): 1,
                                                          ("slogans",): 1}
    assert await queries.handover_count(MARCH) == 2
    assert await queries.handover_delays_at(MARCH, 0, 2) == [86400.0, 3 * 86400.0]
    assert await queries.handover_delays_at(MARCH, 1, 2) == [3 * 86400.0]
    assert await queries.distinct_replies({**MARCH_DAYS, "prisoner_id": not_demo}) == 2
    assert await queries.distinct_replies({"campaign_event_id": "e_1"}) == 2
    assert await queries.any_letter_to(["p_nobody", "p_demo_01"]) and not await queries.any_letter_to(["p_nobody"])
    assert await queries.oldest_failure(MARCH) == FIRST_FAILURE
    assert await queries.oldest_failure({**MARCH, "prisoner_id": {"$nin": ["p_1"]}}) == FIRST_FAILURE + timedelta(
        seconds=200)
    assert [p["_id"] for p in await queries.prisoners()] == ["p_1", "p_2"]
    assert [e["_id"] for e in await queries.campaign_events()] == ["e_1"]


async def test_letters_stored_before_the_written_day_get_it_and_their_place_from_the_receipt(db):
    await db["letters"].insert_many([
        {"_id": "old", "submitted_day": "2025-05-01", "submitted_at": at("2025-05-01"), "writer_city": "Київ",
         "writer_country": None, "campaign_event_id": "e_1", "prisoner_id": "p_1"},
        stored_times(make_letter(1, day="2026-03-02"))])
    await ResultsQueries(db).ensure_indexes()
    old = await db["letters"].find_one({"_id": "old"})
    assert (old["written_day"], read_time(old["counted_at"]), old["place"]) == (
        "2025-05-01", noon("2025-05-01"), stored_place("Київ", None, "e_1"))
    assert await ResultsQueries(db).note_written_days() == 0


async def test_letters_that_reached_their_prisoner_before_reached_prisoner_existed_get_it_once(db):
    await db["letters"].insert_many([
        {"_id": "a", "written_day": "2026-03-02", "counted_at": at("2026-03-02"), "prisoner_id": "p_1",
         "status": "handed_over"},
        {"_id": "b", "written_day": "2026-03-02", "counted_at": at("2026-03-02"), "prisoner_id": "p_2",
         "status": "answered"},
        {"_id": "c", "written_day": "2026-03-02", "counted_at": at("2026-03-02"), "prisoner_id": "p_3",
         "status": "blocked"}])
    queries = ResultsQueries(db)
    await queries.ensure_indexes()
    assert await queries.count_present("reached_prisoner", MARCH) == {"p_1": 1, "p_2": 1}
    assert await queries.note_reached_prisoners() == 0


async def test_the_delays_at_each_rank_are_the_sorted_delays_of_the_period(db):
    # Several letters within one hour of delay, hours with none, and one letter of another month.
    seconds = [60.0, 1800.0, 1799.5, 3600.0, 3 * 3600 + 5, 3 * 3600 + 1, 50 * 3600.0, 10.0]
    written = noon("2026-03-02")
    stored = [make_letter(n, day="2026-03-02", status="handed_over", handed_over_at=written + timedelta(seconds=s))
              for n, s in enumerate(seconds)]
    stored.append(make_letter(99, day="2026-04-02", status="handed_over",
                              handed_over_at=noon("2026-04-02") + timedelta(seconds=30)))
    queries = ResultsQueries(db)
    await queries.ensure_indexes()
    await db["letters"].insert_many([stored_times(doc) for doc in stored])
    assert await queries.note_handover_delays() == len(stored)
    ordered = sorted(seconds)
    for skip in range(len(seconds) + 1):
        assert await queries.handover_delays_at(MARCH, skip, 2) == ordered[skip:skip + 2]


async def test_delays_noted_before_their_hours_were_kept_get_their_hours_at_start(db):
    await db["letters"].insert_many([{**stored_times(make_letter(1)), "handed_over_after_s": 7300.0},
                                     {**stored_times(make_letter(2)), "handed_over_after_s": 10.0}])
    await ResultsQueries(db).ensure_indexes()
    assert [d["handed_over_after_h"] async for d in db["letters"].find({}).sort("_id", ASCENDING)] == [2, 0]
    assert await ResultsQueries(db).note_delay_hours() == 0
