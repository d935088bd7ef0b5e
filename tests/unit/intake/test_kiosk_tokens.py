"""When a kiosk token is accepted: around its event's days only, and never once staff unpaired the kiosk."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from services.intake.kiosks import (
    LATE_SENDING,
    KioskRefused,
    accepted_on,
    admit_kiosk,
    event_days,
    revoke_kiosk,
    token_days,
)

pytestmark = pytest.mark.unit

FAIR = (date(2026, 12, 5), date(2026, 12, 7))  # Friday to Sunday


@pytest.mark.parametrize("today", [date(2026, 12, 4), date(2026, 12, 5), date(2026, 12, 6), date(2026, 12, 7),
                                   date(2026, 12, 8)], ids=str)
def test_a_kiosk_token_is_accepted_from_the_day_before_its_event_to_the_day_after(today):
    assert accepted_on(FAIR, today)


@pytest.mark.parametrize("today", [date(2026, 12, 3), date(2026, 12, 9), date(2027, 12, 6), date(2025, 12, 6)],
                         ids=str)
def test_a_kiosk_token_is_refused_two_days_away_from_its_event(today):
    assert not accepted_on(FAIR, today)


def test_a_one_day_events_kiosk_works_for_three_days():
    day = date(2026, 3, 1)
    assert token_days((day, day)) == (day - timedelta(days=1), day + timedelta(days=1))
    assert [accepted_on((day, day), day + timedelta(days=n)) for n in (-2, -1, 0, 1, 2)] == \
        [False, True, True, True, False]


def test_an_events_days_are_read_from_its_record():
    assert event_days({"_id": "e", "starts_on": "2026-12-05", "ends_on": "2026-12-07"}) == FAIR
    assert event_days({"_id": "e", "starts_on": "2026-12-05"}) is None
    assert event_days({"_id": "e", "starts_on": "soon", "ends_on": "later"}) is None
    assert event_days(None) is None


class FakeTokens:
    def __init__(self, *records: dict[str, Any]) -> None:
        self.records = {record["token"]: record for record in records}

    async def kiosk(self, token: str) -> dict[str, Any] | None:
        return self.records.get(token)

    async def revoke_kiosk(self, event_id: str, kiosk_id: str) -> int:
        mine = [r for r in self.records.values() if (r["event_id"], r["subject"]) == (event_id, kiosk_id)]
        for record in mine:
            record["revoked"] = True
        return len(mine)


class FakeEvents:
    def __init__(self, *events: dict[str, Any]) -> None:
        self.events = {event["_id"]: event for event in events}

    async def get(self, event_id: str) -> dict[str, Any] | None:
        return self.events.get(event_id)


def make_kiosk(token: str = "t-1", event_id: str | None = "e_fair", **overrides) -> dict[str, Any]:
    return {"token": token, "role": "kiosk", "subject": "k_entrance", "event_id": event_id, "name": "Entrance",
            "revoked": False, **overrides}


EVENTS = FakeEvents({"_id": "e_fair", "name": "Book fair", "starts_on": "2026-12-05", "ends_on": "2026-12-07"},
                    {"_id": "e_undated", "name": "Someday"})


async def test_a_kiosk_at_its_event_is_admitted_with_the_events_days():
    admitted = await admit_kiosk("t-1", FakeTokens(make_kiosk()), EVENTS, date(2026, 12, 6))
    assert admitted is not None
    assert (admitted.kiosk_id, admitted.event_id, admitted.event_days) == ("k_entrance", "e_fair", FAIR)
    assert admitted.valid_days == (date(2026, 12, 4), date(2026, 12, 8))


async def test_a_kiosk_after_its_event_is_refused_and_told_when_it_worked():
    with pytest.raises(KioskRefused) as refused:
        await admit_kiosk("t-1", FakeTokens(make_kiosk()), EVENTS, date(2026, 12, 9))
    assert refused.value.reason == "outside_event_dates"
    assert (refused.value.valid_from, refused.value.valid_until) == (date(2026, 12, 4), date(2026, 12, 8))
    assert "2026-12-04" in refused.value.sentence()


def test_letters_written_at_the_event_are_still_taken_for_two_weeks_from_a_tablet_that_was_offline():
    last = token_days(FAIR)[1]
    assert LATE_SENDING == timedelta(days=14)
    assert accepted_on(FAIR, last + LATE_SENDING, sending=True)
    assert not accepted_on(FAIR, last + LATE_SENDING + timedelta(days=1), sending=True)
    assert not accepted_on(FAIR, last + timedelta(days=1))  # the kiosk itself no longer works
    assert not accepted_on(FAIR, token_days(FAIR)[0] - timedelta(days=1), sending=True)  # never before


async def test_a_kiosk_after_its_event_may_still_send_its_letters_but_not_be_used():
    tokens, after = FakeTokens(make_kiosk()), date(2026, 12, 15)
    assert (await admit_kiosk("t-1", tokens, EVENTS, after, sending=True)).event_days == FAIR
    with pytest.raises(KioskRefused):
        await admit_kiosk("t-1", tokens, EVENTS, after)
    await revoke_kiosk("e_fair", "k_entrance", tokens)
    with pytest.raises(KioskRefused) as refused:  # an unpaired kiosk sends nothing, late or not
        await admit_kiosk("t-1", tokens, EVENTS, date(2026, 12, 6), sending=True)
    assert refused.value.reason == "unpaired"


async def test_a_kiosk_whose_event_has_no_dates_is_refused():
    tokens = FakeTokens(make_kiosk(event_id="e_undated"), make_kiosk("t-2", event_id="e_gone"))
    for token in ("t-1", "t-2"):
        with pytest.raises(KioskRefused) as refused:
            await admit_kiosk(token, tokens, EVENTS, date(2026, 12, 6))
        assert refused.value.reason == "outside_event_dates" and refused.value.valid_from is None


async def test_an_unpaired_kiosk_is_refused_on_its_next_request_even_during_its_event():
    tokens = FakeTokens(make_kiosk(), make_kiosk("t-2"))
    assert await admit_kiosk("t-1", tokens, EVENTS, date(2026, 12, 6)) is not None
    assert await revoke_kiosk("e_fair", "k_entrance", tokens)
    for token in ("t-1", "t-2"):  # every token that paired it
        with pytest.raises(KioskRefused) as refused:
            await admit_kiosk(token, tokens, EVENTS, date(2026, 12, 6))
        assert refused.value.reason == "unpaired"
        assert refused.value.sentence() == "this kiosk was unpaired by the organisers"


async def test_unpairing_a_kiosk_that_never_was_says_so():
    assert not await revoke_kiosk("e_fair", "k_elsewhere", FakeTokens(make_kiosk()))


async def test_a_token_that_never_paired_a_kiosk_is_not_admitted():
    assert await admit_kiosk("guess", FakeTokens(make_kiosk()), EVENTS, date(2026, 12, 6)) is None
