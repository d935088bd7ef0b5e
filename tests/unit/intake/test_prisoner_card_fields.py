"""The public texts on a prisoner's card and the holidays they mark: what staff may enter, refused clearly."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.intake.staff import PrisonerChange, PrisonerRecord

pytestmark = pytest.mark.unit

NAMES = {"uk": "Тест", "ru": "Тест", "en": "Test"}


def test_card_texts_are_kept_in_the_campaign_s_languages_trimmed():
    record = PrisonerRecord(id="p_card", names=NAMES, story={"uk": "  Любить троянди.  "},
                            write_about={"ru": "О погоде", "en": "The weather"}, holidays=["ramadan", "new_year"])
    assert record.story == {"uk": "Любить троянди."}
    assert set(record.write_about) == {"ru", "en"} and record.holidays == ["ramadan", "new_year"]


@pytest.mark.parametrize(("change", "says"), [
    ({"story": {"de": "Er liebt Rosen."}}, "'uk', 'ru' or 'en'"),
    ({"interests": {"uk": "x" * 601}}, "at most 600 characters"),
    ({"write_about": {"ru": "   "}}, "at least 1 character"),
    ({"holidays": ["ramadann"]}, "not in services/intake/holidays.yaml: ramadann"),
])
def test_a_card_field_outside_what_the_card_holds_is_refused_saying_why(change, says):
    with pytest.raises(ValidationError, match=says):
        PrisonerChange(**change)
