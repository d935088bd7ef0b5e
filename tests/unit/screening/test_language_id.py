"""Which language a letter is in: Russian passes, anything else needs a moderator."""

import pytest

from shared.screening import language, screen


def rules(text: str, **fields) -> set[str]:
    return {f.rule for f in screen(text, fields=fields or None).findings}


def flagged(text: str, rule: str) -> list[str]:
    return [text[f.start : f.end] for f in screen(text).findings if f.rule == rule]


# ---------------------------------------------------------------- Ukrainian


@pytest.mark.parametrize(
    "text",
    [
        "Привит, як справы? Ми тебе чекаемо, все буде добре.",  # a Russian keyboard, no і/ї/є
        "Асане, сумуемо за тобою. Чекаемо тебе додому.",
        "Прывит! Мы тут вси за тебе хвылюемось, пышы колы зможеш.",
        "Ми всi тебе любимо i чекаемо вдома.",  # Latin i for і
        "Тримайся, брате, ми поруч.",
        "Дякую!",
    ],
)
def test_ukrainian_is_caught_with_or_without_its_own_letters(text):
    assert "language.ukrainian" in rules(text)


@pytest.mark.parametrize(
    "text",
    [
        "Шо там у тебя? Мы тут потихоньку, та шо нам будет. Бачиш, я уже и письма пишу.",
        "Привіт! У нас всьо нормально, тіки дощі задовбали.",
        "Ну шо, як ти там? Я вчора ходила на базар.",
    ],
)
def test_surzhyk_is_caught(text):
    assert "language.ukrainian" in rules(text)


@pytest.mark.parametrize(
    "text",
    [
        "Желаю вам здоровья и сил.\nОбнимаю, Олексій",
        "Всего вам доброго.\nВаша Наталія, Київ",
        "Пишу из дома. Привет из Києва!",
        "Желаю терпения.\nДмитро, Дніпро",
        "Учим ноты: до, ре, ми, фа, соль.",
        "В зоопарке видели яка, у яка длинная шерсть.",
        "Жена сказала, ну а коли так, поехали на дачу.",
        "Сестра сделала маленькое тату.",
        "Помните ту самую песню? Та самая, про море.",
        "Алё, мама? Это я.",
        "В 5-й класс пошёл сын.",
    ],
)
def test_ukrainian_names_and_russian_words_ukrainian_shares_are_fine(text):
    assert not {r for r in rules(text) if r.startswith("language.")}


@pytest.mark.parametrize(
    "text",
    [
        "Капец, ваще жесть у нас: снег по колено. Сынуля смотрит тикток, плиз, скажи ему.",
        "Доча, внуча и я передаём тебе чмоки. Вайбер не работает, пишу сюда.",
        "Котэ спит, доча играет, внуча рисует. Чмоки!",
        "Короче, норм всё, не парься. Треня была огонь, щас отдыхаю.",
        "Мама говорит, шо ты молодец.",
        "Дорогой Рефат-агъа, спасибо за письмо.",
    ],
)
def test_russian_slang_and_baby_talk_are_russian(text):
    assert not {r for r in rules(text) if r.startswith("language.")}


def test_a_ukrainian_first_name_or_city_in_the_printed_fields_is_fine():
    assert not {
        r
        for r in rules("Обнимаю!", writer_first_name="Олексій", writer_city="Київ")
        if r.startswith("language.")
    }


def test_the_ukrainian_span_covers_the_ukrainian_words():
    text = "Здравствуйте! Ми дуже сумуємо. Всё будет хорошо."

    assert flagged(text, "language.ukrainian") == ["Ми дуже сумуємо"]


# ---------------------------------------------------------------- Crimean Tatar


@pytest.mark.parametrize(
    "text",
    [
        "Биз сени сагъынамыз, Алла сагъа сабыр берсин.",
        "Анам сагъа селям йиберди, она каждый день о тебе спрашивает.",
        "Сени севемиз.",
        "Selâm, qardaşım! Biz seni sağınamız.",
        "Pozdravlyayu! Sen yalñız degilsiñ, biz seniñnen beraberiz.",
        "Вчера пели: «Ey güzel Qırım, yurtum, ayrılıq ne qadar zor».",
    ],
)
def test_crimean_tatar_sentences_are_caught_in_either_script(text):
    assert "language.crimean_tatar" in rules(text)


@pytest.mark.parametrize(
    "text",
    [
        "Селям, Эдем! Как ты там?",
        "Сагъ ол! Мама испекла янтыкъ и кобете.",
        "Селям, къардашым! У нас всё хорошо.",
        "Байрамынъыз мубарек олсун! Пусть Аллах даст вам здоровья.",
        "Хайырлы акъшамлар, огълум! Пишу тебе с дачи.",
        "Селям, Muslim! Держись.",
        "Мы танцевали хайтарму, а потом пили кофе.",
    ],
)
def test_a_crimean_tatar_greeting_blessing_or_dish_in_a_russian_letter_is_fine(text):
    assert not {r for r in rules(text) if r.startswith("language.")}


# ---------------------------------------------------------------- other languages


@pytest.mark.parametrize(
    "text",
    [
        "Lieber Server, ich denke an dich und wünsche dir viel Kraft.",
        "Trzymaj się, myślimy o Tobie każdego dnia.",
        "Drž se, myslíme na Tebe a čekáme na Tebe doma.",
        "Здравствуйте! I am still learning Russian, so I will write in English, sorry.",
        "Дзякуй, сябар! Мы цябе вельмі чакаем дома.",  # Belarusian
        "Здравей, как си? Мисля за теб всеки ден.",  # Bulgarian
        "Драги Сервере, зовем се Јована и живим у Београду. Мислим на тебе сваки дан.",  # Serbian
        "Сәлем, қалың қалай? Біз сені сағындық.",  # Kazakh
    ],
)
def test_other_languages_are_caught_in_any_script(text):
    assert {r for r in rules(text) if r.startswith("language.")}


@pytest.mark.parametrize(
    "text",
    [
        "Смотрели с детьми «Back to the Future».",
        "Смотрели «Home Alone» с детьми.",
        "Слушаю Queen и The Beatles.",
        "Купил iPhone и AirPods.",
        "Кот Tom спит.",
    ],
)
def test_names_and_titles_in_latin_letters_are_fine(text):
    assert not {r for r in rules(text) if r.startswith("language.")}


@pytest.mark.parametrize("text", ["privet, kak dela?", "Эскендер, привет! SLAVA ZSU!", "Привет! obnimayu"])
def test_transliterated_russian_keeps_its_own_rule(text):
    assert "language.transliteration" in rules(text)
    assert "language.foreign" not in rules(text)


# ---------------------------------------------------------------- the statistical detector


def test_the_statistical_detector_is_built_once_per_process():
    assert language._detector() is language._detector()


def test_a_plainly_russian_letter_never_asks_the_statistical_detector(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("lingua was asked about plain Russian")

    monkeypatch.setattr(language, "_lingua_language", refuse)

    text = "Здравствуйте, Ремзи! У нас выпал первый снег, дети лепят снеговика. Обнимаю, Оксана"
    assert screen(text).verdict == "ok"
