"""Delivery end to end: letters written on intake's API reach an intermediary's mailbox as one PDF,
outages are retried, a release holds letters, and the hand-over and a reply reach the writer.

This module runs its own intake, sorting and delivery (a namespace of its own, removed afterwards)
so delivery can point at the loopback SMTP server below; the session's stack is left alone.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date

import httpx
import pytest
import pytest_asyncio

from deploy.local import SORTING_STRAIGHT_THROUGH
from tests.integration.delivery.support import Bundle, Mailbox, own_pipeline, read_bundle
from tests.support import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

NEWS = ["У нас выпал первый снег.", "Я испекла пирог с айвой.", "Вчера мы гуляли у реки.", "Зацвели абрикосы."]


@dataclass
class Stack:
    intake: httpx.AsyncClient
    delivery: httpx.AsyncClient
    delivery_url: str
    mailbox: Mailbox
    admin: dict[str, str]
    operator: dict[str, str]

    async def prisoner_with_intermediary(self, name_ru: str, channel: str = "email") -> tuple[str, str]:
        """A new prisoner in intake's directory with one intermediary in delivery's; returns their ids."""
        suffix = uuid.uuid4().hex[:8]
        prisoner_id, intermediary_id = f"p_{suffix}", f"i_{suffix}"
        record = {"id": prisoner_id, "names": {"uk": name_ru, "ru": name_ru, "en": name_ru}, "status": "detained"}
        assert (await self.intake.post("/api/v1/prisoners", json=record, headers=self.admin)).status_code == 201
        person = {"id": intermediary_id, "prisoner_id": prisoner_id, "name": "Эльвира", "kind": "relative",
                  "channel": channel, "address": f"{suffix}@relatives.test" if channel == "email" else "+000 demo",
                  "capacity_per_bundle": 10, "primary": True}
        answer = await self.delivery.put(f"/api/v1/intermediaries/{intermediary_id}", json=person, headers=self.operator)
        assert answer.status_code == 200, answer.text

        async def known() -> bool:
            prisoners = (await self.delivery.get("/api/v1/prisoners", headers=self.operator)).json()
            return any(p["prisoner_id"] == prisoner_id and p["name_ru"] == name_ru for p in prisoners)

        await eventually(known, 30, "delivery to learn of the new prisoner")
        return prisoner_id, intermediary_id

    async def write(self, prisoner_id: str, count: int, email: str | None = None) -> list[tuple[str, str, str]]:
        """`count` letters through intake's public API; returns (letter id, receipt token, body)."""
        letters = []
        for number in range(count):
            body = f"Здравствуйте! Это письмо номер {number + 1}. {NEWS[number % len(NEWS)]} Желаю вам здоровья."
            author = {"display_name": "Оксана", "city": "Полтава", "contact_consent": bool(email)}
            if email:
                author["email"] = email
            answer = await self.intake.post("/api/v1/letters", json={
                "prisoner_id": prisoner_id, "body": body, "client_ref": str(uuid.uuid4()), "author": author,
                "source": {"channel": "web"}})
            assert answer.status_code == 201 and answer.json()["verdict"] == "ok", answer.text
            letters.append((answer.json()["id"], answer.json()["receipt_token"], body))
        return letters

    async def states(self, letter_ids: list[str]) -> list[str | None]:
        answers = await asyncio.gather(*(self.delivery.get(f"/api/v1/letters/{i}", headers=self.operator)
                                         for i in letter_ids))
        return [a.json()["state"] if a.status_code == 200 else None for a in answers]

    async def wait_states(self, letter_ids: list[str], state: str, timeout: float = 60) -> None:
        async def reached() -> bool:
            return await self.states(letter_ids) == [state] * len(letter_ids)

        await eventually(reached, timeout, f"{len(letter_ids)} letter(s) to be {state} in delivery")

    async def receipt(self, letter_id: str, token: str) -> str:
        return (await self.intake.get(f"/api/v1/letters/{letter_id}", params={"receipt_token": token})).json()["status"]

    async def wait_receipt(self, letter_id: str, token: str, status: str) -> None:
        async def shows() -> bool:
            return await self.receipt(letter_id, token) == status

        await eventually(shows, 30, f"the writer's receipt to show {status}")

    async def build(self, intermediary_id: str) -> str:
        answer = await self.delivery.post("/api/v1/bundles/build", json={"intermediary_id": intermediary_id},
                                          headers=self.operator)
        assert answer.status_code == 200, answer.text
        (bundle_id,) = answer.json()["made"]
        return bundle_id

    async def bundle(self, bundle_id: str) -> dict:
        return (await self.delivery.get(f"/api/v1/bundles/{bundle_id}", headers=self.operator)).json()

    async def mail_to(self, address: str, count: int = 1, timeout: float = 30) -> list[Bundle]:
        async def arrived() -> bool:
            return len(self.mailbox.to(address)) >= count

        await eventually(arrived, timeout, f"{count} e-mail(s) to {address}")
        return [read_bundle(message) for message in self.mailbox.to(address)]


