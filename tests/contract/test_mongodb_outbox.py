"""A change and its events as one write (shared/outbox.py `WithEvents`), on whichever server is active.

Which way the deployment writes them is decided by the server: a replica set (compose, Kubernetes)
runs transactions; a standalone server or nx-27017 keeps the events in the changed document. The
nx-27017 tests at the end pin why it gets the second way: it accepts transaction commands, but one
session's abort also throws away another client's write; and why the events are JSON text: a
document pushed into an array comes back as text.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from pymongo.errors import DuplicateKeyError

from services.intake.adapters import MongoLetters, MongoPrisoners, MongoTokens
from services.intake.staff import Announced
from services.sorting.adapters import MongoSortedLetters
from shared.auth import StaffTokens, hash_token
from shared.broker import letters_exchange
from shared.events import (
    LetterQueued,
    LetterRejected,
    LetterReviewNeeded,
    LetterTranslationNeeded,
    LetterWithdrawalRequested,
    LetterWithdrawn,
    StaffTokenChanged,
    utc_now,
)
from shared.mongo import make_client, read_time, stored_time
from shared.outbox import PENDING, PENDING_SINCE, Outbox, WithEvents, runs_transactions

pytestmark = pytest.mark.contract

NX = "embedded nx-27017"


class RecordingBroker:
    """Only what the relay asks of the broker: publish, recorded (the contract is MongoDB's)."""

    def __init__(self) -> None:
        self.published: list[str] = []

    async def publish(self, body, *, message_id: str, **_options) -> None:
        self.published.append(message_id)


def queued(letter_id: str) -> LetterQueued:
    return LetterQueued.for_letter(letter_id, prisoner_id="p_1")


@pytest.fixture(params=["document", "transaction"])
async def mode(request, db, infra):
    transactions = request.param == "transaction"
    if transactions and not await runs_transactions(db.client) and infra.sources["mongodb"] != NX:
        pytest.skip("a standalone MongoDB refuses transactions; the deployment writes events into documents")
    # On nx-27017 the transaction path runs (one client, nothing concurrent): it proves the code, not isolation.
    return transactions


async def _age_pending(collection) -> None:
    await collection.update_many({PENDING_SINCE: {"$exists": True}},
                                 {"$set": {PENDING_SINCE: stored_time(utc_now() - timedelta(minutes=1))}})


async def _relayed(db, broker: RecordingBroker) -> int:
    outbox = Outbox(db["outbox"], broker, letters_exchange("contract"))
    await outbox.ensure_indexes()
    # Older than the relay's grace: the relay only takes events the inline publish had its chance at.
    await _age_pending(db["letters"])
    await db["outbox"].update_many({"published": False},
                                   {"$set": {"created_at": stored_time(utc_now() - timedelta(minutes=1))}})
    return await outbox.relay_once()


async def test_a_stored_letter_is_relayed_once_and_cleared(db, mode):
    letters = WithEvents(db["letters"], transactions=mode)
    event = queued("l_1")
    await letters.insert_one({"_id": "l_1", "state": "queued"}, [event])
    with pytest.raises(DuplicateKeyError):
        await letters.insert_one({"_id": "l_1", "state": "queued"}, [queued("l_1")])
    broker = RecordingBroker()
    assert await _relayed(db, broker) == 1
    assert broker.published == [str(event.event_id)]
    assert await _relayed(db, broker) == 0, "a relayed event is cleared, never sent again"
    doc = await db["letters"].find_one({"_id": "l_1"})
    assert doc["state"] == "queued" and PENDING not in doc and PENDING_SINCE not in doc
    assert await db["outbox"].count_documents({"_id": str(event.event_id), "published": True}) == 1


async def test_a_conditional_move_stores_its_event_only_when_it_moved(db, mode):
    letters = WithEvents(db["letters"], transactions=mode)
    await db["letters"].insert_one({"_id": "l_1", "state": "queued"})
    first, again = queued("l_1"), LetterQueued(letter_id="l_1", prisoner_id="p_1", event_id=uuid.uuid4())
    assert await letters.update_one({"_id": "l_1", "state": "queued"}, {"$set": {"state": "held"}}, [first])
    assert not await letters.update_one({"_id": "l_1", "state": "queued"}, {"$set": {"state": "held"}}, [again])
    broker = RecordingBroker()
    await _relayed(db, broker)
    assert broker.published == [str(first.event_id)]


async def test_an_event_published_at_once_is_cleared_without_a_second_send(db, mode):
    letters = WithEvents(db["letters"], transactions=mode)
    broker = RecordingBroker()
    outbox = Outbox(db["outbox"], broker, letters_exchange("contract"))
    events = [queued(f"l_{n}") for n in range(3)]
    for n, event in enumerate(events):
        await letters.insert_one({"_id": f"l_{n}", "state": "queued"}, [event])
    assert await outbox.publish(events[0]) and await outbox.publish(events[1])
    assert await _relayed(db, broker) == 1, "only the event the inline publish missed"
    assert sorted(broker.published) == sorted(str(e.event_id) for e in events)
    assert await db["letters"].count_documents({PENDING_SINCE: {"$exists": True}}) == 0


async def test_a_document_with_two_moves_keeps_the_event_that_came_after_the_relay_read_it(db):
    letters = WithEvents(db["letters"], transactions=False)
    await db["letters"].insert_one({"_id": "l_1", "state": "queued"})
    await letters.update_one({"_id": "l_1"}, {"$set": {"state": "bundled"}}, [queued("l_1")])
    await letters.update_one({"_id": "l_1"}, {"$set": {"state": "sent"}},
                             [LetterQueued(letter_id="l_1", prisoner_id="p_1", event_id=uuid.uuid4())])
    doc = await db["letters"].find_one({"_id": "l_1"})
    assert doc["state"] == "sent" and len(doc[PENDING]) == 2
    assert read_time(doc[PENDING_SINCE]) <= utc_now()
    broker = RecordingBroker()
    assert await _relayed(db, broker) == 2
    assert PENDING not in await db["letters"].find_one({"_id": "l_1"})


async def test_the_deployment_says_whether_it_runs_transactions(db, infra):
    hello = await db.client.admin.command("hello")
    assert await runs_transactions(db.client) == bool(hello.get("setName") or hello.get("msg") == "isdbgrid")
    if infra.sources["mongodb"] == NX:
        assert not await runs_transactions(db.client), "nx-27017 must get events in documents, not transactions"


async def test_nx27017_an_abort_discards_another_clients_write(db, infra):
    """Why nx-27017 never gets a transaction: it is one SQLite transaction for every client."""
    if infra.sources["mongodb"] != NX:
        pytest.skip("a deviation of nx-27017 only")
    other = make_client(infra.mongodb_url)
    await db["letters"].insert_one({"_id": "before"})
    try:
        session = db.client.start_session()
        await session.start_transaction()
        await db["letters"].insert_one({"_id": "in-transaction"}, session=session)
        await other[db.name]["letters"].insert_one({"_id": "another-client"})
        await session.abort_transaction()
        await session.end_session()
        left = [doc["_id"] async for doc in other[db.name]["letters"].find({})]
        assert left == ["before"], "nx-27017 now isolates transactions: they could carry events"
    finally:
        await other.close()


async def test_nx27017_a_document_pushed_into_an_array_comes_back_as_text(db, infra):
    """Why pending events are kept as JSON text: the one shape both servers keep as written."""
    if infra.sources["mongodb"] != NX:
        pytest.skip("a deviation of nx-27017 only")
    await db["letters"].insert_one({"_id": "l", "state": "queued"})
    await db["letters"].update_one({"_id": "l"}, {"$push": {PENDING: {"$each": [{"event_id": "a"}, "b"]}}})
    assert (await db["letters"].find_one({"_id": "l"}))[PENDING] == ['{"event_id":"a"}', "b"], \
        "nx-27017 now keeps pushed documents"
    await db["letters"].update_one({"_id": "l"}, {"$pullAll": {PENDING: ["b"]}})
    assert (await db["letters"].find_one({"_id": "l"}))[PENDING] == ['{"event_id":"a"}']


# ---------------------------------------------------------------- the repositories' changes with their events
# Each repository method that announces a change writes it with its event (on whichever way the
# server allows); the relay publishes that event once, and a change that does not apply writes none.


async def _relayed_from(db, broker: RecordingBroker, *collections: str) -> int:
    """Relay as a restarted service would: what the inline publish never sent (a crash right after the write)."""
    for name in collections:
        await _age_pending(db[name])
    return await _relayed(db, broker)


async def _in_review(db, letter_id: str = "l_1", **facts) -> MongoSortedLetters:
    letters = MongoSortedLetters(db)
    await db["letters"].insert_one({"_id": letter_id, "state": "review_needed", "revision": 0, "round": 0,
                                    "prisoner_id": "p_1", **facts})
    return letters


async def test_a_rejection_is_written_with_its_event_and_relayed_once(db):
    letters = await _in_review(db)
    event = LetterRejected.for_letter("l_1", prisoner_id="p_1", reason="Details of the case")
    assert await letters.mark_rejected("l_1", "moderator-taras", "Details of the case", {}, announcing=[event])
    again = LetterRejected(letter_id="l_1", prisoner_id="p_1", reason="x", event_id=uuid.uuid4())
    assert not await letters.mark_rejected("l_1", "another", "x", {}, announcing=[again])
    broker = RecordingBroker()
    assert await _relayed_from(db, broker, "letters") == 1
    assert broker.published == [str(event.event_id)]
    assert (await letters.get("l_1"))["state"] == "rejected"


async def test_a_withdrawal_is_written_with_its_event_only_from_a_withdrawable_state(db):
    letters = await _in_review(db)
    await db["letters"].insert_one({"_id": "l_ready", "state": "ready", "prisoner_id": "p_1"})
    withdrawn = LetterWithdrawn.for_letter("l_1", prisoner_id="p_1")
    assert await letters.mark_withdrawn("l_1", ("review_needed",), announcing=[withdrawn])
    assert not await letters.mark_withdrawn("l_ready", ("review_needed",),
                                            announcing=[LetterWithdrawn.for_letter("l_ready", prisoner_id="p_1")])
    broker = RecordingBroker()
    await _relayed_from(db, broker, "letters")
    assert broker.published == [str(withdrawn.event_id)]


async def test_translation_moves_are_written_with_their_events(db):
    letters = await _in_review(db)
    sent = LetterTranslationNeeded.for_letter("l_1", prisoner_id="p_1", requested_by="moderator")
    assert await letters.mark_awaiting_translation("l_1", "review_needed", {"translation_round": 1}, 0,
                                                   announcing=[sent])
    back = LetterReviewNeeded.for_letter("l_1", prisoner_id="p_1", categories=[])
    assert await letters.mark_translated("l_1", 1, {"text": "Перевод."}, announcing=[back])
    assert not await letters.mark_translated("l_1", 1, {"text": "Другой."},
                                             announcing=[LetterReviewNeeded(letter_id="l_1", prisoner_id="p_1",
                                                                            categories=[], event_id=uuid.uuid4())])
    broker = RecordingBroker()
    assert await _relayed_from(db, broker, "letters") == 2
    assert broker.published == [str(sent.event_id), str(back.event_id)]


async def test_a_withdrawal_request_is_written_with_its_event_once(db):
    letters = MongoLetters(db)
    await db["letters"].insert_one({"_id": "l_1", "withdrawal_requested_at": None})
    request = LetterWithdrawalRequested.for_letter("l_1")
    assert await letters.request_withdrawal("l_1", utc_now(), [request])
    assert not await letters.request_withdrawal("l_1", utc_now(), [request]), "asking twice asks once"
    broker = RecordingBroker()
    assert await _relayed_from(db, broker, "letters") == 1
    assert broker.published == [str(request.event_id)]
    assert (await db["letters"].find_one({"_id": "l_1"}))["withdrawal_requested_at"] is not None


def _prisoner(prisoner_id: str = "p_1", **fields) -> dict:
    return {"id": prisoner_id, "names": {"uk": "Ремзі", "ru": "Ремзи", "en": "Remzi"}, "status": "detained",
            **fields}


async def test_a_prisoner_added_and_changed_is_announced_with_each_change(db):
    prisoners = MongoPrisoners(db)
    added, changed = Announced(), Announced()
    await prisoners.upsert(_prisoner(), added)
    stored = await prisoners.update("p_1", {"status": "released", "status_since": "2026-12-01"}, changed)
    assert stored["status"] == "released" and stored["names"]["ru"] == "Ремзи"
    assert await prisoners.update("p_nobody", {"status": "released"}, Announced()) is None
    broker = RecordingBroker()
    assert await _relayed_from(db, broker, "prisoners") == 2
    assert broker.published == [str(added.events[0].event_id), str(changed.events[0].event_id)]
    assert (added.events[0].status, changed.events[0].status) == ("detained", "released")
    assert (await prisoners.get("p_1"))["letters_received"] == 0


async def test_a_prisoner_changed_meanwhile_is_announced_as_stored_not_as_first_read(db):
    """Two operators at once: the change that lost the race is read again, so its event describes
    the prisoner with both changes, never the state it first read."""
    prisoners = MongoPrisoners(db)
    await prisoners.upsert(_prisoner(), Announced())
    # Another operator's placement lands between this change's read and its write.
    prisoners._announced = ChangedMeanwhile(
        prisoners._announced, lambda: MongoPrisoners(db).update("p_1", {"facility_id": "f_2"}, Announced()))
    written = Announced()

    await prisoners.update("p_1", {"status": "released"}, written)

    (event,) = written.events
    stored = await prisoners.get("p_1")
    assert (stored["status"], stored["facility_id"]) == ("released", "f_2")
    assert (event.status, event.facility_id) == ("released", "f_2")


class ChangedMeanwhile:
    """The repository's one-write collection, with another change of the document just before the first write."""

    def __init__(self, announced: WithEvents, other_change) -> None:
        self._announced, self._other_change = announced, other_change

    async def update_one(self, where, update, events) -> bool:
        if self._other_change is not None:
            change, self._other_change = self._other_change, None
            await change()
        return await self._announced.update_one(where, update, events)


async def test_a_staff_token_issued_and_revoked_is_written_with_each_announcement(db):
    tokens, seen = MongoTokens(db), StaffTokens(db["staff_tokens"])
    issued = StaffTokenChanged(token_hash=hash_token("t-1"), subject="anna", role="moderator",
                               expires_at=utc_now() + timedelta(days=1))
    await tokens.change_staff_token(issued)
    assert await seen.find("t-1") is not None, "intake's own copy, as shared/auth.py reads it"
    revoked = StaffTokenChanged(token_hash=hash_token("t-1"), subject="revoked", role="moderator",
                                expires_at=utc_now(), revoked=True)
    await tokens.change_staff_token(revoked)
    unknown = StaffTokenChanged(token_hash=hash_token("never-issued"), subject="revoked", role="moderator",
                                expires_at=utc_now(), revoked=True)
    await tokens.change_staff_token(unknown)
    assert await seen.find("t-1") is None
    assert (await db["staff_tokens"].find_one({"_id": hash_token("never-issued")}))["revoked"] is True
    broker = RecordingBroker()
    assert await _relayed_from(db, broker, "staff_tokens") == 3
    assert broker.published == [str(e.event_id) for e in (issued, revoked, unknown)]


async def test_events_a_change_adds_while_the_relay_clears_the_document_stay_to_be_relayed(db):
    # The relay read the document's events and published them; a change in the same millisecond (or,
    # on nx-27017, the same second) added another before the relay cleared what it read. The clear is
    # conditional on the count of events ever added, so the new one is not cleared unpublished.
    letters = WithEvents(db["letters"], transactions=False)
    await db["letters"].insert_one({"_id": "l_1", "state": "queued"})
    await letters.update_one({"_id": "l_1"}, {"$set": {"state": "bundled"}}, [queued("l_1")])
    read = await db["letters"].find_one({"_id": "l_1"})
    late = LetterQueued(letter_id="l_1", prisoner_id="p_1", event_id=uuid.uuid4())
    await letters.update_one({"_id": "l_1"}, {"$set": {"state": "sent"}}, [late])
    await Outbox._clear(db["letters"], read, list(read[PENDING]))
    kept = await db["letters"].find_one({"_id": "l_1"})
    assert [json.loads(text)["event_id"] for text in kept[PENDING]] == [str(late.event_id)]
    broker = RecordingBroker()
    assert await _relayed(db, broker) == 1 and broker.published == [str(late.event_id)]
