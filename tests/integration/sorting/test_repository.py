"""Sorting's repositories: the same tests over the in-memory fakes and the MongoDB adapters, so the
fakes the unit tests rely on cannot drift from what MongoDB (or nx-27017) really does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from services.sorting.adapters import MongoDecisions, MongoSortedLetters
from services.sorting.ports import QueueFilter
from shared.mongo import make_client
from shared.s3 import StoredObject
from tests.unit.sorting.fakes import MemoryDecisions, MemorySortedLetters

pytestmark = pytest.mark.integration

SCAN = StoredObject("scans/x.pdf", "ab" * 32, 1234)


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
        "rules_version": "1", **overrides,
    }


async def test_registering_twice_keeps_the_first_record_and_its_scan_key(stores):
    letters, _ = stores
    first = await letters.register(facts("l_1"))
    again = await letters.register(facts("l_1", body="другое"))
    assert again["scan_key"] == first["scan_key"] and again["body"] == "Слава Украине!"
    assert again["state"] == "received" and again["revision"] == 0
    assert again["submitted_at"] == datetime(2026, 11, 29, 12, tzinfo=UTC)


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
    assert await letters.mark_ready("l_1", "approved", SCAN, 1)
    assert not await letters.mark_ready("l_1", "approved", SCAN, 1)
    letter = await letters.get("l_1")
    assert (letter["state"], letter["decided_by"], letter["scan_sha256"], letter["pages"]) == ("ready", "m", SCAN.sha256, 1)


async def test_redaction_moves_the_revision_and_a_stale_one_is_refused(stores):
    letters, _ = stores
    await letters.register(facts("l_1"))
    await letters.mark_review_needed("l_1")
    clean = {"categories": [], "language_flag": False, "clean": True, "rules_version": "1"}
    assert await letters.mark_redacted("l_1", 0, "[…]!", clean, "m")
    assert not await letters.mark_redacted("l_1", 0, "again", clean, "m")
    letter = await letters.get("l_1")
    assert (letter["text"], letter["body"], letter["revision"], letter["categories"], letter["clean"]) == \
        ("[…]!", "Слава Украине!", 1, [], True)


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


async def test_stalled_approvals_are_found_by_when_they_were_decided(stores):
    letters, _ = stores
    for letter_id in ("l_1", "l_2"):
        await letters.register(facts(letter_id))
        await letters.mark_review_needed(letter_id)
    await letters.mark_approved("l_1", "m")
    assert await letters.stalled_approvals(decided_before_epoch=0, limit=10) == []
    assert await letters.stalled_approvals(decided_before_epoch=4_000_000_000, limit=10) == ["l_1"]


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
