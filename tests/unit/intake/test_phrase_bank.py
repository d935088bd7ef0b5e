"""The phrase bank organisers edit: it loads, says clearly what is wrong with a bad edit, and holds nothing the
screening rules would flag, so an edit that adds a risky phrase fails here before a writer can insert it."""

from __future__ import annotations

import pytest

from services.intake.phrases import MAX_SAMPLES_PER_TOPIC, PhraseBankError, parse_phrase_bank, phrase_bank
from services.intake.writing_help import country_names, suggest_cities
from shared.screening import screen

REQUIRED_TOPICS = {"seasons", "nature", "books", "food", "family", "music", "faith", "birthday", "new_year"}

GOOD_TOPIC = """
version: "1"
topics:
  - id: food
    title: {uk: Їжа, en: Food, ru: Еда, de: Essen, pl: Jedzenie}
    phrases:
      - {ru: "%s", uk: "Сьогодні в нас пиріг.", en: "We have a pie today.", de: "Heute gibt es Kuchen.",
         pl: "Dziś mamy ciasto."}
"""


def unscreened(bank) -> list[str]:
    problems = []
    for where, text in bank.texts():
        for finding in screen(text, lang="en").findings:
            problems.append(f"{where}: {finding.rule} on {text[finding.start:finding.end]!r}")
    return problems


def test_every_phrase_and_sample_letter_passes_screening_without_a_finding():
    assert unscreened(phrase_bank()) == []


def test_a_risky_phrase_added_by_an_edit_is_caught():
    bank = parse_phrase_bank(GOOD_TOPIC % "Держитесь! Слава Украине!")

    assert any("slogans" in problem for problem in unscreened(bank))


def test_the_bank_covers_the_campaigns_topics_each_with_phrases_and_a_sample_letter():
    topics = {topic.id: topic for topic in phrase_bank().topics}

    assert REQUIRED_TOPICS <= set(topics)
    for name in REQUIRED_TOPICS:
        assert len(topics[name].phrases) >= 3, name
        assert topics[name].samples, name  # at most MAX_SAMPLES_PER_TOPIC: the parser refuses more (below)
    faith = " ".join(item.ru for item in topics["faith"].phrases + topics["faith"].samples)
    assert "Рамадан" in faith and "Курбан-байрам" in faith


def test_a_topic_with_more_sample_letters_than_the_limit_is_refused_with_where_it_is():
    one = '\n      - {ru: "Здравствуйте!", uk: "Вітаю!", en: "Hello!", de: "Hallo!", pl: "Dzień dobry!"}'

    def with_samples(n: int) -> str:
        return (GOOD_TOPIC % "Сегодня у нас пирог.") + "    samples:" + one * n + "\n"

    assert len(parse_phrase_bank(with_samples(MAX_SAMPLES_PER_TOPIC)).topics[0].samples) == MAX_SAMPLES_PER_TOPIC
    with pytest.raises(PhraseBankError, match=r"topics\.0\.samples: .*at most 2"):
        parse_phrase_bank(with_samples(MAX_SAMPLES_PER_TOPIC + 1))


def test_a_phrase_without_a_gloss_is_refused_with_where_it_is():
    text = GOOD_TOPIC.replace(' pl: "Dziś mamy ciasto."', "") % "Сегодня у нас пирог."

    with pytest.raises(PhraseBankError, match=r"topics\.0\.phrases\.0\.pl: Field required"):
        parse_phrase_bank(text)


def test_a_topic_listed_twice_and_broken_yaml_are_refused():
    twice = GOOD_TOPIC % "Сегодня у нас пирог."
    twice += twice.split("topics:\n", 1)[1]

    with pytest.raises(PhraseBankError, match="'food' is used twice"):
        parse_phrase_bank(twice)
    with pytest.raises(PhraseBankError, match="not valid YAML"):
        parse_phrase_bank("topics: [unclosed")


def test_city_suggestions_match_any_spelling_and_name_the_city_in_the_interface_language():
    assert [(c.name, c.country_name) for c in suggest_cities("Киев", "uk")] == [("Київ", "Україна")]
    assert [c.name for c in suggest_cities("kiew", "en")] == ["Kyiv"]
    assert suggest_cities("", "en") == []
    assert all(c.name.lower().startswith("b") for c in suggest_cities("b", "en")[:1])


def test_country_names_come_in_the_interface_language():
    names = {c.code: c.name for c in country_names("uk")}

    assert names["DE"] == "Німеччина" and names["UA"] == "Україна"
    assert {c.code: c.name for c in country_names("ru")}["CZ"].startswith("Чех")
