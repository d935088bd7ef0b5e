"""Emoji and signs: the Ukrainian colours in combination, tridents, flags, war markers; warmth is fine."""

import pytest

from shared.screening import screen


def flagged(text: str, rule: str) -> list[str]:
    return [text[f.start : f.end] for f in screen(text).findings if f.rule == rule]


def symbol_rules(text: str) -> set[str]:
    return {f.rule for f in screen(text).findings if f.category == "symbols"}


@pytest.mark.parametrize(
    "text",
    [
        "Привет! 💙 Обнимаю тебя крепко-крепко 💛 Жду письма.",
        "Держись 🔵 🟡",
        "Рисую тебе 🟦🟨",
        "Обнимаю 🌻💙🌻💛🌻",
        "Каждый день думаем о вас. ✊💙✊💛",
        "Мира тебе 🕊️💙 🕊️💛",
        "Привет от нашего гуся 🪿🩵💛",  # Unicode 15: light blue heart
        "Собрали 🫐 и 💛 для тебя",
        "Вот наше поле:\n🟦🩵🟦🩵\n🌾🌾🌾🌾",
        "Держись 🔱",
        "Мы с тобой. 💙Ѱ💛",
        "Жду тебя. ψ Твоя Ольга ψ",
        "💛💙",
    ],
)
def test_ukrainian_colours_and_tridents_are_flagged(text):
    assert "symbols.ukrainian_symbols" in symbol_rules(text)


@pytest.mark.parametrize(
    "text",
    [
        "Будьте здоровы 💛",
        "Вспомнила вас 💙",
        "☀️ У нас весна 🌷 кот 🐈 спит ❤️ обнимаю 🤗",
        "С днём рождения! 🎂 Рамазан мубарек 🕌🌙 ⭐",
        "Были на море 🌊☀️",
        "У бабушки в саду 🌻",
        "Люблю вас ❤️💛💚",
        "Ψυχή — это душа по-гречески.",
        "Обнимаю 💙\n\nВот ещё новости. У нас всё хорошо, дети растут, в саду зреют яблоки, а в школе ремонт.\n\nЦелую 💛",
    ],
)
def test_single_hearts_warm_emoji_and_far_apart_colours_are_fine(text):
    assert symbol_rules(text) == set()


def test_blue_and_yellow_with_words_between_are_two_spans_and_touching_ones_one():
    assert flagged("💙 Обнимаю 💛", "symbols.ukrainian_symbols") == ["💙", "💛"]
    assert flagged("Обнимаю 💙💛", "symbols.ukrainian_symbols") == ["💙💛"]
    assert flagged("Обнимаю 💙\ufe0f 💛\ufe0f", "symbols.ukrainian_symbols") == ["💙\ufe0f 💛\ufe0f"]


@pytest.mark.parametrize("flag", ["🇺🇦", "🏳️‍🌈", "🚩", "🏴", "🎌"])
def test_every_flag_emoji_is_flagged(flag):
    assert flagged(f"Обнимаем {flag} друзья", "symbols.flag_emoji")


def test_the_chequered_racing_flag_belongs_to_no_one():
    assert symbol_rules("Сын выиграл гонку 🏁") == set()


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("Zа наших!", "Zа"),
        ("Vперёд, ребята", "Vперёд"),
        ("Привет Z", "Z"),
        ("Держись, V!", "V"),
        ("Смотри: ZOV", "ZOV"),
    ],
)
def test_war_markers_are_flagged(text, span):
    assert flagged(text, "symbols.war_markers") == [span]


@pytest.mark.parametrize(
    "text",
    [
        "Читаю про Карла V.",
        "Это было в V веке.",
        "Мой сын из поколения Z.",
        "Zoom не работает.",
        "Zzz, сплю.",
    ],
)
def test_roman_numerals_and_innocent_z_are_not_war_markers(text):
    assert flagged(text, "symbols.war_markers") == []
