"""After a bundle leaves: the intermediary's personal link, and prisoners' replies."""

from __future__ import annotations

import pytest

from services.delivery import bundling, handover, sending, service
from services.delivery.domain import REASON_MAX_CHARS
from services.delivery.model import Actor
from shared.auth import hash_token
from shared.events import LetterAnswered, LetterDeliveryUpdated
from tests.unit.delivery.factories import make_intermediary, make_prisoner, make_ready, scan_pdf
from tests.unit.delivery.fakes import make_delivery

pytestmark = pytest.mark.unit

OPERATOR = Actor("anna.operator", "operator")
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


async def sent_bundle(**policy):
    """Two letters sent to the prisoner's relative by e-mail; returns (delivery, the link's token)."""
    delivery = make_delivery(**policy)
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


@pytest.fixture
async def sent():
    return await sent_bundle()


async def test_the_link_is_stored_only_as_a_hash(sent):
    delivery, token = sent
    assert token not in delivery.confirmations.links
    assert hash_token(token) in delivery.confirmations.links


def states(delivery) -> dict[str, str]:
    return {letter_id: doc["state"] for letter_id, doc in sorted(delivery.letters.docs.items())}


def outcomes_announced(delivery) -> list[tuple[str, str, str | None]]:
    return [(e.letter_id, e.state, e.reason) for e in delivery.outbox.of(LetterDeliveryUpdated)
            if e.state in ("handed_over", "returned", "blocked")]


def after_the_window(delivery) -> None:
    delivery.clock.advance(delivery.policy.undo_window_s)


async def test_the_link_shows_the_letters_by_their_number_and_the_prisoner_only(sent):
    delivery, token = sent
    view, _ = await handover.open_link(delivery, token)
    assert view.prisoner_name_ru == "Ремзи Демо" and not view.answered and view.accepting
    assert [(line.number, line.status, line.pages) for line in view.letters] == [(1, "open", (2, 2)),
                                                                                 (2, "open", (3, 3))]


async def test_a_whole_bundle_answer_is_announced_once_its_undo_window_has_closed(sent):
    delivery, token = sent
    view = await handover.confirm_by_link(delivery, token, "handed_over", None)
    assert view.answered and [line.status for line in view.letters] == ["pending", "pending"]
    assert states(delivery) == {"l_1": "sent", "l_2": "sent"} and outcomes_announced(delivery) == []

    after_the_window(delivery)
    assert await handover.finalise_answers(delivery) == 2

    assert states(delivery) == {"l_1": "handed_over", "l_2": "handed_over"}
    assert [e.state for e in delivery.outbox.of(LetterDeliveryUpdated) if e.letter_id == "l_1"] == [
        "bundled", "sent", "handed_over"]
    assert await handover.finalise_answers(delivery) == 0
    entries = [e for e in delivery.audit.entries if e["action"] == "letter.handed_over"]
    assert len(entries) == 2
    assert {(e["actor"], e["role"]) for e in entries} == {("intermediary:i_relative", "intermediary")}


async def test_a_partial_hand_over_leaves_the_other_letters_open_for_later(sent):
    delivery, token = sent
    view = await handover.answer_by_link(delivery, token, {1: ("handed_over", None)})
    assert [line.status for line in view.letters] == ["pending", "open"] and not view.answered

    after_the_window(delivery)
    view, _ = await handover.open_link(delivery, token)  # the next page view makes it final
    assert [line.status for line in view.letters] == ["final", "open"]
    assert states(delivery) == {"l_1": "handed_over", "l_2": "sent"}

    await handover.confirm_by_link(delivery, token, "blocked", "the censor kept it")
    after_the_window(delivery)
    await handover.finalise_answers(delivery)
    assert states(delivery) == {"l_1": "handed_over", "l_2": "blocked"}
    assert outcomes_announced(delivery) == [("l_1", "handed_over", None), ("l_2", "blocked", "the censor kept it")]


