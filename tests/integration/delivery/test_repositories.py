"""Delivery's repositories: the same tests against the in-memory fakes and the MongoDB adapters, so
the fakes the unit tests use cannot drift from what the database does. Then two workers at once,
on the real database: every letter in one bundle, every bundle sent once."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio

from services.delivery import bundling, sending, service
from services.delivery.adapters import MongoIntermediaries, MongoOutgoing, MongoPrisoners
from services.delivery.bundle_store import MongoBundles, MongoConfirmations, MongoReplies
from services.delivery.domain import LinkAnswer
from services.delivery.model import LONG_AGO, Bundle, OutgoingLetter, Prisoner, RouteStep
from shared.audit import AuditLog
from shared.events import utc_now
from shared.mongo import make_client
from tests.unit.delivery.factories import make_intermediary, make_ready, scan_pdf
from tests.unit.delivery.fakes import (
    Clock,
    MemoryBundles,
    MemoryConfirmations,
    MemoryIntermediaries,
    MemoryOutgoing,
    MemoryPrisoners,
    make_delivery,
)

pytestmark = pytest.mark.integration

EARLIER = datetime(2026, 12, 1, tzinfo=UTC)


def at(seconds: float) -> datetime:
    """A time `seconds` after a fixed moment in the past (whole milliseconds: what MongoDB keeps)."""
    return EARLIER + timedelta(seconds=seconds)


@dataclass
class Repositories:
    letters: object
    bundles: object
    confirmations: object
    prisoners: object
    intermediaries: object


@pytest_asyncio.fixture
async def database(infra):
    client = make_client(infra.mongodb_url)
    db = client[f"{infra.namespace}-repo-{uuid.uuid4().hex[:8]}"]
    yield db
    await client.drop_database(db.name)
    await client.close()


@pytest_asyncio.fixture(params=["memory", "mongodb"])
async def repos(request, database) -> Repositories:
    if request.param == "memory":
        return Repositories(MemoryOutgoing(Clock(utc_now())), MemoryBundles(), MemoryConfirmations(),
                            MemoryPrisoners(), MemoryIntermediaries())
    db = database
    letters = MongoOutgoing(db)
    await letters.ensure_indexes()
    return Repositories(letters, MongoBundles(db), MongoConfirmations(db), MongoPrisoners(db), MongoIntermediaries(db))


def letter(letter_id: str, queued_s: float, **facts) -> OutgoingLetter:
    return OutgoingLetter(id=letter_id, prisoner_id=facts.pop("prisoner_id", "p_1"), scan_key="scans/x.pdf",
                          scan_sha256="ab" * 32, pages=1, queued_at=at(queued_s), changed_at=at(queued_s), **facts)


def bundle(bundle_id: str, **facts) -> Bundle:
    return Bundle(**{"id": bundle_id, "intermediary_id": "i_1", "prisoner_id": "p_1", "channel": "email",
                     "pdf_key": "bundles/k/bundle.pdf", "manifest_key": "bundles/k/manifest.json",
                     "created_at": at(100), **facts})


async def test_a_letter_is_queued_once_and_moves_only_from_the_states_allowed(repos):
    assert await repos.letters.enqueue(letter("l_1", 10.0, intermediary_id="i_1"))
    assert not await repos.letters.enqueue(letter("l_1", 11.0))
    assert not await repos.letters.move("l_1", "sent", ["bundled"])
    assert not await repos.letters.move("l_1", "bundled", ["queued"], only_if={"intermediary_id": "i_2"})
    assert await repos.letters.move("l_1", "bundled", ["queued"], only_if={"intermediary_id": "i_1"}, bundle_id="b_1")
    assert not await repos.letters.move("l_1", "bundled", ["queued"], bundle_id="b_2")
    moved = await repos.letters.get("l_1")
    assert (moved.state, moved.bundle_id, moved.queued_at) == ("bundled", "b_1", at(10))
    assert await repos.letters.move("l_1", "sent", ["bundled"])
    assert (await repos.letters.get("l_1")).sent_at is not None


async def test_queued_letters_by_intermediary_oldest_first_with_their_load(repos):
    for number, (intermediary, state) in enumerate([("i_1", "queued"), ("i_2", "queued"), ("i_1", "queued"),
                                                    ("i_1", "held"), (None, "queued")]):
        await repos.letters.enqueue(letter(f"l_{number}", 100.0 - number, intermediary_id=intermediary, state=state))
    assert [x.id for x in await repos.letters.queued_for("i_1", 10)] == ["l_2", "l_0"]
    assert [x.id for x in await repos.letters.queued_for("i_1", 1)] == ["l_2"]
    assert await repos.letters.load(["i_1", "i_2", "i_3"]) == {"i_1": 2, "i_2": 1, "i_3": 0}
    assert await repos.letters.intermediaries_with_queued() == ["i_1", "i_2"]
    assert [x.id for x in await repos.letters.unrouted(10)] == ["l_4"]
    assert await repos.letters.assign("l_4", "i_2") and not await repos.letters.assign("l_3", "i_2")
    assert (await repos.letters.counts())["queued"] == 4


async def test_a_letter_keeps_its_history_and_changes_without_moving_only_when_the_condition_holds(repos):
    step = RouteStep(at=at(5.5), change="transfer", state="held", from_facility_id="sizo_a",
                     to_facility_id="colony_b", from_intermediary_id="i_1", note="moved to ИК-2")
    await repos.letters.enqueue(letter("l_1", 10.0, intermediary_id="i_1", facility_id="sizo_a"))
    assert await repos.letters.move("l_1", "held", ["queued"], only_if={"facility_id": {"$ne": "colony_b"}},
                                    history=step, facility_id="colony_b", hold_kind="prisoner_moving")
    assert not await repos.letters.move("l_1", "held", ["held"], only_if={"facility_id": {"$ne": "colony_b"}},
                                        history=step)
    assert not await repos.letters.note("l_1", only_if={"state": "queued"}, history=step)
    second = step.model_copy(update={"change": "route_found", "state": "held", "note": "ещё раз"})
    assert await repos.letters.note("l_1", only_if={"state": "held", "release_bundle_id": None}, history=second,
                                    release_bundle_id="b_9")
    found = await repos.letters.get("l_1")
    assert found.history == [step, second] and (found.facility_id, found.release_bundle_id) == ("colony_b", "b_9")


async def test_held_letters_are_listed_until_archived_and_waiting_ones_summarised(repos):
    await repos.letters.enqueue(letter("l_1", 10.0, state="held", reason="no route", hold_kind="no_route"))
    await repos.letters.enqueue(letter("l_2", 20.0, state="bundled", intermediary_id="i_1", bundle_id="b_1"))
    assert [x.id for x in await repos.letters.held(10)] == ["l_1"]
    assert await repos.letters.archive("l_1", "the prisoner is free") and not await repos.letters.archive("l_1", "x")
    assert await repos.letters.held(10) == []
    assert [(w.letter_id, w.state) for w in await repos.letters.waiting_letters()] == [("l_2", "bundled")]
    assert [x.id for x in await repos.letters.in_bundle("b_1")] == ["l_2"]
    assert [x.id for x in await repos.letters.of_prisoner("p_1", ["held", "bundled"])] == ["l_1", "l_2"]
    assert len(await repos.letters.movements_since(at(15))) == 1


async def test_a_bundle_is_leased_by_one_worker_at_a_time_and_found_when_due(repos):
    await repos.bundles.create(bundle("b_1", state="ready", next_attempt_at=at(50)))
    await repos.bundles.create(bundle("b_2", state="ready", channel="manual", intermediary_id="i_2",
                                      next_attempt_at=at(50)))
    assert [b.id for b in await repos.bundles.due(at(60), ["email"], 10)] == ["b_1"]
    assert await repos.bundles.due(at(40), ["email"], 10) == []
    assert await repos.bundles.claim("b_1", ["ready"], at(60), 30.0)
    assert not await repos.bundles.claim("b_1", ["ready"], at(61), 30.0)
    assert await repos.bundles.due(at(61), ["email"], 10) == []
    assert await repos.bundles.claim("b_1", ["ready"], at(95), 30.0)  # the lease lapsed
    assert (await repos.bundles.get("b_1")).leased_until == at(125)
    assert await repos.bundles.update("b_1", ["ready"], state="sent", letter_ids=["l_1"], sent_at=at(96),
                                      leased_until=LONG_AGO)
    assert not await repos.bundles.update("b_1", ["ready"], state="failed")
    sent = await repos.bundles.get("b_1")
    assert (sent.state, sent.letter_ids, sent.sent_at, sent.created_at) == ("sent", ["l_1"], at(96), at(100))
    assert (await repos.bundles.open_for("i_2")).id == "b_2" and await repos.bundles.open_for("i_1") is None
    assert [b.id for b in await repos.bundles.listing(["ready", "sent"], 10)] == ["b_1", "b_2"]


async def test_a_confirmation_link_is_used_once_and_not_after_it_expires(repos):
    await repos.confirmations.create("h1", "b_1", "i_1", expires_at=at(100))
    await repos.confirmations.create("h2", "b_1", "i_1", expires_at=at(100))
    assert not await repos.confirmations.use("h1", "handed_over", at(100))
    assert await repos.confirmations.use("h2", "handed_over", at(50))
    assert not await repos.confirmations.use("h2", "returned", at(51))
    used = await repos.confirmations.find("h2")
    assert (used.outcome, used.used_at, used.expires_at) == ("handed_over", at(50), at(100))
    await repos.confirmations.delete("h1")
    assert await repos.confirmations.find("h1") is None


async def test_a_letter_keeps_its_first_link_answer_undoable_until_its_window_closes(repos):
    first = LinkAnswer("l_1", "b_1", "handed_over", None, answered_at=at(10), undoable_until=at(20))
    assert await repos.confirmations.answer(first)
    assert not await repos.confirmations.answer(LinkAnswer("l_1", "b_1", "returned", "no", at(11), at(21)))
    assert await repos.confirmations.answer(LinkAnswer("l_2", "b_1", "blocked", "censor", at(12), at(22)))
    assert await repos.confirmations.answer(LinkAnswer("l_9", "b_2", "handed_over", None, at(13), at(23)))
    assert await repos.confirmations.answers("b_1") == [
        first, LinkAnswer("l_2", "b_1", "blocked", "censor", at(12), at(22))]

    assert not await repos.confirmations.undo("l_1", at(20)), "the window has closed"
    assert await repos.confirmations.undo("l_2", at(21.9))
    assert [a.letter_id for a in await repos.confirmations.due_answers(at(22), 10)] == ["l_1"]
    assert await repos.confirmations.finalise("l_1") and not await repos.confirmations.finalise("l_1")
    assert await repos.confirmations.due_answers(at(30), 10) == [
        LinkAnswer("l_9", "b_2", "handed_over", None, at(13), at(23))]
    assert [(a.letter_id, a.final) for a in await repos.confirmations.answers("b_1")] == [("l_1", True)]


async def test_only_newer_directory_news_replaces_a_prisoner(repos):
    assert await repos.prisoners.save_if_newer(Prisoner(id="p_1", name_ru="А", updated_at=at(10)))
    assert not await repos.prisoners.save_if_newer(Prisoner(id="p_1", name_ru="Б", updated_at=at(5)))
    assert await repos.prisoners.save_if_newer(Prisoner(id="p_1", name_ru="В", status="released", updated_at=at(20),
                                                        status_changed_at=at(20)))
    await repos.prisoners.seed(Prisoner(id="p_1", name_ru="seed"))
    stored = await repos.prisoners.get("p_1")
    assert (stored.name_ru, stored.status, stored.updated_at, stored.status_changed_at) == ("В", "released", at(20),
                                                                                             at(20))
    # News a few milliseconds apart (a prisoner added, then placed at once) is newer all the same.
    assert await repos.prisoners.save_if_newer(Prisoner(id="p_1", name_ru="Г", updated_at=at(20.022)))
    assert not await repos.prisoners.save_if_newer(Prisoner(id="p_1", name_ru="Д", updated_at=at(20.022)))
    assert (await repos.prisoners.get("p_1")).name_ru == "Г"
    assert await repos.prisoners.set_review("p_1", "check") and not await repos.prisoners.set_review("p_2", "x")
    assert (await repos.prisoners.get("p_1")).review_reason == "check"


async def test_an_intermediary_saved_again_is_changed_not_doubled(repos):
    assert await repos.intermediaries.is_empty()
    await repos.intermediaries.save(make_intermediary())
    await repos.intermediaries.save(make_intermediary(active=False))
    (person,) = await repos.intermediaries.of_prisoner("p_1")
    assert person.active is False and [p.id for p in await repos.intermediaries.all()] == ["i_relative"]


async def test_two_workers_at_once_put_each_letter_in_one_bundle_and_send_each_bundle_once(database):
    delivery = make_delivery()
    delivery.clock = utc_now
    delivery.letters, delivery.bundles = MongoOutgoing(database), MongoBundles(database)
    delivery.intermediaries, delivery.prisoners = MongoIntermediaries(database), MongoPrisoners(database)
    delivery.confirmations, delivery.replies = MongoConfirmations(database), MongoReplies(database)
    delivery.audit = AuditLog(database["audit"])
    await delivery.intermediaries.save(make_intermediary(capacity_per_bundle=50))
    for number in range(12):
        event = make_ready(f"l_{number:02d}", scan=scan_pdf())
        await delivery.store.put(event.scan_key, scan_pdf(), "application/pdf")
        await asyncio.gather(*(service.queue_letter(event, delivery=delivery) for _ in range(2)))  # redelivered

    reports = await asyncio.gather(bundling.build_bundles(delivery), bundling.build_bundles(delivery))
    await asyncio.gather(sending.send_due(delivery), sending.send_due(delivery))

    made = [bundle_id for report in reports for bundle_id in report.made]
    bundled = [letter_id for bundle_id in made for letter_id in (await delivery.bundles.get(bundle_id)).letter_ids]
    assert sorted(bundled) == [f"l_{n:02d}" for n in range(12)]
    parcels = delivery.channels["email"].parcels
    assert sorted(p.bundle_id for p in parcels) == sorted(made)
    assert (await delivery.letters.counts())["sent"] == 12


async def test_the_sweeper_finds_letters_unchanged_in_a_state_the_longest_first(repos):
    for letter_id, state, queued_s in [("l_new", "queued", 900), ("l_old", "queued", 100),
                                       ("l_mid", "queued", 500), ("l_sent", "sent", 50)]:
        await repos.letters.enqueue(letter(letter_id, queued_s, state=state))
    total, found = await repos.letters.stalled("queued", at(800), 1)
    assert total == 2 and [x.id for x in found] == ["l_old"]
    assert [x.id for x in (await repos.letters.stalled("sent", at(800), 10))[1]] == ["l_sent"]


async def test_a_condition_that_a_field_differs_holds_while_the_letter_lacks_that_field(repos):
    """How a bundled letter is announced once: "not announced for this bundle yet" holds before any
    announcement (the field is missing), and not after it."""
    await repos.letters.enqueue(letter("l_1", 10.0, intermediary_id="i_1"))
    not_yet = {"state": "queued", "announced_bundle_id": {"$ne": "b_1"}}
    assert await repos.letters.note("l_1", only_if=not_yet, announced_bundle_id="b_1")
    assert not await repos.letters.note("l_1", only_if=not_yet, announced_bundle_id="b_1")
    assert await repos.letters.note("l_1", only_if={**not_yet, "announced_bundle_id": {"$ne": "b_2"}},
                                    announced_bundle_id="b_2")


async def test_documents_stored_with_epoch_seconds_read_as_dates_after_the_next_start(database):
    """A deployment's documents from before times were dates: converted once by `ensure_indexes`, lines of
    history included, then read and queried like new ones."""
    epoch = at(10).timestamp()
    old_step = json.dumps({"at_epoch": epoch + 5, "change": "transfer", "state": "held", "note": "moved"})
    await database["outgoing"].insert_one({
        "_id": "l_old", "prisoner_id": "p_1", "scan_key": "scans/x.pdf", "scan_sha256": "ab" * 32, "pages": 1,
        "state": "held", "archived": False, "queued_epoch": epoch, "changed_epoch": epoch + 5,
        "held_epoch": epoch + 5, "history": [old_step]})
    await database["bundles"].insert_one({
        "_id": "b_old", "intermediary_id": "i_1", "prisoner_id": "p_1", "channel": "email", "state": "ready",
        "pdf_key": "k", "manifest_key": "m", "created_epoch": epoch, "ready_epoch": epoch, "next_attempt_epoch": 0.0,
        "lease_until": 0.0})
    await database["prisoners"].insert_one({"_id": "p_1", "name_ru": "А", "updated_epoch": epoch,
                                            "status_changed_epoch": 0.0})
    await database["confirmations"].insert_one({"_id": "h", "bundle_id": "b_old", "intermediary_id": "i_1",
                                                "expires_epoch": epoch + 100, "used_epoch": None, "outcome": None})
    await database["handover_answers"].insert_one({"_id": "l_old", "bundle_id": "b_old", "outcome": "handed_over",
                                                   "reason": None, "answered_epoch": epoch, "undo_until": epoch + 60,
                                                   "final": False})
    letters, bundles, prisoners = MongoOutgoing(database), MongoBundles(database), MongoPrisoners(database)
    confirmations = MongoConfirmations(database)
    for repository in (letters, bundles, prisoners, confirmations) * 2:  # the second start finds nothing to do
        await repository.ensure_indexes()

    found = await letters.get("l_old")
    assert (found.queued_at, found.changed_at, found.history[0].at) == (at(10), at(15), at(15))
    assert len(await letters.movements_since(at(14))) == 1 and await letters.movements_since(at(16)) == []
    assert [x.id for x in (await letters.stalled("held", at(16), 10))[1]] == ["l_old"]
    assert [b.id for b in await bundles.due(at(20), ["email"], 10)] == ["b_old"]
    assert await bundles.claim("b_old", ["ready"], at(20), 30.0)
    prisoner = await prisoners.get("p_1")
    assert (prisoner.updated_at, prisoner.status_changed_at) == (at(10), LONG_AGO)
    link = await confirmations.find("h")
    assert (link.expires_at, link.used_at) == (at(110), None)
    assert [a.undoable_until for a in await confirmations.due_answers(at(70), 10)] == [at(70)]
