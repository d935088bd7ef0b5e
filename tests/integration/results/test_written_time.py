"""When a kiosk letter counts as written, through the running intake: the kiosk's time, kept within its event."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.integration.results.campaign import bearer, results_intake

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PRISONER = "p_time_01"


@pytest.fixture(scope="module")
async def event_kiosk(infra):
    """An event of the last three days (ended yesterday), its kiosk and a prisoner, on an intake of their own."""
    async with results_intake(infra, name="rt") as intake:
        admin = bearer(intake.token("staff token (admin)"))
        today = datetime.now(UTC).date()
        event = {"id": "e_time", "name": "Вечір листів", "city": "Kyiv", "country": "UA",
                 "starts_on": (today - timedelta(days=3)).isoformat(), "ends_on": (today - timedelta(days=1)).isoformat()}
        async with httpx.AsyncClient(base_url=intake.url, timeout=30) as http:
            assert (await http.post("/api/v1/events", json=event, headers=admin)).status_code == 201
            kiosk = await http.post("/api/v1/events/e_time/kiosks", json={"kiosk_id": "k_time", "name": "Stand"},
                                    headers=admin)
            names = {"uk": "Час Приклад", "ru": "Время Пример", "en": "Time Example"}
            assert (await http.post("/api/v1/prisoners", json={"id": PRISONER, "names": names},
                                    headers=admin)).status_code == 201
        yield intake, kiosk.json()["token"], today


async def kiosk_letter(intake, token: str, written_at: datetime) -> None:
    letter = {"prisoner_id": PRISONER, "client_ref": str(uuid.uuid4()), "body": "Здравствуйте! Держитесь.",
              "author": {"city": "Kyiv"}, "source": {"channel": "kiosk"}, "written_at": written_at.isoformat()}
    async with httpx.AsyncClient(base_url=intake.url, timeout=30) as http:
        answer = await http.post("/api/v1/letters", json=letter, headers=bearer(token))
    assert answer.status_code == 201, answer.text


async def by_day(intake) -> dict[str, int]:
    async with httpx.AsyncClient(base_url=intake.url, timeout=60) as http:
        answer = await http.get("/api/v1/results", params={"event": "e_time"},
                                headers=bearer(intake.token("staff token (operator)")))
    assert answer.status_code == 200, answer.text
    return answer.json()["by_day"]


async def test_an_offline_kiosks_letters_count_on_the_days_written_kept_within_the_event(event_kiosk):
    intake, token, today = event_kiosk
    first_day = today - timedelta(days=3)
    during = datetime(first_day.year, first_day.month, first_day.day, 15, 0, tzinfo=UTC)
    await kiosk_letter(intake, token, during)  # written on the event's first day, synced today
    await kiosk_letter(intake, token, during - timedelta(days=20))  # a kiosk clock weeks behind
    await kiosk_letter(intake, token, datetime.now(UTC) + timedelta(days=2))  # a clock ahead: at most today
    # Before the event: a day before it opened. After it: no later than a day after it closed (today, here).
    assert await by_day(intake) == {first_day.isoformat(): 1, (first_day - timedelta(days=1)).isoformat(): 1,
                                     today.isoformat(): 1}
