"""Tricks to slip past the filter are seen through, and findings still point at the original text."""

import pytest

from shared.screening import screen
from shared.screening.normalize import canonicalise


def flagged(text: str, rule: str | None = None) -> list[str]:
    """The original spans the screening flagged, optionally for one rule only."""
    return [text[f.start : f.end] for f in screen(text).findings if rule is None or f.rule == rule]


# ---------------------------------------------------------------- whole words, not substrings


@pytest.mark.parametrize(
    "text",
    [
        "Вчера мыли посуду всей семьёй.",
        "Работаю на флагмане речного флота.",
        "Живу в старом доме с красивым фронтоном.",
        "Пусть в вашем доме будет мир и покой.",
        "Пусть судьба будет к вам добра.",
        "Ходили на концерт, играл оркестр.",
        "Мой отец работал на танкере.",
        "Купил ракетку для тенниса.",
    ],
)
def test_word_that_merely_contains_a_flagged_word_does_not_match(text):
    assert screen(text).verdict == "ok", flagged(text)


@pytest.mark.parametrize("form", ["суд", "суда", "суде", "судом", "судья", "судьёй", "судебное"])
def test_inflected_forms_of_a_flagged_word_all_match(form):
    assert flagged(f"Думаю про {form} каждый день.", "case.court") == [form]


def test_short_phrase_words_glued_together_do_not_make_a_false_match():
    # "ст ... ук" (criminal code article) written together would be "стук", a knock.
    assert screen("Слышу стук в дверь, это соседка с пирогом.").verdict == "ok"


def test_novel_war_and_peace_is_cancelled_by_the_unless_term():
    assert screen("Перечитываю «Войну и мир».").verdict == "ok"
    assert flagged("Когда кончится война?", "war.war") == ["война"]


# ---------------------------------------------------------------- evasions


def test_spaced_letters_are_joined_and_the_span_covers_all_of_them():
    text = "Привет! С л а в а  У к р а и н е! Скоро увидимся."

    assert flagged(text, "slogans.glory_to_ukraine") == ["С л а в а  У к р а и н е"]


def test_letters_spaced_evenly_throughout_still_reveal_the_phrase():
    text = "С л а в а У к р а и н е"

    assert flagged(text, "slogans.glory_to_ukraine") == [text]


@pytest.mark.parametrize("separator", [".", "-", "_", "*", " "])
def test_letters_separated_by_dots_dashes_or_stars_are_joined(separator):
    word = separator.join("Путин")
    text = f"Ну и {word} этот."

    assert flagged(text, "officials.heads_of_state") == [word]


def test_latin_look_alike_letters_inside_a_cyrillic_word_are_unmasked():
    text = "Здравствуйте. пyтин проиграет."  # Latin y

    assert flagged(text, "officials.heads_of_state") == ["пyтин"]


def test_many_look_alikes_in_one_word_are_unmasked():
    text = "Нам не страшен ПУTИH."  # Latin T and H

    assert flagged(text, "officials.heads_of_state") == ["ПУTИH"]


def test_cyrillic_look_alikes_inside_a_latin_slogan_are_unmasked():
    text = "Slаva Ukrаini!"  # Cyrillic а

    assert flagged(text, "slogans.glory_to_ukraine") == ["Slаva Ukrаini"]


def test_latin_capitals_that_pass_for_cyrillic_are_unmasked_only_among_russian_words():
    assert flagged("Держитесь, BCY скоро придут.", "war.armed_forces") == ["BCY"]
    assert canonicalise("Мы вас любим! I LOVE YOU").text.endswith("i love you")


def test_yo_and_ye_are_the_same_letter():
    assert flagged("Аксёнов выступал.", "officials.government") == ["Аксёнов"]
    assert flagged("Аксенов выступал.", "officials.government") == ["Аксенов"]


def test_letter_case_does_not_matter():
    assert flagged("СЛАВА УКРАИНЕ", "slogans.glory_to_ukraine") == ["СЛАВА УКРАИНЕ"]


def test_stress_marks_are_ignored_and_stay_inside_the_span():
    text = "Сла\u0301ва Украи\u0301не\u0301!"

    assert flagged(text, "slogans.glory_to_ukraine") == ["Сла\u0301ва Украи\u0301не\u0301"]


def test_zero_width_characters_inside_words_are_ignored():
    text = "Сла\u200bва\u200d Укр\u2060аи\ufeffне"

    assert flagged(text, "slogans.glory_to_ukraine") == [text]


def test_bidi_controls_are_ignored():
    text = "\u2066Путин\u2069 \u200fне вечен"

    assert flagged(text, "officials.heads_of_state") == ["Путин"]


def test_right_to_left_override_is_read_in_the_order_it_is_displayed():
    hidden = "Слава Украине"[::-1]
    text = f"Держитесь! \u202e{hidden}\u202c Обнимаю"

    assert flagged(text, "slogans.glory_to_ukraine") == [hidden]


def test_compatibility_forms_are_folded_with_nfkc():
    fullwidth = "Ｐｕｔｉｎ"
    bold = "𝐒𝐥𝐚𝐯𝐚 𝐔𝐤𝐫𝐚𝐢𝐧𝐢"

    assert flagged(f"{fullwidth} боится.", "officials.heads_of_state") == [fullwidth]
    assert flagged(f"{bold}!", "slogans.glory_to_ukraine") == [bold]


def test_decomposed_short_i_is_still_the_letter_short_i():
    decomposed = "Зеленски\u0438\u0306"

    assert flagged(f"{decomposed} сказал.", "officials.heads_of_state") == [decomposed]


def test_slogan_written_as_a_hashtag_is_found():
    assert flagged("Обнимаем #СлаваУкраине", "slogans.glory_to_ukraine") == ["СлаваУкраине"]


def test_phrase_does_not_run_across_a_sentence_end():
    assert screen("Крым. Наш сад цветёт.").verdict == "ok"


# ---------------------------------------------------------------- the canonical form itself


def test_canonical_form_maps_every_character_back_to_its_original_span():
    original = "П\u200bу\u0301тин"
    letter = canonicalise(original)

    assert letter.text == "путин"
    assert letter.original_span(0, len(letter.text)) == (0, len(original))
    assert original[slice(*letter.original_span(1, 2))] == "у\u0301"


def test_canonical_form_keeps_ukrainian_letters_that_need_a_mark():
    assert canonicalise("Киї\u0308в й ї").text == "київ й ї"
    assert canonicalise("і\u0308").text == "ї"


def test_two_single_letters_are_not_taken_for_an_evasion():
    assert canonicalise("т.е. так").text == "т.е. так"


def test_roman_numerals_are_not_taken_for_look_alikes():
    assert canonicalise("XIX век").text == "xix век"
