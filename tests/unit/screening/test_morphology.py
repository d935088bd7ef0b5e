"""Dictionary words in terms: every form of a listed word matches, words that share letters do not."""

import pytest

from shared.screening import morphology, screen
from shared.screening.rules import RuleBook, RulesFileError, load_rules
from shared.screening.terms import TermMatcher, TermSyntaxError

MESSAGE = {"uk": "Повідомлення", "en": "Message", "ru": "Сообщение"}


def book(*match: str, unless: tuple[str, ...] = (), words: dict | None = None) -> RuleBook:
    rule = {"id": "test.rule", "category": "test", "severity": "warn", "message": MESSAGE}
    rule["match"] = list(match)
    if unless:
        rule["unless"] = list(unless)
    return RuleBook.model_validate({"version": "t", "words": words or {}, "rules": [rule]})


def flagged(rules: RuleBook, text: str) -> list[str]:
    return [text[f.start : f.end] for f in screen(text, rules=rules).findings]


# ---------------------------------------------------------------- expansion


@pytest.mark.parametrize(
    "text", ["суд", "суда", "суду", "судом", "суде", "суды", "судов", "судам", "судами", "судах"]
)
def test_every_case_form_of_a_dictionary_noun_matches(text):
    assert flagged(book("~суд"), f"Думаю про {text} каждый день.") == [text]


@pytest.mark.parametrize("text", ["посуда", "судьба", "судак", "пересуды", "самосуд"])
def test_words_that_merely_share_letters_with_a_dictionary_word_do_not_match(text):
    assert flagged(book("~суд"), f"Вот {text} какая.") == []


def test_a_verb_matches_in_every_tense_person_and_participle():
    rules = book("~вернуться")

    for form in ("вернётся", "вернулись", "вернись", "вернувшийся", "вернувшись", "вернёмся"):
        assert flagged(rules, f"Он {form} скоро.") == [form], form


def test_yo_in_the_dictionary_matches_e_in_the_letter_and_the_other_way_round():
    assert flagged(book("~прилёт"), "После прилетов тихо.") == ["прилетов"]
    assert flagged(book("~прилет"), "После прилётов тихо.") == ["прилётов"]


def test_grammemes_keep_only_the_forms_that_have_them():
    rules = book("~крым ~вернуться:3per,past")

    assert flagged(rules, "Крым вернётся.") == ["Крым вернётся"]
    assert flagged(rules, "Крым вернулся.") == ["Крым вернулся"]
    assert flagged(rules, "Крым вернусь.") == []


def test_grammeme_sets_after_separate_colons_must_all_hold():
    forms = morphology.forms_of("вернуть", "ru", (frozenset({"VERB"}), frozenset({"3per", "past"})))

    assert {"вернут", "вернёт".replace("ё", "е"), "вернули"} <= forms
    assert "вернувший" not in forms and "вернуть" not in forms and "верну" not in forms


def test_a_ukrainian_term_is_expanded_with_the_ukrainian_dictionary():
    rules = book("~крим ~повернутися", "~слава:uk ~україна")

    assert flagged(rules, "Крим повернеться додому.") == ["Крим повернеться"]
    assert flagged(rules, "Слава Україні!") == ["Слава Україні"]


def test_a_word_marked_uk_is_ukrainian_inside_a_russian_term():
    assert flagged(book("смерть ~ворог:uk:datv"), "Смерть ворогам!") == ["Смерть ворогам"]


def test_a_group_is_any_of_its_words_and_a_qualifier_narrows_its_dictionary_words():
    rules = book(
        "~возвращение @places:gent",
        words={"places": ["~крым", "~полуостров", "ай[|а]"]},
    )

    assert flagged(rules, "Ждём возвращения полуострова.") == ["возвращения полуострова"]
    assert flagged(rules, "Ждём возвращения Крыма.") == ["возвращения Крыма"]
    assert flagged(rules, "Мечтаю о возвращении в Крым.") == []


def test_alternatives_in_one_place_match_any_of_them():
    rules = book("эти ~свинья|~тварь|мразь")

    assert flagged(rules, "Эти твари врут.") == ["Эти твари"]
    assert flagged(rules, "Эти мразь.") == ["Эти мразь"]
    assert flagged(rules, "Эти свиньи в форме.") == ["Эти свиньи"]


def test_a_numbered_gap_lets_that_many_words_stand_between():
    rules = book("над ...4 ~наш ~цвет:plur")

    assert flagged(rules, "Скоро над Ай-Петри снова будут наши цвета.") == [
        "над Ай-Петри снова будут наши цвета"
    ]
    assert flagged(rules, "Над морем летали чайки, а потом мы выбирали наши цвета.") == []


def test_a_word_marked_with_a_dollar_must_end_a_clause():
    rules = book("~крым наш$")

    assert flagged(rules, "Крым наш!") == ["Крым наш"]
    assert flagged(rules, "Говорят: Крым наш, и всё") == ["Крым наш"]
    assert flagged(rules, "Крым наш любимый край.") == []


def test_an_unless_phrase_cancels_a_match_it_only_overlaps():
    rules = book("~наш ~победа", unless=("~победа ...5 ~турнир|~матч",))

    assert flagged(rules, "Ждём нашей победы!") == ["нашей победы"]
    assert flagged(rules, "Ждём нашей победы в турнире.") == []


def test_a_tight_phrase_of_dictionary_words_is_found_written_together():
    rules = book("~слава ~украина")

    assert flagged(rules, "#СлаваУкраине") == ["СлаваУкраине"]
    assert flagged(rules, "С л а в а  У к р а и н ы") == ["С л а в а  У к р а и н ы"]


def test_a_phrase_with_a_gap_is_not_looked_for_written_together():
    assert flagged(book("~крым ... ~вернуться"), "крымвернется") == []


# ---------------------------------------------------------------- mistakes in the rules file


@pytest.mark.parametrize(
    ("term", "explained"),
    [
        ("~шахед", "does not know 'шахед'; write it as stem[endings]"),
        ("~стали", "not a dictionary form"),
        ("~суд:plr", "unknown grammeme"),
        ("~суд:INFN", "no form of 'суд'"),
        ("@nobody", "no word group '@nobody'"),
        ("~суд ...", "cannot end with '...'"),
    ],
)
def test_a_term_the_dictionary_cannot_expand_is_refused_with_a_reason(term, explained):
    with pytest.raises(TermSyntaxError, match=explained.replace("[", r"\[").replace("]", r"\]")):
        TermMatcher().add("test.rule", term, {})


def test_a_rules_file_with_an_unknown_dictionary_word_does_not_load(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(
        'version: "t"\nrules:\n  - id: t.a\n    category: t\n    severity: warn\n'
        '    match: ["~кракозябрище"]\n    message: {uk: "у", en: "e", ru: "р"}\n',
        encoding="utf-8",
    )

    with pytest.raises(RulesFileError, match="t.a.*кракозябрище"):
        load_rules(path)


# ---------------------------------------------------------------- cost


def test_the_dictionaries_are_loaded_once_per_process():
    assert morphology.analyzer("ru") is morphology.analyzer("ru")
    assert morphology.analyzer("uk") is morphology.analyzer("uk")
    assert morphology.analyzer("ru") is not morphology.analyzer("uk")


def test_expanding_a_word_twice_costs_one_dictionary_lookup():
    morphology.forms_of.cache_clear()
    morphology.forms_of("заседание", "ru")
    morphology.forms_of("заседание", "ru")

    assert morphology.forms_of.cache_info().hits == 1
