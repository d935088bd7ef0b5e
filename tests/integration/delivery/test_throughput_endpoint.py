"""The monitor's throughput over time (GET /api/v1/monitor/throughput) from delivery as a process against
the real broker, database, object store and a loopback SMTP server: letters arriving as events, e-mailed,
handed over and held are counted per UTC hour and day, with letters of earlier days in their own buckets."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import httpx
import pytest
import pytest_asyncio

from services.delivery.adapters import MongoOutgoing
from services.delivery.model import OutgoingLetter
from shared.events import PrisonerUpdated, utc_now
from shared.mongo import make_client
from tests.integration.delivery.support import (
    Running,
    announce_staff_token,
    delivery_alone,
    publish,
)
from tests.support import eventually

pytestmark = [pytest.mark.integration, pytest.mark.slow]

HOUR, DAY = timedelta(hours=1), timedelta(days=1)


@pytest_asyncio.fixture(scope="module")
async def delivery(infra) -> AsyncIterator[Running]:
    async with delivery_alone(infra, "t", "delivery-throughput",
                              {"DELIVERY_BUNDLE_INTERVAL_S": "1", "DELIVERY_SEND_POLL_S": "0.3"}) as running:
        yield running


async def earlier_letter(infra, namespace: str, queued_at: datetime, **facts) -> None:
    """A letter of an earlier day, put on delivery's queue by its own repository (time cannot be turned back)."""
    client = make_client(infra.mongodb_url)
    try:
        letters = MongoOutgoing(client[f"{namespace}-delivery"])
        assert await letters.enqueue(OutgoingLetter(
            id=f"l_{uuid.uuid4().hex[:12]}", prisoner_id="p_earlier", scan_key="scans/earlier.pdf",
            scan_sha256="ab" * 32, pages=1, queued_at=queued_at, changed_at=queued_at, **facts))
    finally:
        await client.close()


def bucket_of(answer: dict, at: datetime) -> dict:
    start = datetime.fromisoformat(answer["start"])
    return answer["buckets"][(at - start) // timedelta(seconds=answer["bucket_s"])]


async def test_letters_are_counted_per_hour_and_per_day_by_the_step_they_reached(delivery: Running, infra):
    now = utc_now()
    # Returned by the censor: a final state, which nothing in delivery moves on from.
    await earlier_letter(infra, delivery.namespace, now - 5 * HOUR, state="returned")
    await earlier_letter(infra, delivery.namespace, now - 4 * DAY, state="sent", sent_at=now - 3 * DAY)
    async with httpx.AsyncClient(base_url=delivery.url, timeout=30, headers=delivery.headers) as api:
        for prisoner_id in ("p_tp", "p_tp_stranded"):
            news = PrisonerUpdated(prisoner_id=prisoner_id, name_ru="Сервер Пример", status="detained")
            await publish(delivery.amqp_url, delivery.namespace, news.routing_key, news.model_dump(mode="json"))
        person = {"id": "i_tp", "prisoner_id": "p_tp", "name": "Эльвира", "kind": "relative",
                  "channel": "email", "address": "tp@example.test", "capacity_per_bundle": 10, "primary": True}
        assert (await api.put("/api/v1/intermediaries/i_tp", json=person)).status_code == 200
        sent = [await delivery.letter_ready("p_tp", f"Письмо номер {n}. Желаю здоровья!") for n in range(3)]
        # Nobody carries letters to this prisoner: held on arrival.
        held = [await delivery.letter_ready("p_tp_stranded", f"Письмо {n}. Держитесь!") for n in range(2)]

        async def reached(letter_ids: list[str], state: str) -> bool:
            views = [(await api.get(f"/api/v1/letters/{letter_id}")).json() for letter_id in letter_ids]
            return all(view.get("state") == state for view in views)

        await eventually(lambda: reached(sent, "sent"), 30, "the letters to be e-mailed")
        await eventually(lambda: reached(held, "held"), 30, "the stranded letters to be held")
        outcome = await api.post(f"/api/v1/letters/{sent[0]}/outcome", json={"outcome": "handed_over"})
        assert outcome.status_code == 200, outcome.text

        hours = (await api.get("/api/v1/monitor/throughput", params={"range": "48h"})).json()
        days = (await api.get("/api/v1/monitor/throughput", params={"range": "30d"})).json()
        default = (await api.get("/api/v1/monitor/throughput")).json()

    assert (hours["range"], hours["bucket"], hours["bucket_s"], len(hours["buckets"])) == ("48h", "hour", 3600, 48)
    assert (days["range"], days["bucket"], days["bucket_s"], len(days["buckets"])) == ("30d", "day", 86400, 30)
    assert default["range"] == "48h"
    assert hours["totals"] == {"queued": 6, "sent": 3, "handed_over": 1, "held": 2}
    assert days["totals"] == {"queued": 7, "sent": 4, "handed_over": 1, "held": 2}
    earlier = bucket_of(hours, now - 5 * HOUR)
    assert (earlier["queued"], earlier["sent"], earlier["handed_over"], earlier["held"]) == (1, 0, 0, 0)
    assert (bucket_of(days, now - 4 * DAY)["queued"], bucket_of(days, now - 3 * DAY)["sent"]) == (1, 1)
    # Zero buckets are there too, and each starts on a whole UTC hour or midnight.
    assert sum(1 for b in hours["buckets"] if not any(b[s] for s in ("queued", "sent", "handed_over", "held"))) >= 40
    starts = [datetime.fromisoformat(b["start"]) for b in hours["buckets"] + days["buckets"]]
    assert all((t.minute, t.second, t.microsecond, t.utcoffset()) == (0, 0, 0, timedelta(0)) for t in starts)
    assert all(datetime.fromisoformat(b["start"]).hour == 0 for b in days["buckets"])
    assert hours["buckets"][0]["start"] == hours["start"]


async def test_only_the_two_ranges_are_accepted_and_only_from_staff(delivery: Running):
    async with httpx.AsyncClient(base_url=delivery.url, timeout=30) as api:
        refused = await api.get("/api/v1/monitor/throughput", params={"range": "7d"}, headers=delivery.headers)
        assert refused.status_code == 422
        assert (await api.get("/api/v1/monitor/throughput")).status_code == 401
        moderator = await announce_staff_token(delivery.amqp_url, delivery.namespace, "moderator", "test.moderator")

        async def refused_to_the_moderator() -> bool:
            answer = await api.get("/api/v1/monitor/throughput", headers={"Authorization": f"Bearer {moderator}"})
            return answer.status_code == 403

        await eventually(refused_to_the_moderator, 20, "the moderator's token to arrive and be refused")
