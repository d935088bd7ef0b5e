"""Letters follow a transferred prisoner: the pure routing rules, then the use case on in-memory ports."""

from __future__ import annotations

import pytest

from services.delivery import bundling, directory, sending, service
from services.delivery.domain import Held, Routed, choose_route, follow_route, follows_prisoner, reaches
from shared.events import LetterDeliveryUpdated
from shared.facilities import Facility
from tests.unit.delivery.factories import (
    make_intermediary,
    make_prisoner,
    make_ready,
    prisoner_news,
    scan_pdf,
)
from tests.unit.delivery.fakes import make_delivery

pytestmark = pytest.mark.unit

RELATIVE = make_intermediary()  # reaches the prisoner wherever they are held
LAWYER_A = make_intermediary(id="i_lawyer_a", kind="lawyer", primary=False, facility_id="sizo_a")
LAWYER_B = make_intermediary(id="i_lawyer_b", kind="lawyer", primary=False, facility_id="colony_b")
AT_A = make_prisoner(facility_id="sizo_a")
MOVED_TO_B = make_prisoner(status="transferred", facility_id="colony_b", facility_name="ИК-2")


# --- the rules ---------------------------------------------------------------------------------


def test_an_intermediary_tied_to_a_facility_reaches_the_prisoner_only_there():
    assert reaches(LAWYER_A, AT_A) and not reaches(LAWYER_A, MOVED_TO_B)
    assert reaches(RELATIVE, AT_A) and reaches(RELATIVE, MOVED_TO_B)


def test_while_the_facility_is_not_known_every_active_intermediary_keeps_reaching():
    assert reaches(LAWYER_A, make_prisoner()) and reaches(LAWYER_A, None)
    assert not reaches(LAWYER_A.model_copy(update={"active": False}), AT_A)


def test_new_letters_go_only_to_intermediaries_who_reach_the_facility():
    assert choose_route(MOVED_TO_B, [LAWYER_A, LAWYER_B], {}) == Routed("i_lawyer_b")
    assert choose_route(AT_A, [LAWYER_A, LAWYER_B], {}) == Routed("i_lawyer_a")


def test_a_transferred_prisoner_nobody_reaches_yet_has_letters_wait_while_they_are_moved():
    decision = choose_route(MOVED_TO_B, [LAWYER_A], {})
    assert isinstance(decision, Held) and decision.kind == "prisoner_moving"
    assert "waiting while the prisoner is moved to ИК-2" in decision.reason
    # Nobody at all is no route, transferred or not.
    assert choose_route(MOVED_TO_B, [], {}).kind == "no_route"


def test_a_letter_keeps_its_intermediary_while_they_still_reach_the_prisoner():
    assert follow_route(RELATIVE, MOVED_TO_B, [RELATIVE, LAWYER_B], {}) == Routed("i_relative")
    assert follow_route(LAWYER_A, MOVED_TO_B, [LAWYER_A, LAWYER_B], {}) == Routed("i_lawyer_b")
    assert follow_route(LAWYER_A, MOVED_TO_B, [LAWYER_A], {}).kind == "prisoner_moving"


def test_only_letters_routed_for_another_facility_follow_and_only_to_a_known_one():
    assert follows_prisoner("sizo_a", MOVED_TO_B) and follows_prisoner(None, MOVED_TO_B)
    assert not follows_prisoner("colony_b", MOVED_TO_B)
    assert not follows_prisoner("sizo_a", make_prisoner(status="transferred"))  # where to is not known
    assert not follows_prisoner("sizo_a", make_prisoner(status="released", facility_id="colony_b"))


# --- the use case ------------------------------------------------------------------------------


def facility(facility_id: str, name: str) -> Facility:
    return Facility.model_validate({"id": facility_id, "name": name, "kind": "colony", "region": "Крым",
                                    "address": {"lines": ["ул. Лагерная, 1"], "city": "Симферополь"}})


def news(delivery, status: str, facility_id: str, name: str):
    return prisoner_news(status, at=delivery.clock(), facility_id=facility_id,
                         facility=facility(facility_id, name))


async def queue(delivery, *letter_ids: str) -> None:
    for letter_id in letter_ids:
        event = make_ready(letter_id)
        await delivery.store.put(event.scan_key, scan_pdf(), "application/pdf")
        await service.queue_letter(event, delivery=delivery)


@pytest.fixture
async def delivery():
    """A prisoner at SIZO A, whose letters a lawyer admitted there carries (a manual bundle)."""
    delivery = make_delivery()
    await delivery.intermediaries.save(LAWYER_A.model_copy(update={"primary": True, "channel": "manual"}))
    await directory.prisoner_updated(news(delivery, "detained", "sizo_a", "СИЗО-1"), delivery=delivery)
    delivery.clock.advance(10)
    return delivery


