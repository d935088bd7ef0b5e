"""The second-moderator rule end to end: with `SORTING_SECOND_MODERATOR_FOR_BLOCK=true` a letter with
block-level findings needs the approval of two different moderators before anything is printed,
while a clean letter still needs one. The three services run as processes in their own namespace.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from shared.events import event_id_for
from tests.conftest import Stack, start_stack
from tests.e2e.test_do_no_harm import SLOGAN, submit
from tests.e2e.test_moderation import CLEAN, FLAGGED, Desk, open_desk
from tests.infra import remove_namespace
from tests.support import eventually, pdf_text, squash

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def four_eyes_stack(infra) -> Iterator[Stack]:
    log_dir = infra.log_dir / "four-eyes"
    log_dir.mkdir(exist_ok=True)
    own = dataclasses.replace(infra, namespace=f"{infra.namespace}f", log_dir=log_dir)
    running = start_stack(own, {"SORTING_SECOND_MODERATOR_FOR_BLOCK": "true", "SORTING_UNDO_WINDOW_S": "0"})
    yield running
    for service in running.services.values():
        service.process.terminate()
    asyncio.run(remove_namespace(own.amqp_url, own.namespace))


async def moderator(stack: Stack, subject: str) -> dict[str, str]:
    """A moderator of their own (the rule counts people, so each needs a token with its own subject)."""
    admin = {"Authorization": f"Bearer {stack.demo_token('staff token (admin)')}"}
    async with httpx.AsyncClient(base_url=stack.url("intake"), timeout=30) as intake:
        issued = await intake.post("/api/v1/staff/tokens", headers=admin,
                                   json={"subject": subject, "role": "moderator", "days": 1})
    assert issued.status_code == 201, issued.text
    headers = {"Authorization": f"Bearer {issued.json()['token']}"}

    async def sorting_knows_it() -> bool:
        async with httpx.AsyncClient(base_url=stack.url("sorting")) as sorting:
            return (await sorting.get("/api/v1/moderation/facets", headers=headers)).status_code == 200

    await eventually(sorting_knows_it, 30, f"sorting to learn {subject}'s token")
    return headers


@pytest.fixture
async def desks(four_eyes_stack) -> AsyncIterator[tuple[Desk, dict[str, str]]]:
    """The first moderator's desk, and the second moderator's headers."""
    async with open_desk(four_eyes_stack) as desk:
        desk.moderator = await moderator(four_eyes_stack, "moderator-olena")
        yield desk, await moderator(four_eyes_stack, "moderator-taras")


async def test_a_block_level_letter_needs_two_different_moderators(desks):
    desk, second = desks
    accepted = await submit(desk, FLAGGED)
    seen = await desk.in_review(accepted)
    assert seen["block"] and seen["first_approved_by"] is None
    approval = {"revision": seen["revision"], "confirmed_findings": [SLOGAN]}

    first = await desk.decide(accepted["id"], "approve", approval)

    assert first.status_code == 200, first.text
    assert (first.json()["state"], first.json()["awaiting_second_moderator"]) == ("review_needed", True)
    view = (await desk.sorting.get(f"/api/v1/moderation/letters/{accepted['id']}", headers=desk.moderator)).json()
    assert view["first_approved_by"] == "moderator-olena"
    again = await desk.decide(accepted["id"], "approve", approval)
    assert again.status_code == 409, again.text
    assert (await desk.sorted_letter(accepted["id"]))["state"] == "review_needed"
    assert await desk.sorting_db["outbox"].find_one(
        {"_id": str(event_id_for(accepted["id"], "letter.ready"))}) is None
    assert await desk.receipt_status(accepted) == "review_needed"

    unconfirmed = await desk.decide(accepted["id"], "approve", {"revision": seen["revision"]}, headers=second)
    assert unconfirmed.status_code == 409, unconfirmed.text
    done = await desk.decide(accepted["id"], "approve", approval, headers=second)

    assert done.status_code == 200, done.text
    await desk.wait_for_status(accepted, "queued")
    assert "Слава Украине" in squash(pdf_text(await desk.scan(accepted["id"])))


async def test_a_clean_letter_still_needs_only_one_moderator(desks):
    desk, _ = desks
    accepted = await submit(desk, CLEAN + " Ждём весны.")
    seen = await desk.in_review(accepted)
    assert not seen["block"]

    answer = await desk.decide(accepted["id"], "approve", {"revision": seen["revision"]})

    assert answer.status_code == 200, answer.text
    await desk.wait_for_status(accepted, "queued")
