"""Letters after routing: prisoners' status, intermediaries coming and going, operators' decisions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.delivery import bundling, directory, sending, service
from services.delivery.model import LONG_AGO, Actor
from shared.events import LetterDeliveryUpdated
from tests.unit.delivery.factories import make_intermediary, make_ready, prisoner_news, scan_pdf
from tests.unit.delivery.fakes import make_delivery

pytestmark = pytest.mark.unit

OPERATOR = Actor("anna.operator", "operator")


async def queue(delivery, *letter_ids: str) -> None:
    for letter_id in letter_ids:
        event = make_ready(letter_id)
        await delivery.store.put(event.scan_key, scan_pdf(), "application/pdf")
        await service.queue_letter(event, delivery=delivery)


def news(delivery, status: str, seconds_later: float = 0, **facts):
    return prisoner_news(status, at=delivery.clock() + timedelta(seconds=seconds_later), **facts)


@pytest.fixture
async def delivery():
    delivery = make_delivery()
    await delivery.intermediaries.save(make_intermediary())
    await directory.prisoner_updated(news(delivery, "detained"), delivery=delivery)
    delivery.clock.advance(10)
    return delivery


async def test_released_prisoner_letters_are_held_and_listed_for_operators(delivery):
    await queue(delivery, "l_1", "l_2")
    await directory.prisoner_updated(news(delivery, "released"), delivery=delivery)

    held = await delivery.letters.held(10)
    assert [letter.id for letter in held] == ["l_1", "l_2"]
    assert all(letter.hold_kind == "prisoner_released" for letter in held)
    events = [e for e in delivery.outbox.of(LetterDeliveryUpdated) if e.state == "held"]
    assert {e.letter_id for e in events} == {"l_1", "l_2"} and "released on 2026-12-01" in events[0].reason


async def test_letters_arriving_after_the_release_are_held_at_once(delivery):
    await directory.prisoner_updated(news(delivery, "deceased"), delivery=delivery)
    await queue(delivery, "l_1")
    letter = await delivery.letters.get("l_1")
    assert (letter.state, letter.hold_kind) == ("held", "prisoner_deceased")


async def test_older_directory_news_arriving_late_changes_nothing(delivery):
    await directory.prisoner_updated(news(delivery, "released", 5), delivery=delivery)
    await directory.prisoner_updated(news(delivery, "detained", 1), delivery=delivery)
    assert (await delivery.prisoners.get("p_1")).status == "released"


async def test_a_transfer_keeps_the_route_and_flags_the_prisoner_for_review_until_an_operator_checks(delivery):
    await directory.prisoner_updated(news(delivery, "transferred"), delivery=delivery)
    await queue(delivery, "l_1")
    assert (await delivery.letters.get("l_1")).state == "queued"
    assert "transferred" in (await delivery.prisoners.get("p_1")).review_reason

    await directory.mark_reviewed(delivery, "p_1", OPERATOR)
    assert (await delivery.prisoners.get("p_1")).review_reason is None
    assert delivery.audit.actions() == ["prisoner.reviewed"]


async def test_a_held_letter_can_be_redirected_once_and_no_later_release_news_holds_it_again(delivery):
    await directory.prisoner_updated(news(delivery, "released"), delivery=delivery)
    await queue(delivery, "l_1")
    await delivery.intermediaries.save(make_intermediary(id="i_sister", primary=False))

    letter = await service.redirect(delivery, "l_1", "i_sister", OPERATOR)
    again = await service.redirect(delivery, "l_1", "i_sister", OPERATOR)

    assert (letter.state, letter.intermediary_id, letter.redirected) == ("queued", "i_sister", True)
    assert again == letter and delivery.audit.actions().count("letter.redirect") == 1
    await directory.prisoner_updated(news(delivery, "released", 1, name_ru="Ремзи Демо-Новый"), delivery=delivery)
    assert (await delivery.letters.get("l_1")).state == "queued"


async def test_redirect_only_to_an_active_intermediary_of_the_same_prisoner(delivery):
    await directory.prisoner_updated(news(delivery, "released"), delivery=delivery)
    await queue(delivery, "l_1")
    await delivery.intermediaries.save(make_intermediary(id="i_other", prisoner_id="p_2"))
    with pytest.raises(service.Invalid):
        await service.redirect(delivery, "l_1", "i_other", OPERATOR)
    with pytest.raises(service.NotFound):
        await service.redirect(delivery, "l_nope", "i_relative", OPERATOR)


async def test_an_archived_letter_leaves_the_operators_list_and_cannot_be_redirected(delivery):
    await directory.prisoner_updated(news(delivery, "released"), delivery=delivery)
    await queue(delivery, "l_1")
    letter = await service.archive(delivery, "l_1", "prisoner free; writer told", OPERATOR)
    assert (letter.state, letter.archived) == ("held", True)
    assert await delivery.letters.held(10) == []
    with pytest.raises(service.Conflict):
        await service.redirect(delivery, "l_1", "i_relative", OPERATOR)


async def test_a_new_intermediary_picks_up_letters_that_were_waiting_for_a_route():
    delivery = make_delivery()
    await queue(delivery, "l_1")
    assert (await delivery.letters.get("l_1")).hold_kind == "no_route"

    await directory.save_intermediary(delivery, make_intermediary(), OPERATOR)

    letter = await delivery.letters.get("l_1")
    assert (letter.state, letter.intermediary_id) == ("queued", "i_relative")
    states = [e.state for e in delivery.outbox.of(LetterDeliveryUpdated)]
    assert states == ["held", "queued"]


async def test_withdrawing_an_intermediary_undoes_their_unsent_bundle_and_routes_the_letters_to_another(delivery):
    await delivery.intermediaries.save(make_intermediary(id="i_lawyer", kind="lawyer", primary=False))
    await queue(delivery, "l_1")
    (bundle_id,) = (await bundling.build_bundles(delivery)).made

    await directory.save_intermediary(delivery, make_intermediary(active=False), OPERATOR)

    assert (await delivery.bundles.get(bundle_id)).state == "cancelled"
    letter = await delivery.letters.get("l_1")
    assert (letter.state, letter.intermediary_id, letter.bundle_id) == ("queued", "i_lawyer", None)


async def test_an_intermediary_cannot_move_to_another_prisoner(delivery):
    with pytest.raises(service.Invalid):
        await directory.save_intermediary(delivery, make_intermediary(prisoner_id="p_2"), OPERATOR)


async def test_an_operator_records_a_hand_over_once_and_a_return_needs_a_reason(delivery):
    await queue(delivery, "l_1")
    with pytest.raises(service.Conflict):
        await service.record_outcome(delivery, "l_1", "handed_over", None, OPERATOR)  # not sent yet
    await bundling.build_bundles(delivery)
    await sending.send_due(delivery)

    first = await service.record_outcome(delivery, "l_1", "handed_over", None, OPERATOR)
    second = await service.record_outcome(delivery, "l_1", "handed_over", None, OPERATOR)
    assert first.state == second.state == "handed_over"
    assert delivery.audit.actions().count("letter.handed_over") == 1
    with pytest.raises(service.Invalid):
        await service.record_outcome(delivery, "l_1", "returned", None, OPERATOR)
    returned = await service.record_outcome(delivery, "l_1", "returned", "the censor returned it", OPERATOR)
    assert (returned.state, returned.reason) == ("returned", "the censor returned it")


async def test_demo_intermediaries_are_loaded_once_into_an_empty_directory():
    delivery = make_delivery()
    await directory.load_demo_intermediaries(delivery)
    await directory.load_demo_intermediaries(delivery)
    people = await delivery.intermediaries.all()
    assert [p.id for p in people] == ["i_demo_01", "i_demo_02", "i_demo_03"]
    assert {p.channel for p in people} == {"email", "manual"} and all(p.active and p.primary for p in people)
    assert (await delivery.prisoners.get("p_demo_04")).status == "released"
    # Intake's news replaces the seeded prisoner.
    await directory.prisoner_updated(
        prisoner_news("detained", prisoner_id="p_demo_01", name_ru="Ремзи Демо", at=datetime.now(UTC)
                      - timedelta(days=1)), delivery=delivery)
    assert (await delivery.prisoners.get("p_demo_01")).updated_at > LONG_AGO
