"""Every kinder Russian wording a hint offers says what it means in the writer's interface language."""

from __future__ import annotations

import re

import pytest

from shared.screening import screen
from shared.screening.engine import default_rules

QUOTED_RUSSIAN = re.compile(r"«[^»]*[А-яЁё][^»]*»")


def offered_wordings():
    return [rule for rule in default_rules().rules
            if rule.suggestion and QUOTED_RUSSIAN.search(rule.suggestion.en)]


def test_the_rules_offer_kinder_russian_wordings():
    assert len(offered_wordings()) >= 8


@pytest.mark.parametrize("rule", offered_wordings(), ids=lambda rule: rule.id)
def test_a_kinder_russian_wording_carries_a_gloss_in_ukrainian_and_english(rule):
    assert rule.suggestion_gloss is not None, f"{rule.id}: add suggestion_gloss (uk, en) beside its suggestion"
    assert not QUOTED_RUSSIAN.search(rule.suggestion_gloss.en)


def test_a_finding_carries_the_gloss_in_the_requested_language_and_none_in_russian():
    letter = "Держитесь! Слава Украине!"
    gloss = {lang: screen(letter, lang=lang).findings[0].suggestion_gloss for lang in ("uk", "en", "ru")}

    assert gloss == {"uk": "Тримайтеся, ми з вами", "en": "Hold on, we are with you", "ru": None}
