"""What the monitor's newer panels read: kept letters grouped by prisoner with whom they may be handed
to, and the bundles sent whose letters have no outcome yet."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.delivery import bundling, directory, handover, monitor, release, sending, service
from services.delivery.model import Actor
from tests.unit.delivery.factories import (
    make_intermediary,
    make_prisoner,
    make_ready,
    prisoner_news,
    scan_pdf,
)
from tests.unit.delivery.fakes import make_delivery

pytestmark = pytest.mark.unit

OPERATOR = Actor("anna.operator", "operator")
STATIC = Path(monitor.__file__).resolve().parent / "static"


async def queue(delivery, *letter_ids: str, prisoner_id: str = "p_1") -> None:
    for letter_id in letter_ids:
        event = make_ready(letter_id, prisoner_id=prisoner_id)
        await delivery.store.put(event.scan_key, scan_pdf(), "application/pdf")
        await service.queue_letter(event, delivery=delivery)


async def status(delivery, state: str, prisoner_id: str = "p_1") -> None:
    delivery.clock.advance(10)
    at = delivery.clock()
    await directory.prisoner_updated(prisoner_news(state, prisoner_id=prisoner_id, at=at), delivery=delivery)


async def test_kept_letters_are_grouped_by_prisoner_with_whom_they_may_be_handed_to():
    delivery = make_delivery()
    await delivery.intermediaries.save(make_intermediary())
    await status(delivery, "detained")
    await status(delivery, "detained", prisoner_id="p_2")
    await status(delivery, "detained", prisoner_id="p_3")
    await queue(delivery, "l_1", "l_2")
    await queue(delivery, "l_3", prisoner_id="p_2")  # nobody reaches p_2: held, no route
    await queue(delivery, "l_4", prisoner_id="p_3")
    await status(delivery, "released")
    await status(delivery, "deceased", prisoner_id="p_3")

    view = await monitor.snapshot(delivery)

    kept = {group.prisoner_id: group for group in view.kept}
    assert [letter.letter_id for letter in kept["p_1"].letters] == ["l_1", "l_2"] and kept["p_1"].count == 2
    assert (kept["p_1"].status, kept["p_1"].recipients, kept["p_1"].hand_over_problem) == (
        "released", ["person", "family"], None)
    assert kept["p_3"].recipients == ["family"], "after a death the letters go to the family"
    assert kept["p_2"].recipients == [] and "intermediaries" in kept["p_2"].hand_over_problem
    assert sorted(letter.letter_id for group in view.kept for letter in group.letters) == sorted(
        letter.letter_id for letter in view.held)


async def test_an_archived_letter_leaves_its_prisoners_kept_letters():
    delivery = make_delivery()
    await status(delivery, "detained")
    await queue(delivery, "l_1", "l_2")
    await status(delivery, "released")
    await service.archive(delivery, "l_1", "the family asked us not to", OPERATOR)

    (group,) = (await monitor.snapshot(delivery)).kept

    assert [letter.letter_id for letter in group.letters] == ["l_2"]


async def sent_by_email(delivery, *letter_ids: str) -> str:
    await queue(delivery, *letter_ids)
    (bundle_id,) = (await bundling.build_bundles(delivery)).made
    await sending.send_due(delivery)
    return bundle_id


async def test_a_sent_bundle_awaits_confirmation_until_every_letter_has_an_outcome():
    delivery = make_delivery()
    await delivery.prisoners.seed(make_prisoner())
    await delivery.intermediaries.save(make_intermediary())
    bundle_id = await sent_by_email(delivery, "l_1", "l_2", "l_3")
    delivery.clock.advance(3600)

    (row,) = await monitor.awaiting_confirmation(delivery)
    assert (row.bundle_id, row.intermediary_name, row.prisoner_name_ru, row.channel) == (
        bundle_id, "Эльвира", "Ремзи Демо", "email")
    assert (row.letters, row.letters_out, row.sent_ago_s) == (3, 3, 3600)

    await service.record_outcome(delivery, "l_1", "handed_over", None, OPERATOR)
    (row,) = await monitor.awaiting_confirmation(delivery)
    assert (row.letters, row.letters_out) == (3, 2), "partly confirmed: still awaited for the rest"

    bundle = await bundling.get_bundle(delivery, bundle_id)
    assert await handover.bundle_outcome(delivery, bundle, "returned", "the colony refused them", OPERATOR) == 2
    assert await monitor.awaiting_confirmation(delivery) == []


async def test_bundles_awaiting_confirmation_come_longest_out_first_and_not_release_hand_overs():
    delivery = make_delivery()
    await delivery.intermediaries.save(make_intermediary(capacity_per_bundle=1))
    await status(delivery, "detained")
    older = await sent_by_email(delivery, "l_1")
    delivery.clock.advance(600)
    newer = await sent_by_email(delivery, "l_2")
    await queue(delivery, "l_3", prisoner_id="p_9")  # held: nobody reaches p_9
    await status(delivery, "detained", prisoner_id="p_9")
    await status(delivery, "released", prisoner_id="p_9")
    # A hand-over on release is a bundle `sent` too, but its letters are handed over at once.
    handed = await release.hand_over_on_release(delivery, "p_9", "person", OPERATOR)

    rows = await monitor.awaiting_confirmation(delivery)

    assert [row.bundle_id for row in rows] == [older, newer] and handed.id not in {row.bundle_id for row in rows}
    assert rows[0].sent_ago_s - rows[1].sent_ago_s == 600


def test_the_monitors_page_modules_never_write_html_nor_touch_storage():
    """monitor.js is checked with the page (test_pages.py); its panels' modules are held to the same."""
    modules = sorted(STATIC.glob("monitor*.js"))
    assert {path.name for path in modules} >= {"monitor-kept.js", "monitor-awaiting.js", "monitor-letter.js",
                                                "monitor-overdue.js", "monitor-parts.js"}
    for path in modules:
        script = path.read_text(encoding="utf-8")
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function",
                     "Storage", "window.confirm"):
            assert sink not in script, f"{path.name}: {sink}"
