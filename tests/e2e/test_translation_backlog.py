"""The translation backlog where people watch it, end to end: the operators' monitor (delivery, from
sorting's events) and the moderators' queue show how many letters wait for a translator and the
oldest's age, and a translated letter leaves the backlog. Real processes and servers."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.test_moderation import open_desk, staff_token
from tests.e2e.test_translation import GERMAN, RUSSIAN
from tests.support import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


async def test_the_monitor_and_the_moderation_queue_show_the_translation_backlog(campaign_stack):
    operator = {"Authorization": f"Bearer {await staff_token(campaign_stack, 'operator')}"}
    translator = {"Authorization": f"Bearer {await staff_token(campaign_stack, 'translator')}"}
    async with open_desk(campaign_stack) as desk, \
            httpx.AsyncClient(base_url=campaign_stack.url("delivery"), headers=operator, timeout=30) as delivery, \
            httpx.AsyncClient(base_url=campaign_stack.url("sorting"), headers=translator, timeout=30) as translation:
        async def monitor_backlog() -> dict:
            answer = await delivery.get("/api/v1/monitor")
            assert answer.status_code == 200, answer.text
            return answer.json()["translation"]

        before = (await monitor_backlog())["waiting"]
        accepted = await desk.submit(GERMAN, name="Anna")
        await desk.wait_for_status(accepted, "awaiting_translation")

        seen: dict = {}

        async def counted() -> bool:
            seen.update(await monitor_backlog())
            return seen["waiting"] == before + 1

        await eventually(counted, 30, "the monitor to count the German letter as waiting for a translator")
        assert seen["languages"].get("de", 0) >= 1 and seen["oldest_waiting_s"] > 0
        queue = (await desk.sorting.get("/api/v1/moderation/letters", headers=desk.moderator)).json()
        assert queue["translation"]["total"] >= 1 and queue["translation"]["oldest_waiting_s"] > 0

        translated = await translation.post(f"/api/v1/translation/letters/{accepted['id']}", json={"text": RUSSIAN})
        assert translated.status_code == 200, translated.text

        async def left() -> bool:
            return (await monitor_backlog())["waiting"] == before

        await eventually(left, 30, "the translated letter to leave the monitor's backlog")
        await desk.in_review(accepted)
        assert (await desk.decide(accepted["id"], "reject", {"reason_code": "other", "note": "Тест."})).status_code == 200
