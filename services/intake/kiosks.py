"""Kiosk tokens: the days one is accepted on (a pure rule), and the use cases that admit a kiosk's
request and let staff revoke a kiosk.

A kiosk token is bound to one campaign event and works only around that event's days, as its record
gives them: from the day before it starts to the day after it ends (EVENT_MARGIN, the same margin its
letters' times are kept within), so a tablet forgotten after the fair can no longer read the directory
or be used as a kiosk. Letters it wrote are still taken for LATE_SENDING after that: a tablet offline at
the fair may reach a network only days later, and its letters must not die on it. Staff revoke
a kiosk's tokens (`DELETE /api/v1/events/{event}/kiosks/{kiosk}`, `cli revoke-kiosk`); the kiosk's next
request is refused, and the kiosk keeps its unsent letters for staff.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from services.intake.domain import EVENT_MARGIN
from services.intake.ports import CampaignEventCatalogue, KioskTokenStore

RefusalReason = Literal["unpaired", "outside_event_dates"]
# How long after its event's last accepted day a kiosk may still send the letters written there
# (their times are kept within the event's days, so they still count for it, and a moderator reads each).
LATE_SENDING = timedelta(days=14)


def event_days(event: dict[str, Any] | None) -> tuple[date, date] | None:
    """An event's first and last day from its record; None for no event or one stored without dates."""
    try:
        return (date.fromisoformat(str(event["starts_on"])[:10]), date.fromisoformat(str(event["ends_on"])[:10])) \
            if event else None
    except (KeyError, ValueError):
        return None


def token_days(days: tuple[date, date]) -> tuple[date, date]:
    """The first and last day (UTC) a kiosk token of an event with these first and last days is accepted on."""
    first, last = days
    return first - EVENT_MARGIN, last + EVENT_MARGIN


def accepted_on(days: tuple[date, date], today: date, *, sending: bool = False) -> bool:
    """Whether a kiosk token of an event with these days is accepted on `today` (a UTC day); with
    `sending`, for a letter written at the event, up to LATE_SENDING longer."""
    opens, closes = token_days(days)
    return opens <= today <= closes + (LATE_SENDING if sending else timedelta(0))


class KioskRefused(Exception):
    """A token that pairs a kiosk, refused now: revoked by staff, or used away from its event's days."""

    def __init__(self, reason: RefusalReason, valid_from: date | None = None, valid_until: date | None = None):
        super().__init__(reason)
        self.reason = reason
        self.valid_from = valid_from
        self.valid_until = valid_until

    def sentence(self) -> str:
        if self.reason == "unpaired":
            return "this kiosk was unpaired by the organisers"
        if self.valid_from is None:
            return "this kiosk's event has no dates, so its token is not accepted"
        return f"this kiosk's token is accepted from {self.valid_from} to {self.valid_until} (its event's days ± 1)"


@dataclass(frozen=True)
class AdmittedKiosk:
    kiosk_id: str
    name: str | None
    event_id: str | None
    event: dict[str, Any] | None  # the event's record, as stored
    event_days: tuple[date, date] | None

    @property
    def valid_days(self) -> tuple[date, date] | None:
        return token_days(self.event_days) if self.event_days else None


async def admit_kiosk(token: str, tokens: KioskTokenStore, events: CampaignEventCatalogue,
                      today: date, *, sending: bool = False) -> AdmittedKiosk | None:
    """The kiosk this token pairs, if it may call now (`sending` a letter: see LATE_SENDING); None for a
    token that never paired one.

    Raises KioskRefused for a revoked token, or one bound to an event that is not on (or has no dates).
    """
    found = await tokens.kiosk(token)
    if found is None:
        return None
    if found.get("revoked"):
        raise KioskRefused("unpaired")
    event_id = found.get("event_id")
    event = await events.get(event_id) if event_id else None
    days = event_days(event)
    if event_id and days is None:
        raise KioskRefused("outside_event_dates")  # fail closed: no dates, no window
    if days is not None and not accepted_on(days, today, sending=sending):
        raise KioskRefused("outside_event_dates", *token_days(days))
    return AdmittedKiosk(kiosk_id=found["subject"], name=found.get("name"), event_id=event_id, event=event,
                         event_days=days)


async def revoke_kiosk(event_id: str, kiosk_id: str, tokens: KioskTokenStore) -> bool:
    """Revoke every token that paired this kiosk at this event; False if it never had one.

    A revoked token stays stored, marked revoked, so that the kiosk is told it was unpaired rather
    than that its token is unknown. Revoking again changes nothing.
    """
    return await tokens.revoke_kiosk(event_id, kiosk_id) > 0
