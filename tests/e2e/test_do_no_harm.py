""""Do no harm", end to end through the three services as processes: with the production policy a
person decides on every letter; the writer's name and city are screened like the text; a
block-level finding needs a confirmation; an approval can be undone before anything reaches
delivery; look-alike letters do not hide a slogan.

`campaign_stack` runs sorting with its defaults (no automatic approval), its undo window shortened
to CAMPAIGN_UNDO_WINDOW_S; `stack` runs it with automatic approval on, as the other suites do.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from shared.events import event_id_for
from shared.mongo import read_times
from tests.conftest import CAMPAIGN_UNDO_WINDOW_S
from tests.e2e.test_moderation import CLEAN, FLAGGED, Desk, open_desk, staff_token
from tests.support import pdf_text, squash

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SLOGAN = {"rule": "slogans.glory_to_ukraine", "field": "body"}
PHONE_IN_CITY = {"rule": "personal_data.phone", "field": "writer_city"}


@pytest.fixture
async def campaign_desk(campaign_stack) -> AsyncIterator[Desk]:
    """A moderator where the production policy holds: every letter waits for a person."""
    async with open_desk(campaign_stack) as desk:
        yield desk


@pytest.fixture
async def desk(stack) -> AsyncIterator[Desk]:
    """A moderator where automatic approval is on: only what screening flags waits."""
    async with open_desk(stack) as desk:
        yield desk


async def submit(desk: Desk, body: str = CLEAN, *, name: str = "Оксана", city: str = "Полтава",
                 prisoner_id: str = "p_demo_01") -> dict:
    letter = {"prisoner_id": prisoner_id, "body": body, "client_ref": str(uuid.uuid4()),
              "author": {"display_name": name, "city": city, "contact_consent": False}, "source": {"channel": "web"}}
    answer = await desk.intake.post("/api/v1/letters", json=letter)
    assert answer.status_code == 201, answer.text
    return answer.json()


async def lane_of(desk: Desk, letter_id: str, lane: str) -> bool:
    queue = await desk.sorting.get("/api/v1/moderation/letters", params={"lane": lane, "limit": 200},
                                   headers=desk.moderator)
    assert queue.status_code == 200, queue.text
    return letter_id in {item["id"] for item in queue.json()["letters"]}


async def reached_delivery(stack, letter_id: str) -> bool:
    operator = {"Authorization": f"Bearer {await staff_token(stack, 'operator')}"}
    async with httpx.AsyncClient(base_url=stack.url("delivery"), headers=operator) as delivery:
        outgoing = (await delivery.get("/api/v1/outgoing", params={"limit": 500})).json()
    return letter_id in {w["letter_id"] for w in outgoing["waiting"]}


async def announced_ready(desk: Desk, letter_id: str) -> bool:
    return await desk.sorting_db["outbox"].find_one({"_id": str(event_id_for(letter_id, "letter.ready"))}) is not None


async def test_by_default_no_letter_reaches_ready_without_a_moderators_decision(campaign_desk, campaign_stack):
    clean = await submit(campaign_desk, CLEAN)
    other = await submit(campaign_desk, CLEAN + " Пишите нам.", prisoner_id="p_demo_02")

    for accepted in (clean, other):
        seen = await campaign_desk.in_review(accepted)
        await campaign_desk.wait_for_status(accepted, "review_needed")
        assert (seen["lane"], seen["review_reasons"], seen["bulk_approvable"]) == ("fast", [], True)
        assert await lane_of(campaign_desk, accepted["id"], "fast")
        assert not await lane_of(campaign_desk, accepted["id"], "careful")
        assert not await announced_ready(campaign_desk, accepted["id"])
        assert "scan_sha256" not in await campaign_desk.sorted_letter(accepted["id"])
    queue = (await campaign_desk.sorting.get("/api/v1/moderation/letters", headers=campaign_desk.moderator)).json()
    assert queue["lanes"]["fast"] >= 2 and queue["total"] == queue["lanes"]["fast"] + queue["lanes"]["careful"]


async def test_a_slogan_signed_as_the_writers_name_is_flagged_even_with_automatic_approval(desk):
    accepted = await submit(desk, CLEAN, name="СлаваУкраине")

    seen = await desk.in_review(accepted)

    assert (seen["lane"], seen["review_reasons"], seen["block"]) == ("careful", ["findings"], True)
    (finding,) = [f for f in seen["findings"] if f["category"] == "slogans"]
    assert finding["field"] == "writer_first_name" and {f["field"] for f in seen["findings"]} == {"writer_first_name"}
    assert seen["writer_first_name"][finding["start"]:finding["end"]] == "СлаваУкраине"
    assert seen["signature"] == "СлаваУкраине, Полтава"
    assert await lane_of(desk, accepted["id"], "careful")
    assert not await announced_ready(desk, accepted["id"])


async def test_a_phone_in_the_city_is_flagged_and_the_corrected_city_is_what_is_printed(desk):
    accepted = await submit(desk, CLEAN, city="Полтава, +380 67 123 45 67")
    seen = await desk.in_review(accepted)
    assert seen["lane"] == "careful"
    assert ("writer_city", "personal_data") in {(f["field"], f["category"]) for f in seen["findings"]}
    assert {f["field"] for f in seen["findings"]} == {"writer_city"}
    refused = await desk.decide(accepted["id"], "approve", {"revision": seen["revision"]})
    assert refused.status_code == 409 and [(f["rule"], f["field"]) for f in refused.json()["block_findings"]] == \
        [(PHONE_IN_CITY["rule"], "writer_city")]

    corrected = await desk.decide(accepted["id"], "redact", {"field": "writer_city", "text": "Полтава",
                                                             "revision": seen["revision"], "approve": True})

    assert corrected.status_code == 200, corrected.text
    view = corrected.json()
    assert (view["state"], view["writer_city"], view["original_writer_city"]) == \
        ("ready", "Полтава", "Полтава, +380 67 123 45 67")
    assert view["history"][1]["field"] == "writer_city" and view["history"][1]["after"] == "Полтава"
    text = squash(pdf_text(await desk.scan(accepted["id"])))
    assert text.endswith("Оксана, Полтава") and "380" not in text


async def test_a_block_level_approval_without_confirmation_is_refused_and_with_it_succeeds(campaign_desk):
    accepted = await submit(campaign_desk, FLAGGED, city="+380671234567")
    seen = await campaign_desk.in_review(accepted)
    assert seen["lane"] == "careful" and seen["block"]

    for confirmation in (None, [SLOGAN], [SLOGAN, PHONE_IN_CITY, {"rule": SLOGAN["rule"], "field": "writer_city"}]):
        refused = await campaign_desk.decide(accepted["id"], "approve",
                                             {"revision": seen["revision"], "confirmed_findings": confirmation})
        assert refused.status_code == 409, refused.text
        assert {(f["rule"], f["field"]) for f in refused.json()["block_findings"]} == \
            {(SLOGAN["rule"], "body"), (PHONE_IN_CITY["rule"], "writer_city")}
    assert (await campaign_desk.sorted_letter(accepted["id"]))["state"] == "review_needed"

    answer = await campaign_desk.decide(accepted["id"], "approve",
                                        {"revision": seen["revision"], "confirmed_findings": [PHONE_IN_CITY, SLOGAN]})

    assert answer.status_code == 200, answer.text
    assert answer.json()["state"] == "approved" and answer.json()["undo_until"]
    history = (await campaign_desk.sorting.get(f"/api/v1/moderation/letters/{accepted['id']}",
                                               headers=campaign_desk.moderator)).json()["history"]
    assert history[-1]["decision"] == "approved"
    assert history[-1]["confirmed_findings"] == ["body/slogans.glory_to_ukraine", "writer_city/personal_data.phone"]


async def test_undo_within_the_window_returns_the_letter_and_nothing_reaches_delivery(campaign_desk, campaign_stack):
    undone, kept = await submit(campaign_desk, CLEAN + " Первое."), await submit(campaign_desk, CLEAN + " Второе.")
    for accepted in (undone, kept):
        await campaign_desk.in_review(accepted)
    approved = await campaign_desk.sorting.post("/api/v1/moderation/bulk-approve", headers=campaign_desk.moderator,
                                                json={"letter_ids": [undone["id"], kept["id"]]})
    assert approved.json()["approved"] == [undone["id"], kept["id"]]
    going = (await campaign_desk.sorting.get("/api/v1/moderation/approved", headers=campaign_desk.moderator)).json()
    assert {undone["id"], kept["id"]} <= {item["id"] for item in going["letters"]}
    assert all(0 < item["seconds_left"] <= CAMPAIGN_UNDO_WINDOW_S for item in going["letters"])

    answer = await campaign_desk.decide(undone["id"], "undo")

    assert answer.status_code == 200, answer.text
    assert answer.json()["state"] == "review_needed"
    # The kept letter goes on when its window is over: by then the undone one would have too.
    await campaign_desk.wait_for_status(kept, "queued")
    letter = await campaign_desk.sorted_letter(undone["id"])
    assert (letter["state"], letter["round"]) == ("review_needed", 1)
    assert not await announced_ready(campaign_desk, undone["id"])
    assert not await reached_delivery(campaign_stack, undone["id"])
    assert await campaign_desk.receipt_status(undone) == "review_needed"
    assert letter["scan_key"] not in await campaign_desk.store.list_keys("scans/")
    kept_letter = read_times(await campaign_desk.sorted_letter(kept["id"]), ["ready_at", "decided_at"])
    assert kept_letter["ready_at"] >= kept_letter["decided_at"] + timedelta(seconds=CAMPAIGN_UNDO_WINDOW_S)
    too_late = await campaign_desk.decide(kept["id"], "undo")
    assert too_late.status_code == 409 and too_late.json()["state"] == "ready"
    history = (await campaign_desk.sorting.get(f"/api/v1/moderation/letters/{undone['id']}",
                                               headers=campaign_desk.moderator)).json()["history"]
    assert [h["decision"] for h in history] == ["screened", "approved", "undone"]


@pytest.mark.parametrize("slogan", ["Слава Укр\u0061ине!", "Слава Ук\u03c1\u03b1ине!"],
                         ids=["latin-a", "greek-rho-alpha"])
async def test_a_slogan_in_look_alike_letters_lands_in_the_careful_lane(campaign_desk, slogan):
    accepted = await submit(campaign_desk, f"Здравствуйте! Держитесь. {slogan}")

    seen = await campaign_desk.in_review(accepted)

    assert seen["lane"] == "careful" and "slogans" in seen["categories"]
    assert await lane_of(campaign_desk, accepted["id"], "careful")


async def test_agreement_counts_each_decision_against_screenings_verdict(campaign_desk):
    async def figures() -> dict:
        answer = await campaign_desk.sorting.get("/api/v1/moderation/agreement", params={"last": 5000},
                                                 headers=campaign_desk.moderator)
        assert answer.status_code == 200, answer.text
        return answer.json()

    flagged, clean = await submit(campaign_desk, FLAGGED), await submit(campaign_desk, CLEAN + " Обнимаем.")
    for accepted in (flagged, clean):
        await campaign_desk.in_review(accepted)
    before = await figures()

    assert (await campaign_desk.decide(flagged["id"], "reject", {"reason": "лозунги"})).status_code == 200
    assert (await campaign_desk.decide(clean["id"], "reject", {"reason": "не о том"})).status_code == 200

    after = await figures()
    assert after["decided"] == before["decided"] + 2
    assert after["agreed"]["count"] == before["agreed"]["count"] + 1
    assert after["missed_by_screening"]["count"] == before["missed_by_screening"]["count"] + 1
    assert after["flagged_needlessly"]["count"] == before["flagged_needlessly"]["count"]
    assert after["agreed"]["share"] == round(after["agreed"]["count"] / after["decided"], 4)
    assert (await campaign_desk.sorting.get("/api/v1/moderation/agreement", params={"last": 0},
                                            headers=campaign_desk.moderator)).status_code == 422
