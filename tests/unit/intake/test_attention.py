"""The fair-attention rule: who the writer's page offers first."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from services.intake.attention import (
    Holiday,
    LetterFacts,
    attention_order,
    campaign_holidays,
    letter_facts,
    need,
    upcoming_occasions,
)

TODAY = date(2027, 1, 20)


def make_prisoner(prisoner_id: str, **overrides) -> dict:
    return {"_id": prisoner_id, "status": "detained", "letters_received": 0, **overrides}


def handed_over(prisoner_id: str, days_ago: int) -> dict:
    at = datetime.combine(TODAY - timedelta(days=days_ago), datetime.min.time(), UTC)
    return {"prisoner_id": prisoner_id, "status": "handed_over", "handed_over_at": at}


def order(prisoners, letters=(), holidays=()) -> list[str]:
    return [p["_id"] for p in attention_order(prisoners, letter_facts(letters, TODAY), TODAY, holidays)]


def holiday(**fields) -> Holiday:
    return Holiday.model_validate(fields)


def test_a_prisoner_without_letters_lately_comes_before_one_who_had_many():
    prisoners = [make_prisoner("a"), make_prisoner("b")]
    letters = [handed_over("a", 3), handed_over("a", 10), handed_over("a", 12)]
    assert order(prisoners, letters) == ["b", "a"]


def test_the_longer_since_the_last_letter_the_earlier():
    prisoners = [make_prisoner("lately"), make_prisoner("long_ago")]
    assert order(prisoners, [handed_over("lately", 35), handed_over("long_ago", 55)]) == ["long_ago", "lately"]


def test_letters_on_their_way_count_before_they_arrive():
    prisoners = [make_prisoner("waiting"), make_prisoner("quiet")]
    letters = [{"prisoner_id": "waiting", "status": status} for status in ("received", "queued", "sent")]
    assert order(prisoners, letters) == ["quiet", "waiting"]


def test_rejected_and_withdrawn_letters_do_not_count_as_attention():
    facts = letter_facts([{"prisoner_id": "a", "status": "rejected"}, {"prisoner_id": "a", "status": "withdrawn"}],
                         TODAY)
    assert facts["a"] == LetterFacts()


def test_a_birthday_a_few_weeks_ahead_lifts_a_prisoner():
    prisoners = [make_prisoner("plain"), make_prisoner("birthday", birthday="1985-02-14")]
    assert order(prisoners) == ["birthday", "plain"]


def test_a_birthday_already_past_or_too_far_ahead_does_not():
    past = make_prisoner("past", birthday="1985-01-10")
    far = make_prisoner("far", birthday="1990-06-01")
    assert upcoming_occasions(past, TODAY, ()) == [] and upcoming_occasions(far, TODAY, ()) == []
    assert order([past, far, make_prisoner("aa")]) == ["aa", "far", "past"]  # equal need: by id


def test_a_birthday_on_29_february_is_kept_on_28_february_in_other_years():
    (occasion,) = upcoming_occasions(make_prisoner("leap", birthday="1988-02-29"), TODAY, ())
    assert occasion.starts_on == date(2027, 2, 28)


def test_a_holiday_lifts_only_the_prisoners_who_mark_it():
    ramadan = holiday(id="ramadan", names={"uk": "Рамадан", "ru": "Рамадан", "en": "Ramadan"},
                      dates={2027: "2027-02-08"})
    prisoners = [make_prisoner("a"), make_prisoner("b", holidays=["ramadan"])]
    assert order(prisoners, holidays=[ramadan]) == ["b", "a"]
    (occasion,) = upcoming_occasions(prisoners[1], TODAY, [ramadan])
    assert (occasion.holiday_id, occasion.days_until, occasion.names["en"]) == ("ramadan", 19, "Ramadan")


def test_a_holiday_for_everyone_reaches_across_the_new_year():
    new_year = holiday(id="new_year", names={"uk": "Новий рік", "ru": "Новый год", "en": "New Year"},
                       everyone=True, fixed="01-01")
    (occasion,) = upcoming_occasions(make_prisoner("a"), date(2026, 12, 3), [new_year])
    assert occasion.starts_on == date(2027, 1, 1)


def test_a_moving_holiday_in_a_year_not_listed_is_not_counted():
    bayram = holiday(id="kurban_bayram", names={"uk": "К", "ru": "К", "en": "K"}, dates={2026: "2026-05-27"})
    assert upcoming_occasions(make_prisoner("a", holidays=["kurban_bayram"]), date(2027, 5, 1), [bayram]) == []


def test_released_and_deceased_prisoners_come_after_everyone_who_can_be_written_to():
    prisoners = [make_prisoner("free", status="released", birthday="1985-02-01"),
                 make_prisoner("gone", status="deceased"), make_prisoner("busy")]
    letters = [handed_over("busy", 1) for _ in range(10)]
    assert order(prisoners, letters)[0] == "busy"


def test_equal_need_goes_to_fewer_letters_ever_received():
    prisoners = [make_prisoner("many", letters_received=40), make_prisoner("few", letters_received=2)]
    assert order(prisoners) == ["few", "many"]


def test_silence_beyond_two_months_weighs_no_more():
    assert need(LetterFacts(last_passed_on=TODAY - timedelta(days=400)), 0, TODAY) == need(LetterFacts(), 0, TODAY)


def test_the_campaign_s_holidays_file_is_valid_and_names_every_holiday_in_three_languages():
    holidays = campaign_holidays()
    assert {"ramadan", "kurban_bayram", "new_year", "nowruz"} <= {h.id for h in holidays}
    assert all(set(h.names) == {"uk", "ru", "en"} for h in holidays)


def test_a_holiday_with_neither_a_fixed_day_nor_dates_is_refused():
    with pytest.raises(ValidationError):
        holiday(id="nameless", names={"uk": "x", "ru": "x", "en": "x"})
