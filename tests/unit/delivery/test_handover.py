"""After a bundle leaves: the intermediary's personal link, and prisoners' replies."""

from __future__ import annotations

import pytest

from services.delivery import bundling, handover, sending, service
from services.delivery.model import Actor
from shared.auth import hash_token
from shared.events import LetterAnswered, LetterDeliveryUpdated
from tests.unit.delivery.factories import make_intermediary, make_prisoner, make_ready, scan_pdf
from tests.unit.delivery.fakes import make_delivery

pytestmark = pytest.mark.unit

OPERATOR = Actor("anna.operator", "operator")
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@pytest.fixture
async def sent():
    """Two letters sent to the prisoner's relative by e-mail; returns (delivery, the link's token)."""
    delivery = make_delivery()
    await delivery.prisoners.seed(make_prisoner())
    await delivery.intermediaries.save(make_intermediary())
    for letter_id in ("l_1", "l_2"):
        event = make_ready(letter_id)
        await delivery.store.put(event.scan_key, scan_pdf(), "application/pdf")
        await service.queue_letter(event, delivery=delivery)
    await bundling.build_bundles(delivery)
    await sending.send_due(delivery)
    (parcel,) = delivery.channels["email"].parcels
    return delivery, parcel.confirm_url.rsplit("/", 1)[1]


async def test_the_link_is_stored_only_as_a_hash(sent):
    delivery, token = sent
    assert token not in delivery.confirmations.links
    assert hash_token(token) in delivery.confirmations.links


async def test_the_intermediary_confirms_the_hand_over_through_the_link_once(sent):
    delivery, token = sent
    view, _ = await handover.open_link(delivery, token)
    assert (view.prisoner_name_ru, view.letters, view.answered) == ("Ремзи Демо", 2, None)

    first = await handover.confirm_by_link(delivery, token, "handed_over", None)
    second = await handover.confirm_by_link(delivery, token, "returned", "changed my mind")

    assert first.answered == second.answered == "handed_over"
    assert {doc["state"] for doc in delivery.letters.docs.values()} == {"handed_over"}
    assert [e.state for e in delivery.outbox.of(LetterDeliveryUpdated) if e.letter_id == "l_1"] == [
        "bundled", "sent", "handed_over"]
    (entry,) = [e for e in delivery.audit.entries if e["action"] == "bundle.handed_over"]
    assert (entry["actor"], entry["role"]) == ("intermediary:i_relative", "intermediary")


async def test_a_return_through_the_link_needs_a_reason(sent):
    delivery, token = sent
    with pytest.raises(service.Invalid):
        await handover.confirm_by_link(delivery, token, "returned", None)
    view = await handover.confirm_by_link(delivery, token, "returned", "the colony refused them")
    assert view.answered == "returned"
    letter = await delivery.letters.get("l_2")
    assert (letter.state, letter.reason) == ("returned", "the colony refused them")


async def test_an_unknown_or_expired_link_opens_nothing(sent):
    delivery, token = sent
    with pytest.raises(service.NotFound):
        await handover.open_link(delivery, "not-a-token")
    delivery.clock.advance(delivery.policy.confirm_ttl_days * 86400 + 1)
    with pytest.raises(service.NotFound):
        await handover.confirm_by_link(delivery, token, "handed_over", None)
    assert {doc["state"] for doc in delivery.letters.docs.values()} == {"sent"}


async def test_a_reply_tells_each_answered_letters_writer_once_however_often_it_is_uploaded(sent):
    delivery, _ = sent
    reply, created = await handover.record_reply(delivery, "p_1", ["l_1", "l_2"], JPEG, OPERATOR)
    again, created_again = await handover.record_reply(delivery, "p_1", ["l_1", "l_2"], JPEG, OPERATOR)

    assert created and not created_again and again == reply
    assert reply.content_type == "image/jpeg"
    answered = delivery.outbox.of(LetterAnswered)
    assert sorted(e.letter_id for e in answered) == ["l_1", "l_2"]
    assert {e.reply_id for e in answered} == {reply.reply_id}
    assert f"replies/{reply.sha256}.jpg" in delivery.store.objects
    assert delivery.audit.actions().count("reply.upload") == 1


async def test_a_second_reply_to_the_same_letter_is_news_too(sent):
    delivery, _ = sent
    await handover.record_reply(delivery, "p_1", ["l_1"], JPEG, OPERATOR)
    await handover.record_reply(delivery, "p_1", ["l_1"], b"%PDF-1.4 another reply", OPERATOR)
    assert len(delivery.outbox.of(LetterAnswered)) == 2


async def test_a_reply_must_be_a_scan_and_answer_letters_of_that_prisoner(sent):
    delivery, _ = sent
    with pytest.raises(service.Invalid):
        await handover.record_reply(delivery, "p_1", ["l_1"], b"GIF89a", OPERATOR)
    with pytest.raises(service.Invalid):
        await handover.record_reply(delivery, "p_2", ["l_1"], JPEG, OPERATOR)
    with pytest.raises(service.Invalid):
        await handover.record_reply(delivery, "p_1", [], JPEG, OPERATOR)
