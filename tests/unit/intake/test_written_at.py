"""When a letter was written: the client's clock, kept within a plausible window by the server."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from services.intake.domain import (
    EVENT_MARGIN,
    MAX_WRITTEN_BEFORE_RECEIPT,
    LetterSubmission,
    plausible_written_at,
)

pytestmark = pytest.mark.unit

RECEIVED = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def test_without_a_claim_a_letter_was_written_when_it_arrived():
    assert plausible_written_at(None, RECEIVED) == RECEIVED


def test_an_offline_kiosks_time_of_writing_is_kept():
    written = RECEIVED - timedelta(days=1, hours=3)
    assert plausible_written_at(written, RECEIVED) == written


def test_a_time_in_the_future_is_clamped_to_receipt():
    assert plausible_written_at(RECEIVED + timedelta(days=400), RECEIVED) == RECEIVED


def test_a_time_long_before_receipt_is_clamped_to_the_window():
    assert plausible_written_at(datetime(1970, 1, 1, tzinfo=UTC), RECEIVED) == RECEIVED - MAX_WRITTEN_BEFORE_RECEIPT
    assert MAX_WRITTEN_BEFORE_RECEIPT == timedelta(days=30)


def test_a_time_with_an_offset_is_the_same_instant_in_utc_and_one_without_is_utc():
    kyiv = timezone(timedelta(hours=2))
    assert plausible_written_at(datetime(2026, 12, 5, 14, 0, tzinfo=kyiv), RECEIVED) == datetime(
        2026, 12, 5, 12, 0, tzinfo=UTC)
    assert plausible_written_at(datetime(2026, 12, 5, 12, 0), RECEIVED) == datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def test_the_submission_accepts_an_optional_written_at_that_does_not_change_the_letters_identity():
    base = {"prisoner_id": "p_1", "client_ref": "6f1c3c2e-5d0e-4c1b-9d55-1f3f1d2f9a10", "body": "Привет",
            "source": {"channel": "kiosk"}}
    plain = LetterSubmission.model_validate(base)
    dated = LetterSubmission.model_validate({**base, "written_at": "2026-12-05T14:30:00+02:00"})
    assert plain.written_at is None and dated.written_at == datetime(2026, 12, 5, 12, 30, tzinfo=UTC)
    assert plain.fingerprint() == dated.fingerprint()


# An event of two days, 5 and 6 December; its kiosk syncs the morning after (RECEIVED, 6 December 09:00, or later).
EVENT_DAYS = (date(2026, 12, 5), date(2026, 12, 6))
AFTER_THE_EVENT = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)


def test_a_kiosk_letter_written_during_its_event_keeps_its_time():
    written = datetime(2026, 12, 5, 15, 30, tzinfo=UTC)
    assert plausible_written_at(written, AFTER_THE_EVENT, EVENT_DAYS) == written


def test_a_kiosk_clock_before_the_event_is_clamped_to_a_day_before_it_opens():
    wrong_clock = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)  # inside the plain 30-day window, far from the event
    assert plausible_written_at(wrong_clock, AFTER_THE_EVENT, EVENT_DAYS) == datetime(2026, 12, 4, tzinfo=UTC)


def test_a_kiosk_clock_after_the_event_is_clamped_to_a_day_after_it_closes():
    wrong_clock = datetime(2026, 12, 8, 8, 0, tzinfo=UTC)  # before receipt, but two days after the event's end
    assert plausible_written_at(wrong_clock, AFTER_THE_EVENT, EVENT_DAYS) == datetime(2026, 12, 8, tzinfo=UTC)


def test_the_margin_allows_the_evening_before_and_the_morning_after():
    evening_before = datetime(2026, 12, 4, 19, 0, tzinfo=UTC)
    morning_after = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
    assert plausible_written_at(evening_before, AFTER_THE_EVENT, EVENT_DAYS) == evening_before
    assert plausible_written_at(morning_after, AFTER_THE_EVENT, EVENT_DAYS) == morning_after
    assert EVENT_MARGIN == timedelta(days=1)


def test_a_letter_is_never_dated_after_it_arrived_even_within_its_event():
    during_the_event = datetime(2026, 12, 5, 18, 0, tzinfo=UTC)
    assert plausible_written_at(during_the_event + timedelta(hours=3), during_the_event, EVENT_DAYS) == during_the_event


def test_an_event_that_cannot_hold_the_letter_is_ignored():
    # Arrived a week before the event (a kiosk tried out in advance): the plain window applies.
    early = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    written = early - timedelta(hours=2)
    assert plausible_written_at(written, early, EVENT_DAYS) == written
