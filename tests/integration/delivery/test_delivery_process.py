"""Delivery alone, as a process against the real broker, database, object store and a loopback SMTP
server: letters arrive as events, bundles are built on schedule, e-mailed, and counted in /metrics."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from shared.events import PrisonerUpdated
from tests.integration.delivery.support import (
    Running,
    announce_staff_token,
    delivery_alone,
    publish,
    read_bundle,
)
from tests.support import eventually

pytestmark = [pytest.mark.integration, pytest.mark.slow]

@pytest_asyncio.fixture(scope="module")
async def delivery(infra) -> AsyncIterator[Running]:
    async with delivery_alone(infra, "i", "delivery-alone", {
        "DELIVERY_BUNDLE_INTERVAL_S": "1", "DELIVERY_SEND_POLL_S": "0.3", "DELIVERY_METRICS_REFRESH_S": "0.5",
        "DELIVERY_RETRY_BASE_S": "0.5", "DELIVERY_RETRY_MAX_S": "1",
    }) as running:
        yield running


async def test_letters_arriving_as_events_are_bundled_on_schedule_and_emailed(delivery: Running):
    async with httpx.AsyncClient(base_url=delivery.url, timeout=30, headers=delivery.headers) as api:
        news = PrisonerUpdated(prisoner_id="p_alone", name_ru="Сервер Пример", status="detained")
        await publish(delivery.amqp_url, delivery.namespace, news.routing_key, news.model_dump(mode="json"))
        person = {"id": "i_alone", "prisoner_id": "p_alone", "name": "Эльвира", "kind": "relative",
                  "channel": "email", "address": "alone@example.test", "capacity_per_bundle": 10, "primary": True}
        assert (await api.put("/api/v1/intermediaries/i_alone", json=person)).status_code == 200

        letters = [await delivery.letter_ready("p_alone", f"Письмо номер {n}. Желаю здоровья!") for n in range(3)]

        async def three_letters_mailed() -> bool:
            return sum(len(read_bundle(m).manifest.get("letters", [])) for m in delivery.mailbox.to(person["address"])) == 3

        await eventually(three_letters_mailed, 30, "the scheduled bundles to be e-mailed")
        for message in delivery.mailbox.to(person["address"]):
            bundle = read_bundle(message)
            assert bundle.pages == 1 + len(bundle.manifest["letters"])
            assert "Письма для: Сервер Пример" in bundle.page_text(1)
        mailed = {e["letter_id"] for m in delivery.mailbox.to(person["address"]) for e in read_bundle(m).manifest["letters"]}
        assert mailed == set(letters)

        async def all_sent() -> bool:
            views = [(await api.get(f"/api/v1/letters/{letter_id}")).json() for letter_id in letters]
            return all(view["state"] == "sent" for view in views)

        await eventually(all_sent, 10, "the letters to be sent")
        monitor = (await api.get("/api/v1/monitor")).json()
        assert monitor["counts"]["sent"] >= 3 and monitor["throughput"]["day"]["sent"] >= 3

    async def gauge_counts_sent() -> bool:
        metrics = await _metrics(delivery.url)
        found = re.search(r'^delivery_letters\{state="sent"\} (\S+)$', metrics, re.MULTILINE)
        return bool(found) and float(found.group(1)) >= 3

    await eventually(gauge_counts_sent, 10, "the queue gauge to count the sent letters")
    metrics = await _metrics(delivery.url)
    for name in ("delivery_oldest_waiting_seconds", "delivery_letters_received_total",
                 'delivery_send_attempts_total{channel="email",result="sent"}', "delivery_handler_seconds_bucket"):
        assert name in metrics, name


async def test_operator_routes_refuse_a_missing_wrong_or_unknown_token(delivery: Running):
    async with httpx.AsyncClient(base_url=delivery.url, timeout=30) as api:
        assert (await api.get("/api/v1/monitor")).status_code == 401
        assert (await api.get("/api/v1/monitor", headers={"Authorization": "Bearer nope"})).status_code == 401
        moderator = await announce_staff_token(delivery.amqp_url, delivery.namespace, "moderator", "test.moderator")
        headers = {"Authorization": f"Bearer {moderator}"}
        await eventually(lambda: _answers(api, "/api/v1/monitor", 403, headers), 20, "the moderator's token to arrive")
        assert (await api.post("/api/v1/bundles/build", json={}, headers=headers)).status_code == 403
        # The audit log is for admins only, even operators cannot read it.
        assert (await api.get("/api/v1/audit", headers=delivery.headers)).status_code == 403
        admin = await announce_staff_token(delivery.amqp_url, delivery.namespace, "admin", "test.admin")
        admin_headers = {"Authorization": f"Bearer {admin}"}
        await eventually(lambda: _answers(api, "/api/v1/audit", 200, admin_headers), 20, "the admin's token")
        person = {"id": "i_audited", "prisoner_id": "p_audited", "name": "Ленура", "kind": "defender",
                  "channel": "manual", "address": "+000 messenger"}
        assert (await api.put("/api/v1/intermediaries/i_audited", json=person, headers=delivery.headers)).status_code == 200
        entries = (await api.get("/api/v1/audit", headers=admin_headers)).json()
        assert any(e["who"] == "test.operator" and e["action"] == "intermediary.save" and e["target"] == "i_audited"
                   for e in entries)


async def test_the_monitor_names_intermediaries_near_their_capacity(delivery: Running):
    async with httpx.AsyncClient(base_url=delivery.url, timeout=30, headers=delivery.headers) as api:
        news = PrisonerUpdated(prisoner_id="p_busy", name_ru="Эскендер Пример", status="detained")
        await publish(delivery.amqp_url, delivery.namespace, news.routing_key, news.model_dump(mode="json"))
        # A hand-off by messenger: bundles wait for the operator, so the letters stay waiting.
        busy = {"id": "i_busy", "prisoner_id": "p_busy", "name": "Зарема", "kind": "relative", "channel": "manual",
                "address": "+000 messenger", "capacity_per_bundle": 4, "primary": True}
        roomy = {**busy, "id": "i_roomy", "name": "Адвокат", "kind": "lawyer", "capacity_per_bundle": 50,
                 "primary": False}
        for person in (busy, roomy):
            assert (await api.put(f"/api/v1/intermediaries/{person['id']}", json=person)).status_code == 200
        letters = [await delivery.letter_ready("p_busy", f"Письмо {n}. Всего доброго!") for n in range(7)]

        async def all_routed() -> bool:
            views = [(await api.get(f"/api/v1/letters/{letter_id}")).json() for letter_id in letters]
            return all(view.get("intermediary_id") for view in views)

        await eventually(all_routed, 30, "the letters to be routed")
        routed = [(await api.get(f"/api/v1/letters/{letter_id}")).json()["intermediary_id"] for letter_id in letters]
        expected = {who: routed.count(who) for who in set(routed)}
        monitor = (await api.get("/api/v1/monitor")).json()

    rows = {row["intermediary_id"]: row for row in monitor["by_intermediary"]}
    for who, count in expected.items():
        capacity = {"i_busy": 4, "i_roomy": 50}[who]
        assert (rows[who]["letters"], rows[who]["capacity_per_bundle"]) == (count, capacity)
        assert rows[who]["load"] == pytest.approx(count / capacity, abs=0.001)
    # The primary takes letters until a bundle's worth is queued for it (more once the scheduler has
    # bundled some), the rest overflow to the lawyer: the relative is at 100 % or more, the lawyer
    # at 6 % at most, so only the relative is near capacity.
    assert expected["i_busy"] >= 4 and sum(expected.values()) == 7
    assert [row["intermediary_id"] for row in monitor["near_capacity"]] == ["i_busy"]


async def _answers(api: httpx.AsyncClient, path: str, status: int, headers: dict | None = None) -> bool:
    return (await api.get(path, headers=headers)).status_code == status


async def _metrics(url: str) -> str:
    async with httpx.AsyncClient(timeout=10) as client:
        return (await client.get(f"{url}/metrics")).text
