"""Built-in detectors: contacts, flags and language."""

import pytest

from shared.screening import screen


def flagged(text: str, rule: str) -> list[str]:
    return [text[f.start : f.end] for f in screen(text).findings if f.rule == rule]


# ---------------------------------------------------------------- phone


@pytest.mark.parametrize(
    "number",
    [
        "+380 67 123 45 67",
        "+380671234567",
        "+7 (978) 123-45-67",
        "8 978 123 45 67",
        "8-978-123-45-67",
        "(067) 123-45-67",
        "067 123 4567",
        "00380671234567",
        "123-45-67",
    ],
)
def test_phone_number_in_any_usual_format_is_flagged(number):
    text = f"Звоните мне: {number}. Ольга"

    assert flagged(text, "personal_data.phone") == [number]


def test_short_number_after_a_phone_cue_is_flagged():
    assert flagged("Мой тел. 12-34-56, звони.", "personal_data.phone") == ["12-34-56"]


@pytest.mark.parametrize(
    "text",
    [
        "Это было 12.03.2024, в среду.",
        "С 1941-1945 прошло много лет.",
        "Прошёл 1 250 000 шагов за год.",
        "В 2023 году мы посадили 150 деревьев.",
        "Статья 205.5 — это не телефон.",
    ],
)
def test_dates_years_and_counts_are_not_phone_numbers(text):
    assert flagged(text, "personal_data.phone") == []


# ---------------------------------------------------------------- e-mail, messengers, links, cards


def test_email_is_flagged():
    text = "Пишите сестре на sister.help@example.org, она передаст."

    assert flagged(text, "personal_data.email") == ["sister.help@example.org"]


def test_spelled_out_email_is_flagged():
    text = "Почта: olga [at] mail [dot] com"

    assert flagged(text, "personal_data.email") == ["olga [at] mail [dot] com"]


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("Мой ник @olena_kh, пишите.", "@olena_kh"),
        ("Канал: t.me/olena_kh", "t.me/olena_kh"),
        ("Пишите в телеграм olena_kh", "телеграм olena_kh"),
        ("Есть WhatsApp: +380671234567", "whatsapp: +380671234567"),
        ("Есть вайбер 0671234567", "вайбер 0671234567"),
    ],
)
def test_messenger_handle_link_or_number_is_flagged(text, span):
    assert [s.lower() for s in flagged(text, "personal_data.messenger")] == [span]


def test_messenger_named_without_a_contact_is_fine():
    assert screen("У нас плохой сигнал, поэтому пишу от руки.").verdict == "ok"


def test_web_link_is_flagged_and_an_email_is_not_taken_for_a_link():
    assert flagged("Почитайте на www.example.com", "links.web_link") == ["www.example.com"]
    assert flagged("Пишите на olga@example.com", "links.web_link") == []


def test_bank_card_number_is_flagged():
    assert flagged("Карта 4276 1234 5678 9012.", "personal_data.payment_card") == ["4276 1234 5678 9012"]


# ---------------------------------------------------------------- address


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("Пишите: г. Киев, ул. Крещатик, д. 22, кв. 5. Жду.", "г. Киев, ул. Крещатик, д. 22, кв. 5"),
        ("Живу: вул. Шевченка, буд. 15, кв. 3.", "вул. Шевченка, буд. 15, кв. 3"),
        ("Мы на проспекте Мира, 12.", "проспекте Мира, 12"),
        ("Адрес: пр. Победы 5", "пр. Победы 5"),
        ("Пишите: а/я 15, Харьков.", "а/я 15"),
    ],
)
def test_street_address_is_flagged_as_one_span(text, address):
    assert flagged(text, "personal_data.address") == [address]


@pytest.mark.parametrize(
    "text",
    [
        "На улице холодно, дома тепло.",
        "Гуляли по улице Пушкина.",
        "У нас 60 кв. м и балкон.",
        "Это было в 2020 г. Мы переехали.",
        "Купили яблоки, груши и т.д. и т.п.",
    ],
)
def test_everyday_mentions_of_streets_and_flats_are_not_addresses(text):
    assert flagged(text, "personal_data.address") == []


# ---------------------------------------------------------------- symbols


@pytest.mark.parametrize("flag", ["🇺🇦", "🇷🇺", "🇬🇧", "🇨🇦"])
def test_any_emoji_flag_is_flagged(flag):
    assert flagged(f"Обнимаем {flag} друзья", "symbols.flag_emoji") == [flag]


@pytest.mark.parametrize("symbol", ["🔱", "💙💛", "💙 💛", "💙\ufe0f💛"])
def test_trident_and_blue_yellow_hearts_are_flagged(symbol):
    assert flagged(f"Держитесь {symbol}", "symbols.ukrainian_symbols") == [symbol]


def test_a_single_heart_is_fine():
    assert screen("Обнимаю 💛").verdict == "ok"


# ---------------------------------------------------------------- language


def test_ukrainian_letter_is_flagged_with_one_span_over_the_ukrainian_words():
    text = "Вітаю! Ми всі про вас пам'ятаємо. Олена"

    assert flagged(text, "language.ukrainian") == ["Вітаю! Ми всі про вас пам'ятаємо"]


def test_ukrainian_only_words_without_ukrainian_letters_are_flagged():
    text = "Здравствуйте! Ми дуже сумуємо. Всё будет хорошо."

    assert flagged(text, "language.ukrainian") == ["Ми дуже сумуємо"]


def test_russian_words_shared_with_ukrainian_are_not_flagged():
    assert screen("Мы думаем про вас, наша семья с вами.").verdict == "ok"


def test_english_letter_is_flagged_as_foreign():
    text = "Dear Server, stay strong."

    assert flagged(text, "language.foreign") == ["Dear Server, stay strong"]


def test_transliterated_russian_is_flagged_as_transliteration():
    text = "privet, kak dela?"

    assert flagged(text, "language.transliteration") == ["privet, kak dela"]
    assert flagged(text, "language.foreign") == []


@pytest.mark.parametrize(
    "text",
    ["Селям, Muslim! Держитесь.", "Смотрели «Home Alone» с детьми.", "Кот Tom спит.", "P.S. Обнимаю."],
)
def test_a_name_or_title_in_latin_letters_inside_a_russian_letter_is_fine(text):
    assert screen(text).verdict == "ok"


def test_email_is_not_also_reported_as_foreign_language():
    rules = {f.rule for f in screen("Пишите на sister.help@example.org, пожалуйста.").findings}

    assert rules == {"personal_data.email"}
