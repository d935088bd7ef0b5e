"""What the censor sees: other scripts, signs for letters, fillers, pieces, masks, backwards text.

Each evasion is undone in the canonical form, the finding still points at what the writer typed,
and the innocent look-alikes of real letters (numbers, initials, lists, emoticons) stay as they are.
"""

import pytest

from shared.screening import screen
from shared.screening.lookalikes import as_cyrillic, as_latin
from shared.screening.normalize import canonicalise


def flagged(text: str, rule: str | None = None) -> list[str]:
    return [text[f.start : f.end] for f in screen(text).findings if rule is None or f.rule == rule]


# ---------------------------------------------------------------- look-alikes from the Unicode data


@pytest.mark.parametrize(
    ("char", "reads_as"),
    [
        ("o", "о"), ("B", "в"), ("H", "н"), ("y", "у"), ("i", "і"),  # Latin
        ("ο", "о"), ("Η", "н"), ("ρ", "р"),  # Greek
        ("ү", "у"), ("ұ", "у"), ("қ", "к"), ("ң", "н"), ("ҫ", "с"), ("ҙ", "з"), ("ө", "о"),  # Kazakh, Bashkir, Tatar
        ("օ", "о"), ("Ꮯ", "с"),  # Armenian, Cherokee
        ("0", "о"), ("3", "з"), ("6", "б"),  # digits Unicode itself pairs with letters
    ],
)  # fmt: skip
def test_characters_of_any_script_read_as_the_russian_letter_they_look_like(char, reads_as):
    assert as_cyrillic(char) == reads_as


def test_cyrillic_letters_read_as_latin_inside_a_latin_word():
    assert "".join(as_latin(c) for c in "Ѕlаvа") == "slava"


@pytest.mark.parametrize(
    ("text", "rule", "span"),
    [
        ("Ҫлава Ұкраине, брат.", "slogans.glory_to_ukraine", "Ҫлава Ұкраине"),
        ("Рօссия прօиграет, это вопрос времени.", "slogans.glory_to_ukraine", "Рօссия прօиграет"),
        ("Ро$$ия проигр@ет, это вопрос времени.", "slogans.glory_to_ukraine", "Ро$$ия проигр@ет"),
        ("Сл4ва Укр@ине!", "slogans.glory_to_ukraine", "Сл4ва Укр@ине"),
        ("$лава Украине!", "slogans.glory_to_ukraine", "$лава Украине"),
        ("Крым — эт0 Укρаина.", "slogans.crimea_is_ukraine", "Крым — эт0 Укρаина"),
        ("Ηерοям слава!", "slogans.glory_to_ukraine", "Ηерοям слава"),
    ],
)
def test_letters_from_other_scripts_and_signs_for_letters_are_read_as_russian(text, rule, span):
    rules = {f.rule for f in screen(text).findings}
    assert "slogans" in {r.split(".")[0] for r in rules}, rules
    assert span in flagged(text)


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("П0тин", "путин"),
        ("Сл4ва", "слава"),
        ("Ро$$ия", "россия"),
        ("3СУ", "зсу"),
        ("П*тин", "путин"),
        ("х*йло", "хуйло"),
        ("б**дь", "блядь"),
        ("Укр#ина", "украина"),
    ],
)
def test_digits_signs_and_masked_letters_are_read_as_the_word_they_hide(typed, canonical):
    assert canonicalise(typed).text == canonical


@pytest.mark.parametrize(
    "text",
    [
        "В 2024г. сын пошёл в 5-й класс, 10го числа.",
        "Прошли 3км, купили 2кг яблок.",
        "XIX век, Петр I, глава IV.",
        "P.S. Обнимаю.",
        "А.С. Пушкин — наше всё, т.е. всё.",
        "1) хлеб 2) молоко 3) яйца",
        "а) первое; б) второе; в) третье",
        "Привет :) Как дела? :-D ...",
        "Цена 100$ или 90€.",
        "Пишите на ольга@почта.рф, она ответит.",
        "к*т и к*шка",  # a star nobody needs: no word worth hiding
        "а я в шоке, и я с тобой",
    ],
)
def test_innocent_numbers_initials_lists_and_emoticons_are_left_as_typed(text):
    letter = canonicalise(text)

    assert letter.text == text.lower().replace("ё", "е")


