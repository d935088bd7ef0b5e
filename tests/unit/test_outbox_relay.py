"""The outbox relay while the broker is away: one attempt per pass, one line per interval."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from aiormq.exceptions import DeliveryError

from shared.broker import letters_exchange
from shared.events import utc_now
from shared.outbox import Outbox


class Unroutable(DeliveryError):
    """A mandatory publish RabbitMQ returned (aiormq's own needs a real frame)."""

    def __init__(self) -> None:
        Exception.__init__(self, "no route")

    def __repr__(self) -> str:
        return "Unroutable()"


class PendingEvents:
    """Just what the relay asks of its collection: pending events in order, and marking one published."""

    # A database whose other collections carry no events.
    database = SimpleNamespace(name="unit")

    def __init__(self, count: int) -> None:
        old = utc_now() - timedelta(minutes=1)
        self.docs = [{"_id": f"e{n}", "routing_key": "letter.received", "body": {"n": n}, "created_at": old,
                      "published": False} for n in range(count)]

    def find(self, _query):
        docs = [d for d in self.docs if not d["published"]]

        class Cursor:
            def sort(self, *_):
                return self

            def limit(self, _):
                return self

            async def __aiter__(self):
                for doc in docs:
                    yield doc

        return Cursor()

    async def update_one(self, query, _update, **_options) -> None:
        next(d for d in self.docs if d["_id"] == query["_id"])["published"] = True


class Broker:
    def __init__(self, fail) -> None:
        self.fail, self.attempts = fail, 0

    async def publish(self, body, **_options) -> None:
        self.attempts += 1
        if error := self.fail(body):
            raise error


async def test_with_the_broker_away_a_relay_pass_stops_at_the_first_failure_and_says_so_once(caplog):
    events, broker = PendingEvents(50), Broker(lambda _: ConnectionError("connection refused"))
    outbox = Outbox(events, broker, letters_exchange("unit"))
    assert [await outbox.relay_once() for _ in range(3)] == [0, 0, 0]
    assert broker.attempts == 3, "each pass tried once, not once per pending event"
    [line] = [r for r in caplog.records if r.name == "outbox"]
    assert line.levelname == "WARNING" and line.count == 1 and "broker" in line.getMessage()


async def test_an_event_the_broker_refuses_does_not_hold_up_the_rest():
    events = PendingEvents(5)
    broker = Broker(lambda body: Unroutable() if body["n"] == 0 else None)
    outbox = Outbox(events, broker, letters_exchange("unit"))
    assert await outbox.relay_once() == 4
    assert [d["published"] for d in events.docs] == [False, True, True, True, True]
