"""A typed letter travels intake → sorting → delivery through real processes and servers."""

from __future__ import annotations

import asyncio
import re
import uuid

import httpx
import pytest
from pymongo import AsyncMongoClient

from shared.events import LetterQueued, LetterReady, LetterReceived
from shared.s3 import ObjectStore
from tests.support import eventually, pdf_text, squash

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# Writers' names use ё, й and the Crimean Tatar Latin letters ç ğ ı ñ ö ş ü.
WRITERS = [
    ("Ayşe Çelebi", "Полтава"), ("Şevket", "Львов"), ("Gülnara", "Киев"), ("Ñuri", "Одесса"),
    ("Ömer", "Днепр"), ("Dılara", "Харьков"), ("Ğalip", "Винница"), ("Ümmühan", "Ужгород"),
    ("Артём", "Черновцы"), ("Алёна", "Сумы"), ("Йосип", "Херсон"), ("Сейран", "Ровно"),
    ("Çiçek", "Житомир"), ("Elvira", "Берлин"), ("Зоряна", "Прага"), ("Эльмаз", "Варшава"),
    ("Fevzi", "Луцк"), ("Лейля", "Ивано-Франковск"), ("Mustafa", "Тернополь"), ("Фёдор", "Чернигов"),
]
GREETINGS = ["Здравствуйте", "Добрый день", "Привет", "Добрый вечер"]
NEWS = [
    "У нас выпал первый снег, и ёлки во дворе стоят белые.",
    "Я испекла пирог с айвой, весь дом пахнет мёдом.",
    "Вчера мы гуляли у реки и кормили уток хлебом.",
    "Дочка учится играть на скрипке, у неё уже получается.",
    "Весной зацвели абрикосы, а сейчас зреют яблоки.",
]


def letter_body(number: int, prisoner_first_name: str) -> str:
    greeting = GREETINGS[number % len(GREETINGS)]
    news = NEWS[number % len(NEWS)]
    return (
        f"{greeting}, {prisoner_first_name}!\n"
        f"Это письмо номер {number + 1} от ваших друзей. {news} "
        "Желаю вам здоровья, терпения и тёплых дней. Мы помним о вас и ждём."
    )


async def test_twenty_typed_letters_reach_delivery_with_exactly_one_scan_each(stack):
    async with httpx.AsyncClient(base_url=stack.url("intake"), timeout=30) as intake:
        prisoners = (await intake.get("/api/v1/prisoners")).json()
        # The demo campaign's detained prisoners have intermediaries; others that tests added may not.
        receivers = [p for p in prisoners if p["status"] == "detained" and p["id"].startswith("p_demo_")]
        letters = []
        for number, (name, city) in enumerate(WRITERS):
            prisoner = receivers[number % len(receivers)]
            body = letter_body(number, prisoner["names"]["ru"].split()[0])
            letters.append(
                {
                    "prisoner_id": prisoner["id"],
                    "body": body,
                    "client_ref": str(uuid.uuid4()),
                    "author": {"display_name": name, "city": city, "contact_consent": False},
                    "source": {"channel": "web"},
                }
            )
        answers = await asyncio.gather(*(intake.post("/api/v1/letters", json=letter) for letter in letters))
        assert [a.status_code for a in answers] == [201] * len(letters), [a.text for a in answers if a.status_code != 201]
        accepted = [a.json() for a in answers]
        assert all(a["verdict"] == "ok" for a in accepted), [a["findings"] for a in accepted if a["verdict"] != "ok"]

        async def all_queued() -> bool:
            views = await asyncio.gather(
                *(intake.get(f"/api/v1/letters/{a['id']}", params={"receipt_token": a["receipt_token"]}) for a in accepted)
            )
            return all(v.status_code == 200 and v.json()["status"] == "queued" for v in views)

        await eventually(all_queued, 90, "all 20 letters to reach the delivery stage")

        first = (await intake.get(f"/api/v1/letters/{accepted[0]['id']}",
                                  headers={"Authorization": f"Bearer {accepted[0]['receipt_token']}"})).json()
        assert [step["status"] for step in first["timeline"]] == ["received", "ready", "queued"]

    operator = {"Authorization": f"Bearer {stack.demo_token('staff token (operator)')}"}
    async with httpx.AsyncClient(base_url=stack.url("delivery"), timeout=30, headers=operator) as delivery:
        outgoing = (await delivery.get("/api/v1/outgoing", params={"limit": 500})).json()
    assert {a["id"] for a in accepted} <= {w["letter_id"] for w in outgoing["waiting"]}

    infra = stack.infra
    store = ObjectStore(infra.s3_endpoint_url, infra.s3_access_key_id, infra.s3_secret_access_key, "us-east-1",
                        infra.s3_bucket)
    scan_texts = {key: squash(pdf_text(await store.get(key))) for key in await store.list_keys("scans/")}
    mongo = AsyncMongoClient(infra.mongodb_url)
    sorting_letters = mongo[f"{infra.namespace}-sorting"]["letters"]
    for letter, answer in zip(letters, accepted, strict=True):
        holding = [key for key, text in scan_texts.items() if squash(letter["body"]) in text]
        assert len(holding) == 1, f"letter {answer['id']} is in {len(holding)} scans"
        recorded = await sorting_letters.find_one({"_id": answer["id"]})
        assert recorded["scan_key"] == holding[0]
        assert letter["author"]["display_name"].split()[0] in scan_texts[holding[0]]
    await mongo.close()


