"""A change and its events as one write (shared/outbox.py `WithEvents`), on whichever server is active.

Which way the deployment writes them is decided by the server: a replica set (compose, Kubernetes)
runs transactions; a standalone server or nx-27017 keeps the events in the changed document. The
nx-27017 tests at the end pin why it gets the second way: it accepts transaction commands, but one
session's abort also throws away another client's write; and why the events are JSON text: a
document pushed into an array comes back as text.
"""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest
from pymongo.errors import DuplicateKeyError

from shared.broker import letters_exchange
from shared.events import LetterQueued, utc_now
from shared.mongo import make_client
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


async def _relayed(db, broker: RecordingBroker) -> int:
    outbox = Outbox(db["outbox"], broker, letters_exchange("contract"))
    await outbox.ensure_indexes()
    # Older than the relay's grace: the relay only takes events the inline publish had its chance at.
    await db["letters"].update_many({PENDING_SINCE: {"$exists": True}}, {"$inc": {PENDING_SINCE: -60}})
    await db["outbox"].update_many({"published": False}, {"$set": {"created_at": utc_now() - timedelta(minutes=1)}})
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
    assert doc[PENDING_SINCE] <= time.time()
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
