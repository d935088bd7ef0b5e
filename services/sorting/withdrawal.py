"""A writer's withdrawal, decided here: sorting alone knows whether the letter was scanned already.

A letter not yet scanned is withdrawn (it then never reaches delivery); a scanned or rejected one
is not, and intake is told why. Safe to repeat: the change is conditional and events are keyed
by (letter, transition).
"""

from __future__ import annotations

import asyncio

from services.sorting.domain import WITHDRAWABLE_STATES, withdrawal_refusal
from services.sorting.service import SortingDeps, announced, publish, settle
from shared.events import LetterWithdrawalRefused, LetterWithdrawalRequested

# The request can overtake the letter itself (another queue): wait this long before the broker
# redelivers it, so the letter is registered meanwhile.
NOT_YET_SORTED_WAIT_S = 2.0


class LetterNotYetSorted(Exception):
    """The withdrawal arrived before the letter: the message is retried."""


async def withdraw(event: LetterWithdrawalRequested, deps: SortingDeps) -> str:
    """Returns the letter's state afterwards: withdrawn, or the state that refused it."""
    letter = await deps.letters.get(event.letter_id)
    if letter is None:
        await asyncio.sleep(NOT_YET_SORTED_WAIT_S)
        raise LetterNotYetSorted(event.letter_id)
    # The withdrawal and its letter.withdrawn are one write.
    events = announced(letter, "withdrawn")
    if await deps.letters.mark_withdrawn(event.letter_id, WITHDRAWABLE_STATES, announcing=events):
        await publish(events, deps)
    letter = await deps.letters.get(event.letter_id)
    await settle(letter, deps)
    refusal = withdrawal_refusal(letter["state"])
    if refusal is not None:
        # A refusal changes no letter: its event is the only write, keyed by the letter, so a
        # redelivered request stores and publishes it once.
        await deps.outbox.add_and_publish(
            LetterWithdrawalRefused.for_letter(event.letter_id, prisoner_id=letter["prisoner_id"], reason=refusal))
    return letter["state"]
