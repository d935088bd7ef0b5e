"""Sorting's repositories: the same tests over the in-memory fakes and the MongoDB adapters, so the
fakes the unit tests rely on cannot drift from what MongoDB (or nx-27017) really does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from services.sorting.adapters import MongoDecisions, MongoSortedLetters
from services.sorting.ports import QueueFilter
from shared.mongo import make_client
from shared.s3 import StoredObject
from tests.unit.sorting.fakes import MemoryDecisions, MemorySortedLetters

pytestmark = pytest.mark.integration

SCAN = StoredObject("scans/x.pdf", "ab" * 32, 1234)
T0 = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    """A time `seconds` after T0: the approval windows the tests set are counted from there."""
    return T0 + timedelta(seconds=seconds)


@pytest.fixture(params=["memory", "mongodb"])
async def stores(request, infra) -> AsyncIterator[tuple]:
    if request.param == "memory":
        yield MemorySortedLetters(), MemoryDecisions()
        return
    client = make_client(infra.mongodb_url)
    db = client[f"{infra.namespace}-sorting-repo-{request.node.name[:30]}"]
    letters, decisions = MongoSortedLetters(db), MongoDecisions(db)
    await letters.ensure_indexes()
    await decisions.ensure_indexes()
    yield letters, decisions
    await client.drop_database(db.name)
    await client.close()


def facts(letter_id: str, **overrides) -> dict:
    return {
        "letter_id": letter_id, "prisoner_id": "p_1", "prisoner_name_ru": "Ремзи Демо", "prisoner_status": "detained",
        "body": "Слава Украине!", "text": "Слава Украине!", "page_keys": [], "channel": "web",
        "campaign_event_id": None, "writer_first_name": "Ayşe", "writer_city": "Полтава",
        "submitted_at": datetime(2026, 11, 29, 12, tzinfo=UTC), "handwritten": False,
        "review_reasons": ["findings"], "categories": ["slogans"], "language_flag": False, "clean": False,
        "block": True, "lane": "careful", "rules_version": "1", **overrides,
    }


async def test_registering_twice_keeps_the_first_record_and_its_scan_key(stores):
    letters, _ = stores
    first = await letters.register(facts("l_1"))
    again = await letters.register(facts("l_1", body="другое"))
    assert again["scan_key"] == first["scan_key"] and again["body"] == "Слава Украине!"
    assert again["state"] == "received" and again["revision"] == 0
    assert again["submitted_at"] == datetime(2026, 11, 29, 12, tzinfo=UTC)


async def test_a_first_registration_returns_the_letter_exactly_as_stored_without_reading_it_back(stores):
    letters, _ = stores
    first = await letters.register(facts("l_1"))
    assert first == await letters.get("l_1")


async def test_each_transition_happens_once_and_only_from_the_expected_state(stores):
    letters, _ = stores
    await letters.register(facts("l_1"))
    assert not await letters.mark_approved("l_1", "m")  # not in review yet
    assert await letters.mark_review_needed("l_1")
    assert not await letters.mark_review_needed("l_1")
    assert not await letters.mark_approved("l_1", "m", revision=3)
    assert await letters.mark_approved("l_1", "m", revision=0)
    assert not await letters.mark_rejected("l_1", "other", "too late")
    assert not await letters.mark_ready("l_1", "received", SCAN, 1)
    assert not await letters.mark_ready("l_1", "approved", SCAN, 1), "not this letter's scan key"
    scan = StoredObject((await letters.get("l_1"))["scan_key"], SCAN.sha256, SCAN.size)
    assert await letters.mark_ready("l_1", "approved", scan, 1)
    assert not await letters.mark_ready("l_1", "approved", scan, 1)
    letter = await letters.get("l_1")
    assert (letter["state"], letter["decided_by"], letter["scan_sha256"], letter["pages"]) == ("ready", "m", SCAN.sha256, 1)
    # Each move is stamped, and read back as a time whatever form the server keeps it in.
    stamps = [letter[name] for name in ("received_at", "review_needed_at", "approved_at", "decided_at", "ready_at")]
    assert all(isinstance(stamp, datetime) and stamp.tzinfo is not None for stamp in stamps)
    assert stamps == sorted(stamps)


async def test_redaction_moves_the_revision_and_a_stale_one_is_refused(stores):
    letters, _ = stores
    await letters.register(facts("l_1"))
    await letters.mark_review_needed("l_1")
    clean = {"categories": [], "language_flag": False, "clean": True, "rules_version": "1", "lane": "fast"}
    assert await letters.mark_redacted("l_1", 0, {"text": "[…]!", **clean}, "m")
    assert not await letters.mark_redacted("l_1", 0, {"text": "again", **clean}, "m")
    assert await letters.mark_redacted("l_1", 1, {"printed_writer_city": None}, "m")
    letter = await letters.get("l_1")
    assert (letter["text"], letter["body"], letter["revision"], letter["categories"], letter["clean"]) == \
        ("[…]!", "Слава Украине!", 2, [], True)
    assert (letter["printed_writer_city"], letter["writer_city"], letter["lane"]) == (None, "Полтава", "fast")


async def test_queue_is_oldest_first_filtered_and_faceted(stores):
    letters, _ = stores
    for letter_id, overrides in [("l_a", {}), ("l_b", {"prisoner_id": "p_2", "prisoner_name_ru": "Сервер Пример",
                                                       "campaign_event_id": "e_fair"}),
                                 ("l_c", {"language_flag": True}), ("l_d", {})]:
        await letters.register(facts(letter_id, **overrides))
        await letters.mark_review_needed(letter_id)
    await letters.mark_rejected("l_d", "m", "no")

    total, waiting = await letters.queue(QueueFilter(), 2)
    assert total == 3 and [w["_id"] for w in waiting] == ["l_a", "l_b"]
    assert [w["_id"] for w in (await letters.queue(QueueFilter(prisoner_id="p_1"), 10))[1]] == ["l_a", "l_c"]
    assert [w["_id"] for w in (await letters.queue(QueueFilter(campaign_event_id="e_fair"), 10))[1]] == ["l_b"]
    assert [w["_id"] for w in (await letters.queue(QueueFilter(language_flag=False), 10))[1]] == ["l_a", "l_b"]
    assert await letters.queue_facets() == {
        "prisoners": [{"id": "p_1", "name": "Ремзи Демо", "count": 2}, {"id": "p_2", "name": "Сервер Пример", "count": 1}],
        "campaign_events": [{"id": "e_fair", "count": 1}],
    }


async def test_approvals_are_released_when_due_and_listed_while_they_can_be_undone(stores):
    letters, _ = stores
    for letter_id in ("l_1", "l_2", "l_3"):
        await letters.register(facts(letter_id))
        await letters.mark_review_needed(letter_id)
    await letters.mark_approved("l_1", "m", 0, {"undo_until": at(1600), "release_at": at(1600), "round": 0})
    await letters.mark_approved("l_2", "m", 0, {"undo_until": at(1500), "release_at": at(1500), "round": 0})
    assert await letters.due_releases(now=at(1400), limit=10) == []
    assert await letters.due_releases(now=at(1550), limit=10) == ["l_2"]
    assert await letters.due_releases(now=at(1700), limit=10) == ["l_2", "l_1"]
    waiting = await letters.awaiting_release(now=at(1400), limit=10)
    assert [(w["_id"], w["undo_until"]) for w in waiting] == [("l_2", at(1500)), ("l_1", at(1600))]
    assert [w["_id"] for w in await letters.awaiting_release(now=at(1550), limit=10)] == ["l_1"]


async def test_an_approval_is_undone_once_only_inside_its_window_and_gets_a_new_scan_key(stores):
    letters, _ = stores
    await letters.register(facts("l_1"))
    await letters.mark_review_needed("l_1")
    assert not await letters.mark_undone("l_1", "m", 0, now=at(1000)), "not approved"
    await letters.mark_approved("l_1", "m", 0, {"undo_until": at(1600), "release_at": at(1600), "round": 0})
    before = await letters.get("l_1")
    assert not await letters.mark_undone("l_1", "m", 0, now=at(1600)), "the window is over"
    assert not await letters.mark_undone("l_1", "m", 1, now=at(1000)), "another round"
    assert await letters.mark_undone("l_1", "taras", 0, now=at(1599.999))
    assert not await letters.mark_undone("l_1", "taras", 0, now=at(1599))
    letter = await letters.get("l_1")
    assert (letter["state"], letter["round"], letter["undone_by"]) == ("review_needed", 1, "taras")
    assert letter["scan_key"] != before["scan_key"]
    assert await letters.mark_approved("l_1", "m", 0, {"undo_until": at(2600), "round": 1})


async def test_a_first_of_two_approvals_is_kept_only_for_the_revision_it_was_given_for(stores):
    letters, _ = stores
    await letters.register(facts("l_1"))
    await letters.mark_review_needed("l_1")
    assert not await letters.mark_first_approval("l_1", "anna", 1, 0)
    assert await letters.mark_first_approval("l_1", "anna", 0, 0)
    letter = await letters.get("l_1")
    assert (letter["state"], letter["first_approved_by"], letter["first_approved_revision"],
            letter["first_approved_round"]) == ("review_needed", "anna", 0, 0)


async def test_lanes_filter_the_queue_and_are_counted_with_the_other_filters(stores):
    letters, _ = stores
    for letter_id, overrides in [("l_a", {"lane": "fast"}), ("l_b", {}), ("l_c", {"lane": "fast", "prisoner_id": "p_2"}),
                                 ("l_old", {"lane": None})]:
        registered = facts(letter_id, **overrides)
        if registered["lane"] is None:
            del registered["lane"]
        await letters.register(registered)
        await letters.mark_review_needed(letter_id)
    assert [w["_id"] for w in (await letters.queue(QueueFilter(lane="fast"), 10))[1]] == ["l_a", "l_c"]
    # A letter without a lane (registered before lanes existed) is read carefully.
    assert [w["_id"] for w in (await letters.queue(QueueFilter(lane="careful"), 10))[1]] == ["l_b", "l_old"]
    assert await letters.lane_counts(QueueFilter()) == {"fast": 2, "careful": 2}
    assert await letters.lane_counts(QueueFilter(prisoner_id="p_1")) == {"fast": 1, "careful": 2}


async def test_recent_decisions_are_the_latest_comparable_ones_still_standing(stores):
    letters, _ = stores
    decisions = [("l_1", True, "rejected", True), ("l_2", False, "approved", True), ("l_3", False, "rejected", False),
                 ("l_4", True, "approved", True)]
    for n, (letter_id, flagged, outcome, comparable) in enumerate(decisions):
        await letters.register(facts(letter_id))
        await letters.mark_review_needed(letter_id)
        recorded = {"decided_flagged": flagged, "decided_outcome": outcome, "decided_comparable": comparable,
                    "decided_at": at(1000 + n), "undo_until": at(5000), "round": 0}
        if outcome == "rejected":
            await letters.mark_rejected(letter_id, "m", "нет", recorded)
        else:
            await letters.mark_approved(letter_id, "m", 0, recorded)
    await letters.mark_undone("l_2", "m", 0, now=at(2000))

    recent = await letters.recent_decisions(10)

    assert [(r["_id"], r["decided_flagged"], r["decided_outcome"]) for r in recent] == [
        ("l_4", True, "approved"), ("l_1", True, "rejected")]
    assert [r["_id"] for r in await letters.recent_decisions(1)] == ["l_4"]


async def test_history_is_insert_only_and_in_order(stores):
    _, decisions = stores
    assert await decisions.record("l_1", "screened", {"by": "sorting"})
    assert await decisions.record("l_1", "redacted:1", {"by": "m", "passage": "Слава Украине!"})
    assert await decisions.record("l_1", "approved", {"by": "m"})
    assert not await decisions.record("l_1", "approved", {"by": "someone else"})
    await decisions.record("l_2", "rejected", {"by": "m", "reason": "лозунги"})
    history = await decisions.history("l_1")
    assert [(h["decision"], h["by"]) for h in history] == [("screened", "sorting"), ("redacted", "m"), ("approved", "m")]
    assert history[1]["passage"] == "Слава Украине!" and history[0]["at"].tzinfo is not None


async def test_translation_moves_are_conditional_and_the_queue_is_oldest_first_by_language(stores):
    letters, _ = stores
    for letter_id, language in (("l_1", "de"), ("l_2", "uk"), ("l_3", "de")):
        await letters.register(facts(letter_id, source_language=language))
    assert await letters.mark_awaiting_translation("l_1", "received", {"translation_round": 1})
    assert not await letters.mark_awaiting_translation("l_1", "received", {"translation_round": 1})
    assert await letters.mark_awaiting_translation("l_2", "received", {"translation_round": 1})
    assert await letters.mark_review_needed("l_3")
    assert not await letters.mark_awaiting_translation("l_3", "review_needed", {"translation_round": 1}, revision=4)
    assert await letters.mark_awaiting_translation("l_3", "review_needed", {"translation_round": 1}, revision=0)

    total, german = await letters.translation_queue("de", 10)
    assert (total, [letter["_id"] for letter in german]) == (2, ["l_1", "l_3"])
    assert await letters.translation_counts() == {"de": 2, "uk": 1}

    assert not await letters.mark_translated("l_1", 2, {"text": "Привет!"})  # another round
    translation = {"text": "Привет!", "by": "t", "at": at(0), "round": 1}
    assert await letters.mark_translated("l_1", 1, {"text": "Привет!", "translation": translation})
    assert not await letters.mark_translated("l_1", 1, {"text": "Ещё раз"})
    translated = await letters.get("l_1")
    assert (translated["state"], translated["text"], translated["translation"]) == ("review_needed", "Привет!", translation)
    assert (await letters.translation_queue(None, 10))[0] == 2


async def test_the_sweeper_finds_letters_waiting_in_a_state_since_before_a_time(stores):
    letters, _ = stores
    await letters.register(facts("l_received"))
    await letters.register(facts("l_review"))
    assert await letters.mark_review_needed("l_review")
    later = datetime.now(UTC) + timedelta(seconds=5)
    assert [(total, [row[0] for row in rows]) for total, rows in [
        await letters.stalled("received", later, 10), await letters.stalled("review_needed", later, 10)]] == [
        (1, ["l_received"]), (1, ["l_review"])]
    (_, since), = (await letters.stalled("review_needed", later, 10))[1]
    assert since == (await letters.get("l_review"))["review_needed_at"] and since.tzinfo is not None
    assert await letters.stalled("review_needed", later - timedelta(hours=1), 10) == (0, [])


async def test_a_release_that_keeps_failing_is_parked_at_the_limit_and_unparked_once(stores):
    letters, _ = stores
    for letter_id in ("l_1", "l_2"):
        await letters.register(facts(letter_id))
        await letters.mark_review_needed(letter_id)
        await letters.mark_approved(letter_id, "m", 0, {"undo_until": at(1500), "release_at": at(1500),
                                                        "round": 0, "decided_at": at(1000)})
    assert [await letters.release_failed("l_1", "ValueError('page')", 3) for _ in range(3)] == [False, False, True]
    assert not await letters.release_failed("l_1", "ValueError('page')", 3)  # parked already: not again
    assert await letters.due_releases(now=at(1600), limit=10) == ["l_2"]
    (stuck,) = await letters.stuck_releases(10)
    assert (stuck["_id"], stuck["release_failures"], stuck["release_error"]) == ("l_1", 4, "ValueError('page')")
    assert not await letters.release_failed("l_9", "x", 3)  # no such approved letter

    assert await letters.unpark_release("l_1") and not await letters.unpark_release("l_1")
    assert await letters.stuck_releases(10) == []
    assert sorted(await letters.due_releases(now=at(1600), limit=10)) == ["l_1", "l_2"]


async def test_letters_stored_with_epoch_seconds_are_converted_at_start(infra):
    client = make_client(infra.mongodb_url)
    db = client[f"{infra.namespace}-sorting-repo-upgrade"]
    try:
        # A letter approved by the version that kept times as epoch seconds (those fields' names then).
        await db["letters"].insert_one({**facts("l_old"), "_id": "l_old", "state": "approved", "revision": 0, "round": 0,
                                        "scan_key": "scans/old.pdf", "received_epoch": at(0).timestamp(),
                                        "decided_epoch": at(10).timestamp(), "undo_until_epoch": at(610).timestamp(),
                                        "release_epoch": at(610).timestamp()})
        letters = MongoSortedLetters(db)
        await letters.ensure_indexes()
        letter = await letters.get("l_old")
        assert (letter["received_at"], letter["decided_at"], letter["undo_until"], letter["release_at"]) == (
            at(0), at(10), at(610), at(610))
        assert not any(name.endswith("_epoch") for name in letter)
        assert await letters.due_releases(now=at(611), limit=10) == ["l_old"]
        assert [w["_id"] for w in await letters.awaiting_release(now=at(600), limit=10)] == ["l_old"]
    finally:
        await client.drop_database(db.name)
        await client.close()
