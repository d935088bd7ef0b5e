"""A rejection carries a preset reason and the writer's note; a writer's withdrawal stops a letter only
before it is scanned."""

from __future__ import annotations

import pytest

from services.sorting import moderation, release, withdrawal
from services.sorting.domain import DecisionRefused
from services.sorting.service import sort_letter
from shared.events import (
    LetterReady,
    LetterRejected,
    LetterWithdrawalRefused,
    LetterWithdrawalRequested,
    LetterWithdrawn,
)
from tests.unit.sorting.conftest import CLEAN_BODY, SLOGAN_BODY, make_received

CONFIRMED = {("slogans.glory_to_ukraine", "body")}


async def in_review(deps, letter_id="l_test_1", body=SLOGAN_BODY) -> str:
    assert await sort_letter(make_received(letter_id, body=body), deps) == "review_needed"
    return letter_id


async def test_a_rejection_with_a_preset_announces_its_code_and_the_note(deps):
    letter_id = await in_review(deps)

    await moderation.reject(letter_id, "moderator-taras", None, deps, reason_code="slogan_or_symbol",
                            note="  Приберіть, будь ласка,\n останнє речення. ")

    (rejected,) = deps.outbox.of(LetterRejected)
    assert (rejected.reason_code, rejected.note) == ("slogan_or_symbol", "Приберіть, будь ласка, останнє речення.")
    assert rejected.reason == rejected.note
    entry = (await deps.decisions.history(letter_id))[-1]
    assert (entry["decision"], entry["reason_code"]) == ("rejected", "slogan_or_symbol")


async def test_a_preset_without_a_note_is_announced_with_its_label(deps):
    letter_id = await in_review(deps)
    await moderation.reject(letter_id, "m", None, deps, reason_code="case_details")
    (rejected,) = deps.outbox.of(LetterRejected)
    assert (rejected.reason_code, rejected.note, rejected.reason) == ("case_details", None, "Details of the case")


async def test_an_older_client_with_only_free_text_rejects_as_other_with_that_note(deps):
    letter_id = await in_review(deps)
    await moderation.reject(letter_id, "m", "Лозунги в письме", deps)
    (rejected,) = deps.outbox.of(LetterRejected)
    assert (rejected.reason_code, rejected.note) == ("other", "Лозунги в письме")


@pytest.mark.parametrize(("code", "note"), [
    ("no_such_reason", None),
    ("other", None),  # "other" says "see the note": it needs one
    ("politics_or_war", "Пишіть на olena@example.org"),
    ("politics_or_war", "Дзвоніть 067 123 45 67"),
])
async def test_a_rejection_the_writer_could_not_read_safely_is_refused_and_changes_nothing(deps, code, note):
    letter_id = await in_review(deps)
    with pytest.raises(DecisionRefused):
        await moderation.reject(letter_id, "m", None, deps, reason_code=code, note=note)
    assert deps.letters.letters[letter_id]["state"] == "review_needed"
    assert deps.outbox.of(LetterRejected) == []


async def test_a_letter_in_review_is_withdrawn_once_and_never_scanned(deps):
    letter_id = await in_review(deps)
    request = LetterWithdrawalRequested.for_letter(letter_id)

    assert await withdrawal.withdraw(request, deps) == "withdrawn"
    assert await withdrawal.withdraw(request, deps) == "withdrawn"  # redelivered

    assert len(deps.outbox.of(LetterWithdrawn)) == 1 and deps.outbox.of(LetterWithdrawalRefused) == []
    with pytest.raises(moderation.NotInReview):
        await moderation.approve(letter_id, "m", deps, confirmed=CONFIRMED)
    assert deps.scans.objects == {} and deps.outbox.of(LetterReady) == []


async def test_an_approval_in_its_undo_window_is_withdrawn_and_its_release_scans_nothing(campaign_deps):
    deps = campaign_deps
    letter_id = await in_review(deps, body=CLEAN_BODY)
    await moderation.approve(letter_id, "m", deps)
    assert deps.letters.letters[letter_id]["state"] == "approved"

    assert await withdrawal.withdraw(LetterWithdrawalRequested.for_letter(letter_id), deps) == "withdrawn"
    deps.clock.advance(3600)
    await release.release_due_approvals(deps)

    assert deps.letters.letters[letter_id]["state"] == "withdrawn"
    assert deps.outbox.of(LetterReady) == [] and len(deps.outbox.of(LetterWithdrawn)) == 1


async def test_a_scanned_letter_is_not_withdrawn_and_intake_is_told_why(deps):
    assert await sort_letter(make_received("l_clean", body=CLEAN_BODY), deps) == "ready"

    assert await withdrawal.withdraw(LetterWithdrawalRequested.for_letter("l_clean"), deps) == "ready"

    (refused,) = deps.outbox.of(LetterWithdrawalRefused)
    assert refused.reason == "already_scanned" and deps.outbox.of(LetterWithdrawn) == []


async def test_a_withdrawal_that_overtakes_its_letter_is_retried(deps, monkeypatch):
    monkeypatch.setattr(withdrawal, "NOT_YET_SORTED_WAIT_S", 0)
    with pytest.raises(withdrawal.LetterNotYetSorted):
        await withdrawal.withdraw(LetterWithdrawalRequested.for_letter("l_not_yet"), deps)
