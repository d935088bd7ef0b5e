"""Translation by volunteers end to end, with the production policy: a letter not in Russian waits
for a translator, the translator's Russian is read by a moderator, the scan prints only the
Russian, and the writer's receipt shows both texts and each step. Real processes and servers."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.test_moderation import open_desk, staff_token
from tests.support import eventually, pdf_text, squash

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

GERMAN = ("Lieber Remzi, wir denken jeden Tag an dich. Der erste Schnee ist gefallen und die Kinder spielen "
          "draußen im Hof. Bleib stark, wir warten auf dich!")
UKRAINIAN = "Привіт, Ремзі! Як ти? Ми тебе дуже любимо і чекаємо. Тримайся, у нас усе добре."
RUSSIAN = ("Дорогой Ремзи, мы думаем о вас каждый день. Выпал первый снег, и дети играют во дворе. "
           "Держитесь, мы вас ждём!")


async def receipt(desk, accepted: dict) -> dict:
    answer = await desk.intake.get(f"/api/v1/letters/{accepted['id']}",
                                   params={"receipt_token": accepted["receipt_token"]})
    assert answer.status_code == 200, answer.text
    return answer.json()


async def waiting_for_translation(translation: httpx.AsyncClient, accepted: dict, lang: str) -> dict:
    found: dict = {}

    async def queued() -> bool:
        answer = await translation.get("/api/v1/translation/letters", params={"lang": lang, "limit": 200})
        found.update(answer.json())
        return accepted["id"] in {letter["id"] for letter in found["letters"]}

    await eventually(queued, 30, f"letter {accepted['id']} in the translators' {lang} queue")
    return found


async def test_a_german_letter_is_translated_moderated_and_printed_in_russian_only(campaign_stack):
    translator = {"Authorization": f"Bearer {await staff_token(campaign_stack, 'translator')}"}
    async with open_desk(campaign_stack) as desk, httpx.AsyncClient(
            base_url=campaign_stack.url("sorting"), headers=translator, timeout=30) as translation:
        accepted = await desk.submit(GERMAN, name="Jürgen Schmidt")
        ukrainian = await desk.submit(UKRAINIAN)

        # Waiting for a translator, not for a moderator; the receipt says so, with the original.
        await desk.wait_for_status(accepted, "awaiting_translation")
        await desk.wait_for_status(ukrainian, "awaiting_translation")
        waiting = await receipt(desk, accepted)
        assert waiting["original_text"] == GERMAN and waiting["printed_text"] is None
        assert waiting["source_language"] == "de"
        german_queue = await waiting_for_translation(translation, accepted, "de")
        assert ukrainian["id"] not in {letter["id"] for letter in german_queue["letters"]}
        assert (await waiting_for_translation(translation, ukrainian, "uk"))["backlog"]["languages"]["uk"] >= 1
        queue = (await desk.sorting.get("/api/v1/moderation/letters", headers=desk.moderator)).json()
        assert queue["translation"]["languages"]["de"] >= 1
        assert accepted["id"] not in {letter["id"] for letter in queue["letters"]}

        # The translator reads the original, checks the Russian as they write it, and submits it.
        original = (await translation.get(f"/api/v1/translation/letters/{accepted['id']}")).json()
        assert original["original_text"] == GERMAN and original["signature"] == "Jürgen, Полтава"
        draft = (await translation.post("/api/v1/translation/check", json={"text": RUSSIAN})).json()
        assert draft["verdict"] == "ok"
        submitted = await translation.post(f"/api/v1/translation/letters/{accepted['id']}", json={"text": RUSSIAN})
        assert submitted.status_code == 200, submitted.text
        assert submitted.json()["state"] == "review_needed"
        again = await translation.post(f"/api/v1/translation/letters/{accepted['id']}", json={"text": "Ещё раз."})
        assert again.status_code == 409
        # A translator decides nothing else.
        assert (await translation.get("/api/v1/moderation/letters")).status_code == 403

        # A moderator reads the Russian in the careful lane, with the original beside it.
        seen = await desk.in_review(accepted)
        await desk.wait_for_status(accepted, "review_needed")
        assert (seen["text"], seen["original_text"]) == (RUSSIAN, GERMAN)
        assert "translated" in seen["review_reasons"] and seen["lane"] == "careful"
        assert seen["translation"]["by"] == "test-translator"
        approved = await desk.decide(accepted["id"], "approve", {"revision": seen["revision"]})
        assert approved.status_code == 200, approved.text

        # After the undo window: ready, and the receipt shows the letter as printed beside the original.
        async def printed() -> bool:
            return (await receipt(desk, accepted))["printed_text"] is not None

        await eventually(printed, 90, "the receipt to show the printed letter")
        ready = await receipt(desk, accepted)
        assert ready["printed_text"] == RUSSIAN and ready["translated"] and not ready["redacted"]
        assert ready["original_text"] == GERMAN
        steps = [step["status"] for step in ready["timeline"]]
        assert steps[:4] == ["received", "awaiting_translation", "review_needed", "ready"]

        text = squash(pdf_text(await desk.scan(accepted["id"])))
        assert squash("Выпал первый снег, и дети играют во дворе.") in text
        assert "Schnee" not in text and "Lieber" not in text
        assert (await desk.sorted_letter(accepted["id"]))["decided_outcome"] == "translated"

        # The Ukrainian letter: translated too, then rejected, so it waits for no one afterwards.
        assert (await translation.post(f"/api/v1/translation/letters/{ukrainian['id']}",
                                       json={"text": RUSSIAN})).status_code == 200
        await desk.in_review(ukrainian)
        rejected = await desk.decide(ukrainian["id"], "reject", {"reason": "Тест: перевод не нужен."})
        assert rejected.status_code == 200, rejected.text
        await desk.wait_for_status(ukrainian, "rejected")


async def test_a_moderator_sends_a_letter_in_review_to_translation(campaign_stack):
    translator = {"Authorization": f"Bearer {await staff_token(campaign_stack, 'translator')}"}
    mixed = ("Здравствуйте, Ремзи! У нас выпал первый снег, и мы все часто вспоминаем вас. "
             "Ми тебе любимо і чекаємо.")
    async with open_desk(campaign_stack) as desk, httpx.AsyncClient(
            base_url=campaign_stack.url("sorting"), headers=translator, timeout=30) as translation:
        accepted = await desk.submit(mixed)
        seen = await desk.in_review(accepted)

        sent = await desk.decide(accepted["id"], "translate", {"revision": seen["revision"], "note": "the last line"})

        assert sent.status_code == 200, sent.text
        assert sent.json()["state"] == "awaiting_translation"
        await desk.wait_for_status(accepted, "awaiting_translation")
        original = (await translation.get(f"/api/v1/translation/letters/{accepted['id']}")).json()
        assert original["note"] == "the last line" and original["requested_by"] == "moderator"
        assert (await translation.post(f"/api/v1/translation/letters/{accepted['id']}",
                                       json={"text": RUSSIAN})).status_code == 200
        await desk.wait_for_status(accepted, "review_needed")
        rejected = await desk.decide(accepted["id"], "reject", {"reason": "Тест."})
        assert rejected.status_code == 200, rejected.text
