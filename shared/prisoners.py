"""Who can receive letters: the one rule every service and page uses.

A prison hands letters only to the people it holds. A prisoner moved to another facility is
still held (letters follow them); one who was released or has died gets no more letters through
the usual route: sorting puts such letters in front of a moderator, delivery holds them, the
writer's page does not offer the prisoner, and the results count them apart.
"""

from __future__ import annotations

from typing import Literal, get_args

PrisonerStatus = Literal["detained", "transferred", "released", "deceased"]
PRISONER_STATUSES: tuple[str, ...] = get_args(PrisonerStatus)
# A prisoner new to the directory is held until someone says otherwise.
DEFAULT_STATUS: PrisonerStatus = "detained"
RECEIVING_STATUSES = frozenset({"detained", "transferred"})


def can_receive_letters(status: str | None) -> bool:
    return (status or DEFAULT_STATUS) in RECEIVING_STATUSES
