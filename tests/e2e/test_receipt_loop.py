"""The receipt closes the loop, end to end with the production policy: a rejected letter's receipt
gives the preset reason in the writer's language and the moderator's note; the writer corrects the
letter and sends it again as a linked version, which is moderated and is the one delivered; a
withdrawal before scanning stops a letter, and after scanning is refused. Real processes and servers."""

from __future__ import annotations

import httpx
import pytest
from pymongo import AsyncMongoClient

from shared.rejection_reasons import rejection_reasons
from tests.e2e.test_moderation import CLEAN, CONFIRM_SLOGAN, FLAGGED, open_desk
from tests.support import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

NOTE = "Уберите, пожалуйста, последнюю фразу про лозунг."
CORRECTED = "Здравствуйте, Ремзи! Держитесь, мы с вами. Обнимаем вас всей семьёй и ждём домой."


async def receipt(desk, accepted: dict, lang: str = "uk") -> dict:
    answer = await desk.intake.get(f"/api/v1/letters/{accepted['id']}", params={"receipt_token": accepted["receipt_token"]},
                                   headers={"Accept-Language": lang})
    assert answer.status_code == 200, answer.text
    return answer.json()


async def until_receipt(desk, accepted: dict, what: str, check, timeout: float = 90) -> dict:
    seen: dict = {}

    async def shows() -> bool:
        seen.update(await receipt(desk, accepted))
        return bool(check(seen))

    await eventually(shows, timeout, f"the receipt of {accepted['id']} to show {what}")
    return seen


async def delivery_has(stack, letter_id: str) -> bool:
    mongo = AsyncMongoClient(stack.infra.mongodb_url, tz_aware=True)
    try:
        return await mongo[f"{stack.infra.namespace}-delivery"]["outgoing"].count_documents({"_id": letter_id}) == 1
    finally:
        await mongo.close()


def send_again(desk, accepted: dict, body: str) -> httpx.Response:
    return desk.intake.post(f"/api/v1/letters/{accepted['id']}/versions", json={"body": body},
                            params={"receipt_token": accepted["receipt_token"]})


async def test_a_rejected_letter_is_corrected_sent_again_and_only_the_new_version_is_delivered(campaign_stack):
    async with open_desk(campaign_stack) as desk:
        first = await desk.submit(FLAGGED)
        await desk.in_review(first)
        rejected = await desk.decide(first["id"], "reject", {"reason_code": "slogan_or_symbol", "note": NOTE})
        assert rejected.status_code == 200, rejected.text
        await desk.wait_for_status(first, "rejected")

        # The preset in the writer's language, and the note, on every interface language.
        preset = rejection_reasons().get("slogan_or_symbol")
        for lang in ("uk", "en", "ru"):
            reason = (await receipt(desk, first, lang))["reason"]
            assert reason == {"code": "slogan_or_symbol", "text": preset.writer.in_(lang), "note": NOTE, "fixable": True}
        assert (await receipt(desk, first))["can_resend"]

        # Sent again: one new version, however often the button is pressed.
        sent = await send_again(desk, first, CORRECTED)
        assert sent.status_code == 201, sent.text
        again = await send_again(desk, first, CORRECTED)
        assert again.status_code == 200 and again.json()["id"] == sent.json()["id"]
        assert (await send_again(desk, first, CORRECTED + " И ещё.")).status_code == 409
        second = sent.json()

        # The same link shows the latest version and lists the first.
        view = await receipt(desk, first)
        assert (view["id"], view["version"], view["original_text"]) == (second["id"], 2, CORRECTED)
        assert [(v["id"], v["version"], v["status"]) for v in view["earlier_versions"]] == [(first["id"], 1, "rejected")]
        assert view["earlier_versions"][0]["reason"]["note"] == NOTE and not view["can_resend"]

        # Moderated like any letter, then delivered; the rejected first version never is.
        seen = await desk.in_review(second)
        assert seen["text"] == CORRECTED
        approved = await desk.decide(second["id"], "approve", {"revision": seen["revision"]})
        assert approved.status_code == 200, approved.text
        await until_receipt(desk, first, "the new version queued", lambda v: v["status"] == "queued")
        assert await delivery_has(campaign_stack, second["id"])
        assert not await delivery_has(campaign_stack, first["id"])
        assert (await send_again(desk, first, "Третья версия.")).status_code == 409


async def test_a_writer_withdraws_a_letter_before_it_is_scanned_but_not_after(campaign_stack):
    async with open_desk(campaign_stack) as desk:
        early = await desk.submit(CLEAN)
        late = await desk.submit(FLAGGED)
        await desk.in_review(early)
        seen = await desk.in_review(late)
        approved = await desk.decide(late["id"], "approve",
                                     {"revision": seen["revision"], "confirmed_findings": CONFIRM_SLOGAN})
        assert approved.status_code == 200, approved.text

        assert (await receipt(desk, early))["can_withdraw"]
        url = f"/api/v1/letters/{early['id']}/withdrawal"
        asked = await desk.intake.post(url, params={"receipt_token": early["receipt_token"]})
        assert asked.status_code == 202 and asked.json()["withdrawal"] == "requested", asked.text
        stranger = await desk.intake.post(url, params={"receipt_token": late["receipt_token"]})
        assert stranger.status_code == 404
        withdrawn = await until_receipt(desk, early, "withdrawn", lambda v: v["withdrawal"] == "withdrawn")
        assert withdrawn["status"] == "withdrawn" and not withdrawn["can_withdraw"]
        assert [s["status"] for s in withdrawn["timeline"]][-2:] == ["withdrawal_requested", "withdrawn"]
        assert (await desk.decide(early["id"], "approve", {})).status_code == 409
        assert (await desk.sorted_letter(early["id"]))["state"] == "withdrawn"

        # The approved letter is scanned and goes to delivery after its undo window: too late then.
        await until_receipt(desk, late, "queued", lambda v: v["status"] == "queued")
        assert (await desk.intake.post(f"/api/v1/letters/{late['id']}/withdrawal",
                                       params={"receipt_token": late["receipt_token"]})).status_code == 202
        refused = await until_receipt(desk, late, "the refusal", lambda v: v["withdrawal"] == "refused")
        assert refused["withdrawal_refused"] == "already_scanned" and refused["status"] == "queued"
        assert await delivery_has(campaign_stack, late["id"])
        assert not await delivery_has(campaign_stack, early["id"])