@pytest_asyncio.fixture(scope="module")
async def stack(infra) -> AsyncIterator[Stack]:
    async with own_pipeline(infra, "d", "delivery-e2e", {
        # Bundles are built when the tests ask for them; sending, retrying and gauges run fast.
        "DELIVERY_BUNDLE_INTERVAL_S": "3600", "DELIVERY_SEND_POLL_S": "0.3", "DELIVERY_RETRY_BASE_S": "0.5",
        "DELIVERY_RETRY_MAX_S": "1", "DELIVERY_SEND_MAX_ATTEMPTS": "60", "DELIVERY_METRICS_REFRESH_S": "1",
        # Long enough to see an answer wait out its window, short enough not to slow the tests.
        "DELIVERY_UNDO_WINDOW_S": "5",
        # Delivery is under test here: clean letters go straight on, without waiting for a moderator.
        **SORTING_STRAIGHT_THROUGH,
    }) as running:
        yield Stack(running.intake, running.delivery, running.delivery_url, running.mailbox, running.admin,
                    running.operator)


async def test_letters_to_one_prisoner_reach_the_relatives_mailbox_as_one_pdf(stack: Stack):
    prisoner_id, intermediary_id = await stack.prisoner_with_intermediary("Ильми Почтовый")
    letters = await stack.write(prisoner_id, 3, email="writer.secret@example.test")
    ids = [letter_id for letter_id, _, _ in letters]
    await stack.wait_states(ids, "queued")

    bundle_id = await stack.build(intermediary_id)

    address = f"{intermediary_id[2:]}@relatives.test"
    (mail,) = await stack.mail_to(address)
    assert {entry["letter_id"] for entry in mail.manifest["letters"]} == set(ids)
    assert mail.manifest["bundle_id"] == bundle_id and mail.manifest["pdf_sha256"] == hashlib.sha256(mail.pdf).hexdigest()
    assert mail.pages == 1 + sum(entry["pages"] for entry in mail.manifest["letters"])
    cover = mail.page_text(1)
    assert "Письма для: Ильми Почтовый" in cover and "Количество писем: 3" in cover
    assert date.today().strftime("%d.%m.%Y") in cover
    for entry, (_, _, body) in zip(sorted(mail.manifest["letters"], key=lambda e: ids.index(e["letter_id"])), letters,
                                   strict=True):
        page = mail.page_text(entry["first_page"])
        assert body.split(".")[0] in page and "Оксана" in page
    raw = stack.mailbox.to(address)[0].as_string()
    assert "writer.secret" not in raw, "a writer's contact data never leaves intake"

    await stack.wait_states(ids, "sent")
    await stack.wait_receipt(*letters[0][:2], "sent")
    assert (await stack.bundle(bundle_id))["state"] == "sent"