async def test_each_service_counts_the_messages_its_own_queues_processed(stack):
    async with httpx.AsyncClient(base_url=stack.url("intake"), timeout=30) as intake:
        prisoner = next(p for p in (await intake.get("/api/v1/prisoners")).json()
                        if p["status"] == "detained" and p["id"].startswith("p_demo_"))
        answer = await intake.post("/api/v1/letters", json={
            "prisoner_id": prisoner["id"], "body": letter_body(7, prisoner["names"]["ru"].split()[0]),
            "client_ref": str(uuid.uuid4()), "author": {"display_name": "Лиля", "city": "Киев", "contact_consent": False},
            "source": {"channel": "web"}})
        assert answer.status_code == 201, answer.text
        letter_id = answer.json()["id"]
        operator = {"Authorization": f"Bearer {stack.demo_token('staff token (operator)')}"}

        async def queued_for_delivery() -> bool:
            async with httpx.AsyncClient(base_url=stack.url("delivery"), timeout=30, headers=operator) as delivery:
                return (await delivery.get(f"/api/v1/letters/{letter_id}")).status_code == 200

        await eventually(queued_for_delivery, 60, "the letter to reach delivery")

    # FastStream labels a consumer by the exchange and routing key it handled.
    handled = f"{stack.infra.namespace}.letters"
    for service, event in (("sorting", LetterReceived), ("delivery", LetterReady), ("intake", LetterQueued)):
        label = f'handler="{handled}.{event.routing_key}"'

        async def counted(service=service, label=label) -> bool:
            return _acked(await _metrics(stack.url(service)), label) >= 1

        await eventually(counted, 20, f"{service}'s /metrics to count {event.routing_key} acked")
        # Each process reports only what it consumes: only sorting takes letters as they are received.
        metrics = await _metrics(stack.url(service))
        assert (f'handler="{handled}.{LetterReceived.routing_key}"' in metrics) == (service == "sorting")


async def _metrics(url: str) -> str:
    async with httpx.AsyncClient(timeout=10) as client:
        return (await client.get(f"{url}/metrics")).text


def _acked(metrics: str, label: str) -> float:
    return sum(float(value) for labels, value in re.findall(
        r"^faststream_received_processed_messages_total\{([^}]*)\} (\S+)$", metrics, re.MULTILINE)
        if label in labels and 'status="acked"' in labels)
