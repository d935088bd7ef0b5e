"""The operators' side of the session's stack for browser tests: prisoners, letters and bundles made
through the HTTP APIs, and the monitor page's sign-in and refresh."""

from __future__ import annotations

import asyncio
import uuid
from urllib.parse import urlsplit

import httpx
from playwright.async_api import Page, expect

from tests.support import eventually


class Operators:
    """The staff side of the session's stack, through its HTTP APIs."""

    def __init__(self, stack) -> None:
        self.intake = httpx.AsyncClient(base_url=stack.url("intake"), timeout=30)
        self.delivery = httpx.AsyncClient(base_url=stack.url("delivery"), timeout=30)
        self.admin = {"Authorization": f"Bearer {stack.demo_token('staff token (admin)')}"}
        self.token = stack.demo_token("staff token (operator)")
        self.operator = {"Authorization": f"Bearer {self.token}"}
        self.created: list[str] = []

    async def close(self) -> None:
        # The session's stack is shared: other tests write to every detained prisoner and expect
        # their letters queued, so the prisoners made here leave the writers' list afterwards.
        for prisoner_id in self.created:
            await self.intake.post(f"/api/v1/prisoners/{prisoner_id}/status", json={"status": "released"},
                                   headers=self.admin)
        await self.intake.aclose()
        await self.delivery.aclose()

    async def prisoner(self, name_ru: str, intermediary: bool, capacity: int = 20) -> tuple[str, str | None]:
        suffix = uuid.uuid4().hex[:8]
        prisoner_id = f"p_{suffix}"
        record = {"id": prisoner_id, "names": {"uk": name_ru, "ru": name_ru, "en": name_ru}}
        assert (await self.intake.post("/api/v1/prisoners", json=record, headers=self.admin)).status_code == 201
        self.created.append(prisoner_id)
        intermediary_id = None
        if intermediary:
            intermediary_id = f"i_{suffix}"
            person = {"id": intermediary_id, "prisoner_id": prisoner_id, "name": f"Адвокат {suffix}",
                      "kind": "lawyer", "channel": "manual", "address": "+000 messenger", "primary": True,
                      "capacity_per_bundle": capacity}
            answer = await self.delivery.put(f"/api/v1/intermediaries/{intermediary_id}", json=person,
                                             headers=self.operator)
            assert answer.status_code == 200, answer.text
        return prisoner_id, intermediary_id

    async def letters(self, prisoner_id: str, count: int) -> list[str]:
        ids = []
        for number in range(count):
            answer = await self.intake.post("/api/v1/letters", json={
                "prisoner_id": prisoner_id, "client_ref": str(uuid.uuid4()), "source": {"channel": "web"},
                "body": f"Здравствуйте! Письмо {number + 1}. У нас тепло и солнечно. Желаю вам здоровья.",
                "author": {"display_name": "Оля", "city": "Киев"}})
            assert answer.status_code == 201, answer.text
            ids.append(answer.json()["id"])
        return ids

    async def wait(self, letter_ids: list[str], state: str) -> None:
        async def reached() -> bool:
            answers = await asyncio.gather(*(self.delivery.get(f"/api/v1/letters/{i}", headers=self.operator)
                                             for i in letter_ids))
            return all(a.status_code == 200 and a.json()["state"] == state for a in answers)

        await eventually(reached, 60, f"letters to be {state} in delivery")

    async def monitor(self) -> dict:
        return (await self.delivery.get("/api/v1/monitor", headers=self.operator)).json()

    async def queued_letters(self, name_ru: str, count: int, capacity: int = 20) -> tuple[str, str, list[str]]:
        """A new prisoner with an intermediary, and `count` letters to them waiting in delivery."""
        prisoner_id, intermediary_id = await self.prisoner(name_ru, intermediary=True, capacity=capacity)
        letters = await self.letters(prisoner_id, count)
        await self.wait(letters, "queued")
        assert intermediary_id is not None
        return prisoner_id, intermediary_id, letters

    async def build_bundle(self, intermediary_id: str) -> str:
        built = await self.delivery.post("/api/v1/bundles/build", json={"intermediary_id": intermediary_id},
                                         headers=self.operator)
        assert built.status_code == 200, built.text
        (bundle_id,) = built.json()["made"]
        return bundle_id

    async def send_bundle(self, bundle_id: str) -> dict:
        """Mark a manual bundle sent, as the operator does once it left: the answer, with its confirm link."""
        sent = await self.delivery.post(f"/api/v1/bundles/{bundle_id}/send", headers=self.operator)
        assert sent.status_code == 200, sent.text
        return sent.json()

    async def confirmation_path(self, name_ru: str, letters: int) -> str:
        """A manual bundle of `letters` letters marked sent: the path of its intermediary's personal link."""
        _, intermediary_id, _ = await self.queued_letters(name_ru, letters, capacity=letters)
        sent = await self.send_bundle(await self.build_bundle(intermediary_id))
        return urlsplit(sent["confirm_url"]).path


async def sign_in(page: Page, token: str) -> None:
    await page.goto("/monitor")
    await expect(page.locator("#sign-in")).to_be_visible()
    await page.fill("#token", token)
    await page.click("#sign-in-form button[type=submit]")


async def next_refresh(page: Page) -> None:
    """Wait for the monitor to redraw from a newer answer (its status names the answer's time)."""
    seen = await page.locator("#status").text_content()
    await expect(page.locator("#status")).not_to_have_text(seen or "", timeout=15_000)