async def test_the_intermediarys_link_records_a_partial_hand_over_and_a_reply_reaches_the_writer(stack: Stack):
    prisoner_id, intermediary_id = await stack.prisoner_with_intermediary("Сейран Ссылкин")
    letters = await stack.write(prisoner_id, 3)
    ids = [letter_id for letter_id, _, _ in letters]
    await stack.wait_states(ids, "queued")
    await stack.build(intermediary_id)
    (mail,) = await stack.mail_to(f"{intermediary_id[2:]}@relatives.test")
    assert mail.confirm_url.startswith(f"{stack.delivery_url}/confirm/")
    # The page numbers letters as the bundle's PDF has them: the manifest's order.
    first, second, third = (entry["letter_id"] for entry in mail.manifest["letters"])
    receipts = {letter_id: token for letter_id, token, _ in letters}

    async with httpx.AsyncClient(timeout=30, follow_redirects=True) as browser:
        page = await browser.get(mail.confirm_url)
        assert page.status_code == 200 and "Сейран Ссылкин" in page.text and "Письмо 3 для" in page.text
        done = await browser.post(mail.confirm_url, data={
            "scope": "letters", "letter-1": "handed_over", "letter-2": "blocked", "reason-2": "не пропустил цензор",
            "letter-3": ""})
        assert done.status_code == 200 and "Сохранено" in done.text
        # Within the undo window nothing has moved and nothing has been announced.
        assert await stack.states([first, second, third]) == ["sent", "sent", "sent"]

    await stack.wait_states([first], "handed_over")
    await stack.wait_states([second], "blocked")
    await stack.wait_receipt(first, receipts[first], "handed_over")
    await stack.wait_receipt(second, receipts[second], "blocked")
    assert await stack.states([third]) == ["sent"] and await stack.receipt(third, receipts[third]) == "sent"

    reply = await stack.delivery.post(
        "/api/v1/replies", headers=stack.operator, data={"prisoner_id": prisoner_id, "letter_ids": first},
        files={"scan": ("reply.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 256, "image/jpeg")})
    assert reply.status_code == 201, reply.text
    await stack.wait_receipt(first, receipts[first], "answered")


async def test_an_smtp_outage_is_retried_until_the_server_is_back(stack: Stack):
    prisoner_id, intermediary_id = await stack.prisoner_with_intermediary("Нариман Ожидающий")
    letters = await stack.write(prisoner_id, 1)
    ids = [letters[0][0]]
    await stack.wait_states(ids, "queued")
    stack.mailbox.stop()
    try:
        bundle_id = await stack.build(intermediary_id)

        async def retried() -> bool:
            bundle = await stack.bundle(bundle_id)
            return bundle["state"] == "ready" and bundle["attempts"] >= 2 and "SMTP" in (bundle["last_error"] or "")

        await eventually(retried, 30, "two failed attempts while the SMTP server is down")
        assert await stack.states(ids) == ["bundled"]
    finally:
        stack.mailbox.start()

    await stack.mail_to(f"{intermediary_id[2:]}@relatives.test")
    await stack.wait_states(ids, "sent")
    bundle = await stack.bundle(bundle_id)
    assert bundle["state"] == "sent" and bundle["last_error"] is None


async def test_a_refused_address_fails_the_bundle_with_the_reason_until_an_operator_requeues_it(stack: Stack):
    prisoner_id, intermediary_id = await stack.prisoner_with_intermediary("Эдем Отказный")
    address = f"{intermediary_id[2:]}@relatives.test"
    letters = await stack.write(prisoner_id, 1)
    ids = [letters[0][0]]
    await stack.wait_states(ids, "queued")
    stack.mailbox.refused.add(address)
    bundle_id = await stack.build(intermediary_id)
    await stack.wait_states(ids, "failed")
    monitor = (await stack.delivery.get("/api/v1/monitor", headers=stack.operator)).json()
    (failure,) = [row for row in monitor["failures"] if row["bundle_id"] == bundle_id]
    assert "550" in failure["last_error"]
    await stack.wait_receipt(*letters[0][:2], "failed")

    stack.mailbox.refused.discard(address)
    answer = await stack.delivery.post(f"/api/v1/bundles/{bundle_id}/requeue", headers=stack.operator)
    assert answer.status_code == 200 and answer.json()["state"] == "ready"

    await stack.mail_to(address)
    await stack.wait_states(ids, "sent")


async def test_a_released_prisoner_has_their_pending_letters_held_for_operators(stack: Stack):
    prisoner_id, intermediary_id = await stack.prisoner_with_intermediary("Эскендер Свободный", channel="manual")
    first = await stack.write(prisoner_id, 1)
    await stack.wait_states([first[0][0]], "queued")
    bundle_id = await stack.build(intermediary_id)  # a manual bundle, waiting for an operator
    second = await stack.write(prisoner_id, 1)
    ids = [first[0][0], second[0][0]]
    await stack.wait_states([second[0][0]], "queued")

    answer = await stack.intake.post(f"/api/v1/prisoners/{prisoner_id}/status", json={"status": "released"},
                                     headers=stack.admin)
    assert answer.status_code == 200, answer.text

    await stack.wait_states(ids, "held", timeout=30)
    assert (await stack.bundle(bundle_id))["state"] == "cancelled"
    # From now on the web page's writers are told, not given a letter that can only be held.
    refused = await stack.intake.post("/api/v1/letters", json={
        "prisoner_id": prisoner_id, "body": "Здравствуйте! Поздравляю с освобождением.", "client_ref": str(uuid.uuid4()),
        "author": {"display_name": "Оксана", "city": "Полтава"}, "source": {"channel": "web"}})
    assert refused.status_code == 409 and refused.json()["prisoner_status"] == "released", refused.text
    monitor = (await stack.delivery.get("/api/v1/monitor", headers=stack.operator)).json()
    held = {row["letter_id"]: row for row in monitor["held"]}
    assert set(ids) <= set(held)
    assert all(held[i]["hold_kind"] == "prisoner_released" and "released" in held[i]["reason"] for i in ids)
    await stack.wait_receipt(*second[0][:2], "held")
    # The cancelled bundle cannot be handed off by mistake.
    sent = await stack.delivery.post(f"/api/v1/bundles/{bundle_id}/send", headers=stack.operator)
    assert sent.status_code == 409
