"""Every move sorting announces is written with its event (shared/outbox.py `WithEvents`): the
moderators' decisions, translation and withdrawal carry theirs in the move itself, a move that does
not apply carries nothing, and nothing announces a move again afterwards."""

from __future__ import annotations

from services.sorting import moderation, translation, withdrawal
from services.sorting.service import settle, sort_letter
from shared.events import (
    LetterRejected,
    LetterReviewNeeded,
    LetterTranslationNeeded,
    LetterWithdrawalRequested,
    LetterWithdrawn,
)
from tests.unit.sorting.conftest import SLOGAN_BODY, make_received
from tests.unit.sorting.test_translation import GERMAN, RUSSIAN


async def in_review(deps, letter_id: str = "l_review") -> str:
    assert await sort_letter(make_received(letter_id, body=SLOGAN_BODY), deps) == "review_needed"
    return letter_id


def carried(deps, letter_id: str, kind) -> list:
    return [event for event in deps.letters.carried.get(letter_id, []) if isinstance(event, kind)]


async def test_a_rejection_is_written_with_its_letter_rejected_and_published_once(deps):
    letter_id = await in_review(deps)

    await moderation.reject(letter_id, "moderator-taras", None, deps, reason_code="case_details")

    (written,) = carried(deps, letter_id, LetterRejected)
    (published,) = deps.outbox.of(LetterRejected)
    assert written == published and written.reason_code == "case_details"


async def test_a_second_rejection_writes_and_publishes_no_second_event(deps):
    letter_id = await in_review(deps)
    await moderation.reject(letter_id, "m", None, deps, reason_code="case_details")
    publishes = deps.outbox.publishes

    try:
        await moderation.reject(letter_id, "another", None, deps, reason_code="case_details")
    except moderation.NotInReview:
        pass

    assert len(carried(deps, letter_id, LetterRejected)) == 1
    assert deps.outbox.publishes == publishes


async def test_settling_a_decided_letter_announces_nothing_again(deps):
    letter_id = await in_review(deps)
    await moderation.reject(letter_id, "m", None, deps, reason_code="case_details")
    publishes = deps.outbox.publishes

    await settle(await deps.letters.get(letter_id), deps)

    assert deps.outbox.publishes == publishes, "the event travels with the move; nothing re-announces it"


async def test_sending_a_letter_to_translation_is_written_with_its_round_event(deps):
    letter_id = await in_review(deps)

    await translation.send_to_translation(letter_id, "moderator-olena", deps)

    (written,) = carried(deps, letter_id, LetterTranslationNeeded)
    assert deps.outbox.of(LetterTranslationNeeded) == [written]
    assert written.requested_by == "moderator"


async def test_a_translation_back_in_review_is_written_with_its_review_event(deps):
    assert await sort_letter(make_received("l_de", body=GERMAN), deps) == "awaiting_translation"

    await translation.submit_translation("l_de", "translator-marta", RUSSIAN, deps)

    # The letter went to a translator on arrival: its one review event is the translated round's.
    (review,) = carried(deps, "l_de", LetterReviewNeeded)
    assert deps.outbox.of(LetterReviewNeeded) == [review]
    assert review.event_id != LetterReviewNeeded.for_letter("l_de", prisoner_id="p_1", categories=[]).event_id


async def test_a_withdrawal_is_written_with_its_letter_withdrawn_once(deps):
    letter_id = await in_review(deps)
    request = LetterWithdrawalRequested.for_letter(letter_id)

    await withdrawal.withdraw(request, deps)
    await withdrawal.withdraw(request, deps)  # redelivered

    (written,) = carried(deps, letter_id, LetterWithdrawn)
    assert deps.outbox.of(LetterWithdrawn) == [written]