# ---------------------------------------------------------------- any filler between letters


@pytest.mark.parametrize("filler", ["_", "/", "~", "♥", "—", "–", "\n", "·", " - ", "*", "|", "+", "🌸"])
def test_letters_split_by_any_filler_are_joined(filler):
    word = filler.join("Путин")
    text = f"Ну и {word} этот."

    assert flagged(text, "officials.heads_of_state") == [word]


def test_letters_split_by_fillers_varied_at_random_are_joined():
    assert canonicalise("С.л-а_в а У~к/р.а-и_н е").text == "слава украине"


def test_a_heavier_filler_between_spelt_out_words_is_a_word_break():
    assert canonicalise("С♥л♥а♥в♥а У♥к♥р♥а♥и♥н♥е").text == "слава украине"
    assert canonicalise("С.л.а.в.а У.к.р.а.и.н.е").text == "слава украине"
    assert canonicalise("С л а в а\nУ к р а и н е").text == "слава украине"


def test_spelt_out_slogan_with_hearts_is_flagged_over_the_whole_spelling():
    text = "Мы с вами. С♥л♥а♥в♥а У♥к♥р♥а♥и♥н♥е ♥ Ваша Надя"

    assert flagged(text, "slogans.glory_to_ukraine") == ["С♥л♥а♥в♥а У♥к♥р♥а♥и♥н♥е"]


def test_a_spelt_out_email_keeps_its_at_sign():
    assert "@" in canonicalise("почта: k a t e r y n a @ i . u a").text


# ---------------------------------------------------------------- words cut into pieces


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("Сла ва Укр аине", "слава украине"),
        ("Ге-ро-ям сла-ва!", "героям слава!"),
        ("Пу тин", "путин"),
        ("во йну", "войну"),
        ("Пу тин ху йло", "путин хуйло"),  # "хуйло" is no dictionary word, but a word worth hiding
        ("Зел енский", "зеленский"),
    ],
)
def test_pieces_of_one_word_are_joined(text, canonical):
    assert canonicalise(text).text == canonical


@pytest.mark.parametrize(
    "text",
    ["Ох рана болит.", "по беда", "сине-жёлтый шарф", "кое-как, из-за тебя", "ну и ну", "что-то", "я в шоке"],
)
def test_words_that_stand_alone_are_not_glued_to_their_neighbours(text):
    assert canonicalise(text).text == text.lower().replace("ё", "е")


def test_slogan_in_uneven_pieces_is_flagged_where_the_writer_typed_it():
    text = "Дорогой Эскендер! Сла ва Укр аине, и пусть всё будет хорошо."

    assert flagged(text, "slogans.glory_to_ukraine") == ["Сла ва Укр аине"]


# ---------------------------------------------------------------- backwards text


def test_text_typed_backwards_is_read_forwards_and_reported_as_hidden():
    text = "Прочитай задом наперёд: ениаркУ авалС. Обнимаю, Дима"

    assert flagged(text, "slogans.glory_to_ukraine") == ["ениаркУ авалС"]
    assert flagged(text, "evasion.hidden_text") == ["ениаркУ авалС"]


def test_text_under_a_right_to_left_override_is_reported_as_hidden():
    hidden = "Слава Украине"[::-1]
    text = f"Привет!\n\u202e{hidden}\u202c\nТвоя Ева"

    assert flagged(text, "evasion.hidden_text") == [hidden]


@pytest.mark.parametrize(
    "text", ["Мы были домА весь день.", "Ирина, Алла и Анна передают привет.", "Вот КАК надо!"]
)
def test_capitals_for_stress_and_names_are_not_backwards_text(text):
    assert flagged(text, "evasion.hidden_text") == []
    assert canonicalise(text).hidden == ()


# ---------------------------------------------------------------- current Unicode tables


