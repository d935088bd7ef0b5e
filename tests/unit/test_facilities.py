"""A facility's rules as data (shared/facilities.py) and as sorting applies them (services/sorting/facility_rules.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.sorting.config import SortingSettings
from services.sorting.facility_rules import OVER_PAGE_LIMIT, estimated_pages, page_limit_reasons
from services.sorting.scan import TypedLetter, render_typed_letter
from shared.facilities import Facility, facility_note, stale_rules, writer_notes

TODAY = date(2026, 12, 2)


def make_facility(**rules) -> Facility:
    return Facility.model_validate({
        "id": "ik_1", "name": "ИК-1", "kind": "colony", "region": "Крым",
        "address": {"lines": ["ул. Лагерная, 1"], "city": "Симферополь"}, "rules": rules})


def test_a_writer_is_told_only_what_is_refused_or_limited():
    facility = make_facility(strangers_letters={"value": "yes"}, drawings={"value": "no"},
                             postcards={"value": "yes"}, photos={"value": "unknown"}, page_limit={"value": 2})
    notes = writer_notes(facility.rules)
    assert [(n.code, n.pages) for n in notes] == [("drawings_not_handed_over", None), ("page_limit", 2)]
    assert notes[0].text == "Drawings are not handed over here."


def test_not_knowing_whether_strangers_letters_are_handed_over_is_said():
    assert [n.code for n in writer_notes(make_facility().rules)] == ["strangers_letters_unknown"]


def test_the_public_note_carries_the_page_limit_and_the_notes():
    note = facility_note(make_facility(strangers_letters={"value": "no"}, page_limit={"value": 3},
                                       notes={"value": "Только на русском"}).model_dump(mode="json"))
    assert note.page_limit == 3 and note.kind == "colony"
    assert [n.code for n in note.notes] == ["strangers_letters_not_handed_over", "page_limit", "note"]
    assert facility_note(None) is None


def test_rules_not_checked_within_the_age_or_never_are_stale_and_empty_notes_need_no_check():
    facility = make_facility(
        strangers_letters={"value": "yes", "verified_on": "2026-11-01"}, postcards={"value": "yes", "verified_on":
                                                                                     "2026-01-01"},
        drawings={"value": "no", "verified_on": "2026-06-05"}, photos={"value": "no", "verified_on": "2026-06-05"},
        page_limit={"value": 2})
    assert stale_rules(facility, TODAY, 180) == ["postcards", "page_limit"]
    assert stale_rules(facility, TODAY, 100) == ["postcards", "drawings", "photos", "page_limit"]


def test_a_page_limit_outside_any_facility_s_is_refused():
    with pytest.raises(ValueError):
        make_facility(page_limit={"value": 0})


@pytest.mark.parametrize("text", [
    "Здравствуйте!", "слово " * 300, "слово " * 380, "слово " * 450, "слово " * 1000,
    "\n".join(["Привет"] * 29), "\n".join(["Привет"] * 34), "\n".join(["Привет, как вы там? " * 4] * 20),
])
def test_the_estimate_of_a_typed_letter_s_pages_is_never_fewer_than_the_scan_has_and_at_most_one_more(text):
    scan = render_typed_letter(TypedLetter("Эмиль Куку", text, "Оксана", "Полтава", datetime(2026, 12, 1, tzinfo=UTC)),
                               SortingSettings().font_path)
    assert scan.pages <= estimated_pages(text) <= scan.pages + 1


def test_a_letter_longer_than_the_facility_s_limit_needs_a_moderator():
    long = "слово " * 450
    assert page_limit_reasons(long, [], 1) == [OVER_PAGE_LIMIT]
    assert page_limit_reasons(long, [], 2) == []
    assert page_limit_reasons(long, [], None) == []
    assert page_limit_reasons("", ["p1.jpg", "p2.jpg", "p3.jpg"], 2) == [OVER_PAGE_LIMIT]
    assert page_limit_reasons("", ["p1.jpg", "p2.jpg"], 2) == []