async def test_blocked_and_returned_need_a_short_reason_and_nothing_is_kept_otherwise(sent):
    delivery, token = sent
    with pytest.raises(handover.AnswersRefused) as missing:
        await handover.answer_by_link(delivery, token, {1: ("handed_over", None), 2: ("returned", None)})
    assert missing.value.problems == {2: "reason_missing"}
    with pytest.raises(handover.AnswersRefused) as long:
        await handover.confirm_by_link(delivery, token, "blocked", "x" * (REASON_MAX_CHARS + 1))
    assert long.value.problems == {0: "reason_too_long"}
    with pytest.raises(handover.AnswersRefused):
        await handover.answer_by_link(delivery, token, {})
    assert delivery.confirmations.given == {}

    view = await handover.answer_by_link(delivery, token, {2: ("returned", "the colony refused it")})
    assert (view.letters[1].outcome, view.letters[1].reason) == ("returned", "the colony refused it")


async def test_an_answer_undone_within_the_window_is_never_announced_and_can_be_given_again(sent):
    delivery, token = sent
    await handover.confirm_by_link(delivery, token, "handed_over", None)
    delivery.clock.advance(delivery.policy.undo_window_s - 1)

    view = await handover.undo_by_link(delivery, token, 2)

    assert [line.status for line in view.letters] == ["pending", "open"]
    assert delivery.audit.actions().count("link.undo") == 1
    await handover.answer_by_link(delivery, token, {2: ("returned", "the relative could not visit")})
    delivery.clock.advance(delivery.policy.undo_window_s)
    await handover.finalise_answers(delivery)
    assert outcomes_announced(delivery) == [("l_1", "handed_over", None),
                                            ("l_2", "returned", "the relative could not visit")]


async def test_undo_after_the_window_is_refused_and_the_outcome_stands(sent):
    delivery, token = sent
    await handover.answer_by_link(delivery, token, {1: ("blocked", "censor")})
    after_the_window(delivery)
    with pytest.raises(service.Conflict):
        await handover.undo_by_link(delivery, token, 1)
    assert states(delivery)["l_1"] == "blocked" and outcomes_announced(delivery) == [("l_1", "blocked", "censor")]


async def test_a_double_submit_is_counted_once(sent):
    delivery, token = sent
    for _ in range(2):
        await handover.answer_by_link(delivery, token, {1: ("handed_over", None)})
    # Pressed again with a different mind: the first answer stands until it is undone.
    view = await handover.answer_by_link(delivery, token, {1: ("returned", "changed my mind")})
    assert view.letters[0].outcome == "handed_over"
    assert delivery.audit.actions().count("link.answer") == 1
    after_the_window(delivery)
    await handover.finalise_answers(delivery)
    await handover.finalise_answers(delivery)
    assert outcomes_announced(delivery) == [("l_1", "handed_over", None)]


async def test_an_outcome_an_operator_recorded_meanwhile_stands(sent):
    delivery, token = sent
    await handover.answer_by_link(delivery, token, {1: ("handed_over", None)})
    await service.record_outcome(delivery, "l_1", "returned", "came back by post", OPERATOR)
    after_the_window(delivery)
    assert await handover.finalise_answers(delivery) == 0
    view, _ = await handover.open_link(delivery, token)
    assert (view.letters[0].status, view.letters[0].outcome, view.letters[0].reason) == ("final", "returned", None)


async def test_with_no_undo_window_answers_are_final_at_once():
    delivery, token = await sent_bundle(undo_window_s=0)
    view = await handover.confirm_by_link(delivery, token, "handed_over", None)
    assert [line.status for line in view.letters] == ["final", "final"]
    assert states(delivery) == {"l_1": "handed_over", "l_2": "handed_over"}


async def test_a_link_answered_once_opens_after_it_expires_but_takes_no_new_answers(sent):
    delivery, token = sent
    await handover.answer_by_link(delivery, token, {1: ("handed_over", None)})
    delivery.clock.advance(delivery.policy.confirm_ttl_days * 86400 + 1)
    view, _ = await handover.open_link(delivery, token)
    assert not view.accepting and [line.status for line in view.letters] == ["final", "open"]
    with pytest.raises(service.Conflict):
        await handover.answer_by_link(delivery, token, {2: ("handed_over", None)})


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