def test_emoji_newer_than_python_s_unicode_tables_stay_in_the_canonical_text():
    # 🩵 (light blue heart) and 🪿 (goose) are Unicode 15; Python 3.11's tables call them unassigned.
    assert canonicalise("Гусь 🪿🩵").text == "гусь 🪿🩵"


def test_offsets_still_point_at_the_original_after_every_kind_of_unmasking():
    text = "Эх. Ро$$ия проигр@ет, а С л а в а — нет."
    letter = canonicalise(text)

    assert letter.text == "эх. россия проиграет, а слава — нет."
    start = letter.text.index("слава")
    assert text[slice(*letter.original_span(start, start + 5))] == "С л а в а"


# ---------------------------------------------------------------- words masked almost entirely


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("С***а У*****е!", "слава украине!"),
        ("П***н", "путин"),
        ("П***н х***о", "путин хохло"),  # a mask that fits two insults reads as one of them
        ("Г****м с***а", "героем слава"),
    ],
)
def test_words_masked_but_for_their_first_and_last_letters_are_read_when_only_a_target_fits(typed, canonical):
    assert canonicalise(typed).text == canonical


@pytest.mark.parametrize("text", ["оценка 5***** отель", "М***а передаёт привет", "С***** У*****"])
def test_a_mask_that_fits_no_target_or_shows_too_little_stays_a_mask(text):
    assert "*" in canonicalise(text).text


def test_a_masked_slogan_is_flagged_as_a_slogan():
    assert flagged("Как пишут у нас в чате, С***а У*****е! Твоя Полина", "slogans.glory_to_ukraine")


# ---------------------------------------------------------------- first letters run together


def test_first_letters_run_together_are_cut_into_words_to_read_a_slogan():
    lines = ["Привет!", "Снег выпал.", "Лепили снеговика.", "А потом пили чай.", "Вечером пекли.",
             "Аромат стоял.", "Утром гуляли.", "Кот спит.", "Родители шлют привет.", "А мама поёт.",
             "И ещё хор.", "Надеюсь, тепло.", "Если можно, пиши."]
    text = "\n".join(lines)
    assert "evasion.acrostic" in {f.rule for f in screen(text).findings}


def test_first_letters_that_make_no_slogan_when_cut_into_words_are_left_alone():
    lines = ["Привет!", "Мы живы.", "Лето жаркое.", "Рыбу ловим.", "Клубника поспела.", "Арбузы сладкие.",
             "Осень близко.", "Сирень отцвела.", "Ежевика в лесу.", "Тепло у нас."]
    assert "evasion.acrostic" not in {f.rule for f in screen("\n".join(lines)).findings}


def test_a_word_hyphenated_at_the_end_of_a_line_is_one_word():
    assert canonicalise("шлю привет Укра-\nине и полям").text == "шлю привет украине и полям"
    assert canonicalise("сине-\nжёлтый").text == "сине-\nжелтый"  # a compound stays a compound


@pytest.mark.parametrize("word", ["СЛАВА", "ГЕРОЯМ", "УКРАИНА"])
def test_a_slogan_word_spelt_alone_down_the_lines_is_an_acrostic(word):
    lines = {
        "С": "Спасибо за письмо.", "Л": "Летом поедем в село.", "А": "Абрикосы будут большие.",
        "В": "Весна ранняя.", "Г": "Говорят, зима мягкая.", "Е": "Ехали на рынок.", "Р": "Радуемся письмам.",
        "О": "Очень скучаем.", "Я": "Ясное утро сегодня.", "М": "Мама любит тебя.", "У": "У нас всё хорошо.",
        "К": "Каждое утро молюсь.", "И": "И соседи помнят.", "Н": "Надеемся на встречу.",
    }
    text = "\n".join(lines[letter] for letter in word) + "\nТвоя Айше"
    assert "evasion.acrostic" in {f.rule for f in screen(text).findings}


def test_an_email_spelt_out_with_a_czech_domain_is_found():
    assert "personal_data.email" in {f.rule for f in screen("Пишите: марта точка новак собака сезнам точка цз.").findings}