async def transfer(delivery, facility_id: str = "colony_b", name: str = "ИК-2") -> None:
    delivery.clock.advance(10)
    await directory.prisoner_updated(news(delivery, "transferred", facility_id, name), delivery=delivery)


async def test_queued_and_bundled_letters_wait_while_the_prisoner_is_moved_where_nobody_reaches(delivery):
    await queue(delivery, "l_bundled")
    bundle = (await bundling.build_bundles(delivery)).made[0]
    await queue(delivery, "l_queued")

    await transfer(delivery)

    assert (await delivery.bundles.get(bundle)).state == "cancelled"
    for letter_id in ("l_bundled", "l_queued"):
        letter = await delivery.letters.get(letter_id)
        assert (letter.state, letter.hold_kind, letter.facility_id) == ("held", "prisoner_moving", "colony_b")
        (step,) = letter.history
        assert (step.change, step.from_facility_id, step.to_facility_id) == ("transfer", "sizo_a", "colony_b")
        assert (step.from_intermediary_id, step.to_intermediary_id) == ("i_lawyer_a", None)
    assert (await delivery.letters.get("l_bundled")).history[0].bundle_id == bundle
    said = {e.letter_id: e for e in delivery.outbox.of(LetterDeliveryUpdated) if e.hold_kind == "prisoner_moving"}
    assert set(said) == {"l_bundled", "l_queued"} and "moved to ИК-2" in said["l_queued"].reason


async def test_an_intermediary_for_the_new_facility_takes_the_waiting_letters(delivery):
    await queue(delivery, "l_1")
    await transfer(delivery)
    await directory.save_intermediary(delivery, LAWYER_B, directory.SCHEDULER)

    letter = await delivery.letters.get("l_1")
    assert (letter.state, letter.intermediary_id, letter.facility_id) == ("queued", "i_lawyer_b", "colony_b")
    assert (await bundling.build_bundles(delivery)).made


async def test_letters_move_at_once_to_an_intermediary_who_reaches_the_new_facility(delivery):
    await delivery.intermediaries.save(LAWYER_B)
    await queue(delivery, "l_bundled")
    bundle = (await bundling.build_bundles(delivery)).made[0]
    await queue(delivery, "l_queued")

    await transfer(delivery)

    assert (await delivery.bundles.get(bundle)).state == "cancelled"
    for letter_id in ("l_bundled", "l_queued"):
        letter = await delivery.letters.get(letter_id)
        assert (letter.state, letter.intermediary_id) == ("queued", "i_lawyer_b")
        assert [(s.from_intermediary_id, s.to_intermediary_id) for s in letter.history] == [("i_lawyer_a", "i_lawyer_b")]
    queued_again = [e for e in delivery.outbox.of(LetterDeliveryUpdated) if e.state == "queued"]
    assert {e.letter_id for e in queued_again} == {"l_bundled", "l_queued"}
    assert all("follows them" in e.reason for e in queued_again)


async def test_a_relative_keeps_carrying_the_letters_and_a_sent_bundle_is_not_recalled(delivery):
    await delivery.intermediaries.save(RELATIVE.model_copy(update={"channel": "email"}))
    await delivery.intermediaries.save(LAWYER_A.model_copy(update={"active": False}))
    await queue(delivery, "l_sent")
    await bundling.build_bundles(delivery)
    await sending.send_due(delivery)
    await queue(delivery, "l_queued")

    await transfer(delivery)
    await transfer(delivery)  # the same news again changes nothing more

    sent, queued = await delivery.letters.get("l_sent"), await delivery.letters.get("l_queued")
    assert sent.state == "sent" and [s.change for s in sent.history] == ["not_recalled"]
    assert "not recalled" in sent.history[0].note
    assert (queued.state, queued.intermediary_id) == ("queued", "i_relative")
    assert [(s.from_intermediary_id, s.to_intermediary_id) for s in queued.history] == [("i_relative", "i_relative")]


async def test_a_bundle_built_while_the_news_arrives_follows_the_prisoner_instead_of_leaving(delivery):
    await queue(delivery, "l_1")
    bundle = (await bundling.build_bundles(delivery)).made[0]
    # The news is stored, but the bundle was busy (leased) when it came: the check before sending moves it.
    delivery.clock.advance(10)
    await delivery.bundles.claim(bundle, ["ready"], delivery.clock(), 60)
    await directory.prisoner_updated(news(delivery, "transferred", "colony_b", "ИК-2"), delivery=delivery)
    assert (await delivery.letters.get("l_1")).state == "bundled"

    assert await sending.send_bundle(delivery, await delivery.bundles.get(bundle), directory.SCHEDULER) is None

    assert (await delivery.bundles.get(bundle)).state == "cancelled"
    assert (await delivery.letters.get("l_1")).hold_kind == "prisoner_moving"
    assert delivery.channels["manual"].parcels == []
