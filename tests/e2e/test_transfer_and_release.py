"""Transfers and releases end to end, through intake, sorting and delivery as processes: letters in flight
follow a transferred prisoner to the new route (and wait, visibly, while nobody reaches them there);
letters kept for a released prisoner are handed to them in one bundle and their writers are told;
archiving a kept letter needs a reason and is audited.

Own namespace and services (like tests/e2e/test_delivery.py), with intake's writer notices going to
the loopback mailbox too. Every test makes its own prisoners, facilities and intermediaries.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
import pytest_asyncio
from pypdf import PdfReader

from deploy.local import SORTING_STRAIGHT_THROUGH
from shared.mongo import make_client
from tests.e2e.test_delivery import Stack
from tests.integration.delivery.support import own_pipeline
from tests.support import eventually, squash

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@dataclass
class Campaign(Stack):
    mongo_url: str = ""
    namespace: str = ""

    async def facility(self, name: str) -> str:
        facility_id = f"f_{uuid.uuid4().hex[:8]}"
        answer = await self.intake.post("/api/v1/facilities", headers=self.operator, json={
            "id": facility_id, "name": name, "kind": "colony", "region": "Крым",
            "address": {"lines": ["ул. Проверочная, 1"], "postcode": "295000", "city": "Симферополь"}})
        assert answer.status_code == 201, answer.text
        return facility_id

    async def prisoner_at(self, name_ru: str, facility_id: str) -> str:
        prisoner_id = f"p_{uuid.uuid4().hex[:8]}"
        record = {"id": prisoner_id, "names": {"uk": name_ru, "ru": name_ru, "en": name_ru}, "status": "detained"}
        assert (await self.intake.post("/api/v1/prisoners", json=record, headers=self.admin)).status_code == 201
        placed = await self.intake.post(f"/api/v1/prisoners/{prisoner_id}/facility", headers=self.operator,
                                        json={"facility_id": facility_id})
        assert placed.status_code == 200, placed.text
        await self.delivery_knows(prisoner_id, lambda p: p["facility_id"] == facility_id)
        return prisoner_id

    async def delivery_knows(self, prisoner_id: str, holds) -> None:
        async def known() -> bool:
            prisoners = (await self.delivery.get("/api/v1/prisoners", headers=self.operator)).json()
            return any(p["prisoner_id"] == prisoner_id and holds(p) for p in prisoners)

        await eventually(known, 30, f"delivery to learn the news of {prisoner_id}")

    async def intermediary(self, prisoner_id: str, channel: str, facility_id: str | None = None,
                           primary: bool = True) -> str:
        intermediary_id = f"i_{uuid.uuid4().hex[:8]}"
        person = {"id": intermediary_id, "prisoner_id": prisoner_id, "name": "Адвокат", "kind": "lawyer",
                  "channel": channel, "address": f"{intermediary_id}@lawyers.test", "capacity_per_bundle": 10,
                  "primary": primary, "facility_id": facility_id}
        answer = await self.delivery.put(f"/api/v1/intermediaries/{intermediary_id}", json=person,
                                         headers=self.operator)
        assert answer.status_code == 200, answer.text
        return intermediary_id

    async def letter(self, letter_id: str) -> dict:
        return (await self.delivery.get(f"/api/v1/letters/{letter_id}", headers=self.operator)).json()

    async def intake_letter(self, letter_id: str) -> dict:
        mongo = make_client(self.mongo_url)
        try:
            return await mongo[f"{self.namespace}-intake"]["letters"].find_one({"_id": letter_id}) or {}
        finally:
            await mongo.close()

    async def transfer(self, prisoner_id: str, facility_id: str) -> None:
        moved = await self.intake.post(f"/api/v1/prisoners/{prisoner_id}/transfer", headers=self.operator,
                                       json={"facility_id": facility_id})
        assert moved.status_code == 200, moved.text


@pytest_asyncio.fixture(scope="module")
async def campaign(infra) -> AsyncIterator[Campaign]:
    # Writers who consented are told by e-mail: to the same loopback mailbox as the bundles.
    async with own_pipeline(infra, "t", "transfer-release-e2e", {
        "DELIVERY_BUNDLE_INTERVAL_S": "3600", "DELIVERY_SEND_POLL_S": "0.3", "DELIVERY_METRICS_REFRESH_S": "1",
        **SORTING_STRAIGHT_THROUGH,
    }, writer_notices=True) as running:
        yield Campaign(running.intake, running.delivery, running.delivery_url, running.mailbox, running.admin,
                       running.operator, mongo_url=infra.mongodb_url, namespace=running.namespace)


async def test_letters_wait_while_the_prisoner_is_moved_then_follow_them_to_the_new_route(campaign: Campaign):
    here, there = await campaign.facility("СИЗО-Отправной"), await campaign.facility("ИК-Прибытия")
    prisoner_id = await campaign.prisoner_at("Эрфан Переводной", here)
    lawyer_here = await campaign.intermediary(prisoner_id, "manual", facility_id=here)
    # One letter already out with the lawyer, one in a bundle not sent yet, one queued.
    (out,) = await campaign.write(prisoner_id, 1)
    await campaign.wait_states([out[0]], "queued")
    sent = await campaign.delivery.post(f"/api/v1/bundles/{await campaign.build(lawyer_here)}/send",
                                        headers=campaign.operator)
    assert sent.status_code == 200 and sent.json()["bundle"]["state"] == "sent", sent.text
    (bundled,) = await campaign.write(prisoner_id, 1)
    await campaign.wait_states([bundled[0]], "queued")
    unsent = await campaign.build(lawyer_here)
    (queued,) = await campaign.write(prisoner_id, 1)
    await campaign.wait_states([queued[0]], "queued")
    following = [bundled[0], queued[0]]

    await campaign.transfer(prisoner_id, there)

    # Nobody reaches the prisoner at the new facility yet: the letters wait, and their writers see why.
    await campaign.wait_states(following, "held")
    assert (await campaign.bundle(unsent))["state"] == "cancelled"
    for letter_id, token, _ in (bundled, queued):
        letter = await campaign.letter(letter_id)
        assert letter["hold_kind"] == "prisoner_moving" and "ИК-Прибытия" in letter["reason"]
        assert [(s["change"], s["from_facility_id"], s["to_facility_id"], s["from_intermediary_id"])
                for s in letter["history"]] == [("transfer", here, there, lawyer_here)]
        await campaign.wait_receipt(letter_id, token, "held")

        async def told(letter_id=letter_id) -> bool:
            return (await campaign.intake_letter(letter_id)).get("held_kind") == "prisoner_moving"

        await eventually(told, 30, "intake to record that the letter waits while the prisoner is moved")
    gone = await campaign.letter(out[0])
    assert gone["state"] == "sent" and [s["change"] for s in gone["history"]] == ["not_recalled"]

    # A lawyer admitted at the new facility is added: the waiting letters go to them, in one bundle.
    lawyer_there = await campaign.intermediary(prisoner_id, "email", facility_id=there)
    await campaign.wait_states(following, "queued")
    await campaign.build(lawyer_there)
    (mail,) = await campaign.mail_to(f"{lawyer_there}@lawyers.test")
    assert {entry["letter_id"] for entry in mail.manifest["letters"]} == set(following)
    await campaign.wait_states(following, "sent")
    for letter_id, token, _ in (bundled, queued):
        history = (await campaign.letter(letter_id))["history"]
        assert [(s["change"], s["to_intermediary_id"]) for s in history] == [("transfer", None),
                                                                            ("route_found", lawyer_there)]
        await campaign.wait_receipt(letter_id, token, "sent")


async def test_queued_and_bundled_letters_move_at_once_to_whoever_reaches_the_new_facility(campaign: Campaign):
    here, there = await campaign.facility("СИЗО-Первое"), await campaign.facility("ИК-Вторая")
    prisoner_id = await campaign.prisoner_at("Руслан Этапный", here)
    lawyer_here = await campaign.intermediary(prisoner_id, "manual", facility_id=here)
    lawyer_there = await campaign.intermediary(prisoner_id, "email", facility_id=there, primary=False)
    (bundled,) = await campaign.write(prisoner_id, 1)
    await campaign.wait_states([bundled[0]], "queued")
    unsent = await campaign.build(lawyer_here)
    (queued,) = await campaign.write(prisoner_id, 1)
    await campaign.wait_states([queued[0]], "queued")

    await campaign.transfer(prisoner_id, there)

    async def moved() -> bool:
        letters = [await campaign.letter(i) for i in (bundled[0], queued[0])]
        return all(letter["state"] == "queued" and letter["intermediary_id"] == lawyer_there for letter in letters)

    await eventually(moved, 30, "the letters to follow the prisoner to the lawyer at the new facility")
    assert (await campaign.bundle(unsent))["state"] == "cancelled"
    for letter_id in (bundled[0], queued[0]):
        (step,) = (await campaign.letter(letter_id))["history"]
        assert (step["from_intermediary_id"], step["to_intermediary_id"], step["to_facility_id"]) == (
            lawyer_here, lawyer_there, there)
    await campaign.build(lawyer_there)
    (mail,) = await campaign.mail_to(f"{lawyer_there}@lawyers.test")
    assert {entry["letter_id"] for entry in mail.manifest["letters"]} == {bundled[0], queued[0]}
    await campaign.wait_receipt(*bundled[:2], "sent")


async def test_letters_kept_for_a_released_prisoner_are_handed_over_as_one_bundle_and_writers_told(
        campaign: Campaign):
    facility = await campaign.facility("СИЗО-Освобождения")
    prisoner_id = await campaign.prisoner_at("Нариман Вольный", facility)
    lawyer = await campaign.intermediary(prisoner_id, "manual")
    writer = f"writer.{uuid.uuid4().hex[:6]}@example.test"
    consented = await campaign.write(prisoner_id, 2, email=writer)
    await campaign.wait_states([letter_id for letter_id, _, _ in consented], "queued")
    unsent = await campaign.build(lawyer)
    silent = await campaign.write(prisoner_id, 1)
    letters = consented + silent
    ids = [letter_id for letter_id, _, _ in letters]
    await campaign.wait_states([silent[0][0]], "queued")

    released = await campaign.intake.post(f"/api/v1/prisoners/{prisoner_id}/status", json={"status": "released"},
                                          headers=campaign.admin)
    assert released.status_code == 200, released.text
    await campaign.wait_states(ids, "held")
    assert (await campaign.bundle(unsent))["state"] == "cancelled"
    kept = await campaign.delivery.get(f"/api/v1/prisoners/{prisoner_id}/kept-letters", headers=campaign.operator)
    assert sorted(letter["letter_id"] for letter in kept.json()) == sorted(ids)
    anonymous = await campaign.delivery.post(f"/api/v1/prisoners/{prisoner_id}/release-hand-over",
                                             json={"recipient": "person"})
    assert anonymous.status_code == 401

    answer = await campaign.delivery.post(f"/api/v1/prisoners/{prisoner_id}/release-hand-over",
                                          json={"recipient": "person"}, headers=campaign.operator)

    assert answer.status_code == 201, answer.text
    bundle = answer.json()["bundle"]
    assert (bundle["purpose"], bundle["recipient"], bundle["state"]) == ("release", "person", "sent")
    assert sorted(bundle["letter_ids"]) == sorted(ids)
    async with httpx.AsyncClient(timeout=30) as client:
        pdf = (await client.get(answer.json()["download_url"])).content
    pages = PdfReader(io.BytesIO(pdf)).pages
    assert len(pages) == 1 + len(ids) and "Количество писем: 3" in squash(pages[0].extract_text())
    assert "Нариман Вольный" in squash(pages[0].extract_text())
    await campaign.wait_states(ids, "handed_over")
    for letter_id, token, _ in letters:
        await campaign.wait_receipt(letter_id, token, "handed_over")
        assert [s["change"] for s in (await campaign.letter(letter_id))["history"]] == ["release_hand_over"]
    # The writer who consented hears of each letter; the other writer left no address and hears nothing.
    notices = await campaign.mail_to(writer, count=2)
    assert len(notices) == 2 and all("handed over" in n.text for n in notices)
    again = await campaign.delivery.post(f"/api/v1/prisoners/{prisoner_id}/release-hand-over",
                                         json={"recipient": "person"}, headers=campaign.operator)
    assert again.status_code == 409
    audit = (await campaign.delivery.get("/api/v1/audit", headers=campaign.admin)).json()
    (entry,) = [e for e in audit if e["action"] == "release.hand_over" and e["target"] == prisoner_id]
    assert entry["details"]["bundle_id"] == bundle["bundle_id"] and sorted(entry["details"]["letters"]) == sorted(ids)


async def test_archiving_a_kept_letter_needs_a_reason_and_is_audited(campaign: Campaign):
    facility = await campaign.facility("СИЗО-Архивное")
    prisoner_id = await campaign.prisoner_at("Сервер Архивный", facility)
    await campaign.intermediary(prisoner_id, "manual")
    letters = await campaign.write(prisoner_id, 2)
    ids = [letter_id for letter_id, _, _ in letters]
    await campaign.wait_states(ids, "queued")
    released = await campaign.intake.post(f"/api/v1/prisoners/{prisoner_id}/status", json={"status": "released"},
                                          headers=campaign.admin)
    assert released.status_code == 200, released.text
    await campaign.wait_states(ids, "held")
    archived_id = ids[0]

    for body in ({}, {"reason": ""}, {"reason": "   "}):
        refused = await campaign.delivery.post(f"/api/v1/letters/{archived_id}/archive", json=body,
                                               headers=campaign.operator)
        assert refused.status_code == 422, (body, refused.text)
    assert (await campaign.letter(archived_id))["archived"] is False
    reason = "the family asked us not to pass on letters from strangers"
    done = await campaign.delivery.post(f"/api/v1/letters/{archived_id}/archive", json={"reason": reason},
                                        headers=campaign.operator)

    assert done.status_code == 200 and done.json()["archived"] is True, done.text
    audit = (await campaign.delivery.get("/api/v1/audit", headers=campaign.admin)).json()
    (entry,) = [e for e in audit if e["action"] == "letter.archive" and e["target"] == archived_id]
    assert entry["details"]["reason"] == reason and entry["role"] == "operator"
    kept = await campaign.delivery.get(f"/api/v1/prisoners/{prisoner_id}/kept-letters", headers=campaign.operator)
    assert [letter["letter_id"] for letter in kept.json()] == [ids[1]], "an archived letter is not kept any more"
    handed = await campaign.delivery.post(f"/api/v1/prisoners/{prisoner_id}/release-hand-over",
                                          json={"recipient": "family"}, headers=campaign.operator)
    assert handed.status_code == 201 and handed.json()["bundle"]["letter_ids"] == [ids[1]], handed.text
    assert (await campaign.letter(archived_id))["state"] == "held"
