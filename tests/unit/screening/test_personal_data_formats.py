"""The writer's contact details in the formats people really use: numbers in words, letter O for
zero, odd separators, streets without "street", parcel offices, spelt-out e-mails, profiles by name.

And the everyday letters that look a little like them (ages, counts, recipes, "на Садовой 30 лет
назад") stay unflagged.
"""

import pytest

from shared.screening import screen

PERSONAL_DATA = ("personal_data.", "links.")


def flagged(text: str, rule: str | None = None) -> list[str]:
    """The original spans flagged by personal-data rules (or by one rule)."""
    return [
        text[f.start : f.end]
        for f in screen(text).findings
        if (rule is None and f.rule.startswith(PERSONAL_DATA)) or f.rule == rule
    ]


# ---------------------------------------------------------------- phones


@pytest.mark.parametrize(
    ("text", "number"),
    [
        (
            "Пусть звонит: ноль шестьдесят семь, четыреста двенадцать, тридцать, восемнадцать. Наташа",
            "ноль шестьдесят семь, четыреста двенадцать, тридцать, восемнадцать",
        ),
        (
            "Дзвоніть: нуль дев'яносто п'ять, триста двадцять, сорок, вісімнадцять.",
            "нуль дев'яносто п'ять, триста двадцять, сорок, вісімнадцять",
        ),
        (
            "Мій номер вісім нуль дев'ять сім, три два один, сорок.",
            "вісім нуль дев'ять сім, три два один, сорок",
        ),
        (
            "Мой номер ноль девяносто три, 217, сорок четыре, 05. Вероника",
            "ноль девяносто три, 217, сорок четыре, 05",
        ),
        ("телефон: 067 сто двадцать три 45 67", "067 сто двадцать три 45 67"),
        (
            "My number is zero six seven one two three four five six seven",
            "zero six seven one two three four five six seven",
        ),
    ],
)
def test_phone_dictated_in_words_or_words_and_digits_is_flagged(text, number):
    assert flagged(text, "personal_data.phone") == [number]


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("Пусть звонят: +38 O67 4O1 22 9O. Костя", "+38 O67 4O1 22 9O"),  # Latin O
        ("Мой номер: О67 123 45 67", "О67 123 45 67"),  # Cyrillic О
        ("номер: 067_123_45_67", "067_123_45_67"),
        ("номер 067 • 123 • 45 • 67", "067 • 123 • 45 • 67"),
        ("мой телефон +48/601/223/871", "+48/601/223/871"),
        ("тел.067.118.40.26", "067.118.40.26"),
        ("Пусть позвонят, номер:\n+380 66\n412\n30 18\nЗвонить вечером", "+380 66\n412\n30 18"),
        ("Запиши мой номер: 0 9 7 5 5 1 8 2 3 4.", "0 9 7 5 5 1 8 2 3 4"),
    ],
)
def test_phone_with_letter_o_odd_separators_or_line_breaks_is_flagged(text, number):
    assert flagged(text, "personal_data.phone") == [number]


def test_phone_named_earlier_in_the_sentence_is_flagged():
    text = "Звоните на тот же номер, что и раньше, только код теперь 050, потом 3 22 41 78."

    assert "3 22 41 78" in flagged(text, "personal_data.phone")


@pytest.mark.parametrize(
    "text",
    [
        "Нам было по двадцать пять, когда мы поженились, а теперь уже за шестьдесят.",
        "Раз, два, три, четыре, пять, вышел зайчик погулять.",
        "Один, два, три, четыре, пять, шесть, семь, восемь — считаем до восьми.",
        "Сорок лет, тридцать лет, двадцать лет — как быстро летит время.",
        "Я купила два килограмма яблок, три пачки муки и сто граммов масла.",
        "Магазин работает 9.00-18.00, по субботам до обеда.",
        "1. Утром солнце.\n2. Горячий хлеб.\n3. Письмо от вас.\n4. Кот.\n5. Вечерний чай.",
        "Поезд номер 105, вагон 7, место 23.",
        "Дочке 5 лет, сыну 8, мужу 40.",
        "Выпали числа пять, двенадцать, двадцать три, тридцать четыре, сорок один, сорок пять!",
    ],
)
def test_ages_counts_lists_and_hours_are_not_phones(text):
    assert flagged(text) == []


# ---------------------------------------------------------------- cards and accounts


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("Переводите на мою карту: 4149 49 93 1234 5679.", "4149 49 93 1234 5679"),
        ("кидайте на монобанк 4441114433221106, это моя", "4441114433221106"),
        ("Реквизиты:\n5358 0500\n2717 4400\nполучатель Ирина К.", "5358 0500\n2717 4400"),
        ("Карта для помощи: 4587.22O3.1996.O347.", "4587.22O3.1996.O347"),
        ("номер моєї картки 5168-7554-1122-9087", "5168-7554-1122-9087"),
        (
            "карта: четыре один четыре девять, шесть два ноль один, восемь восемь три ноль, пять семь один семь.",
            "четыре один четыре девять, шесть два ноль один, восемь восемь три ноль, пять семь один семь",
        ),
        (
            "на наш счёт: UA21 3223 1300 0002 6007 2335 6600 1, получатель",
            "UA21 3223 1300 0002 6007 2335 6600 1",
        ),
        ("Мой счёт: UA213223130000026007233566001", "UA213223130000026007233566001"),
    ],
)
def test_card_or_iban_in_any_grouping_is_flagged(text, number):
    assert flagged(text, "personal_data.payment_card") == [number]


def test_sixteen_digits_without_card_grouping_luhn_or_talk_of_money_are_not_a_card():
    # 1941 1945 2014 2022: four years in a row, not a valid card number, no card mentioned.
    assert flagged("Годы нашей семьи: 1941 1945 2014 2022.", "personal_data.payment_card") == []


# ---------------------------------------------------------------- addresses without "street"


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("Я живу на Сумской 10, кв 5, заходите.", "Сумской 10"),
        ("мой адрес: Харьков, Пушкинская 12-4. Жду.", "Харьков, Пушкинская 12-4"),
        ("Пишіть мені: 61002 Харків Гоголя 3. Оля", "61002 Харків Гоголя 3"),
        ("Мы теперь в Симферополе: Симферополь, Киевская 120/3, заходите.", "Симферополь, Киевская 120/3"),
        ("Теперь живём на Шевченко 41, третий подъезд, пятый этаж.", "Шевченко 41"),
        ("Живу на Сумской 10 с мужем и детьми.", "Сумской 10"),
        ("Київ, вул Хрещатик 22", "вул Хрещатик 22"),
        ("Пишите: ul. Długa 15/3, Kraków", "ul. Długa 15/3"),
        ("Meine Adresse: Hauptstraße 5, Berlin", "Hauptstraße 5"),
        ("I live at 12 Baker Street, London", "12 Baker Street"),
    ],
)
def test_street_and_house_number_without_the_word_street_is_flagged(text, address):
    spans = flagged(text, "personal_data.address")
    assert any(address in span for span in spans), spans


def test_village_address_by_region_village_and_house_is_flagged():
    text = "Пиши так: Черниговская область, село Петровка, дом 7 возле магазина."

    assert flagged(text, "personal_data.address") == ["Черниговская область, село Петровка, дом 7"]


@pytest.mark.parametrize(
    "text",
    [
        "Встречаемся на Пушкинской в 7 вечера.",
        "На Садовой 30 лет назад был кинотеатр.",
        "По Садовой 5 минут до остановки.",
        "На улице Ленина 30 лет назад стоял кинотеатр «Родина».",
        "Вчера на бульваре Шевченко 40 минут простояли в пробке.",
        "В переулке Садовом 10 лет подряд продают яблоки.",
        "На Садовой 5 живёт моя подруга детства.",
        "Живу в Харькове 20 лет.",
        "Живу в Киеве, 2 детей и кот.",
        "Полтава 2024 — чудесный фестиваль.",
        "Харьков, 15 марта. Дорогой Сервер!",
        "Шевченко 200 лет назад написал много стихов.",
        "У нас в Житомире на Киевской 3 новых магазина открыли.",
        "Я выросла в селе Петровка, там было хорошо.",
    ],
)
def test_street_followed_by_a_time_an_age_or_a_count_is_not_an_address(text):
    assert flagged(text) == []


# ---------------------------------------------------------------- parcel offices


@pytest.mark.parametrize(
    ("text", "office"),
    [
        ("пусть шлют на отделение Новой почты №12 в Ирпене", "отделение Новой почты №12"),
        ("можна слати на Рівне, відділення 45 НП, Мельник Андрій", "відділення 45 НП"),
        ("отправляйте в поштомат 20391, Луцк", "поштомат 20391"),
        ("Отвечайте мне до востребования: Львов, главпочтамт.", "до востребования"),
        ("пишіть мені до запитання, Київ-1", "до запитання"),
        ("Нова пошта, відділення 17, Житомир", "Нова пошта, відділення 17"),
        ("Шлите на НП 45 в Ровно", "НП 45"),
    ],
)
def test_post_office_branch_locker_or_poste_restante_is_flagged(text, office):
    assert flagged(text, "personal_data.parcel_office") == [office]


@pytest.mark.parametrize(
    "text",
    [
        "Бабушка лежала в кардиологическом отделении 5 дней.",
        "Отделение 3, палата 12 — там лежал дедушка.",
        "Почта у нас работает до шести.",
        "Новая почта привезла посылку от сестры.",
    ],
)
def test_hospital_wards_and_talk_of_the_post_are_not_parcel_offices(text):
    assert flagged(text) == []


# ---------------------------------------------------------------- e-mail spelt out


@pytest.mark.parametrize(
    ("text", "email"),
    [
        ("вот почта: olena точка koval собака gmail ком. Жду", "olena точка koval собака gmail ком"),
        ("напишут мне на ivan(at)ukr(dot)net, мы", "ivan(at)ukr(dot)net"),
        ("мой ящик — petrenko на гмейле, она найдёт", "petrenko на гмейле"),
        ("пишите: петренко эт укрнет", "петренко эт укрнет"),
        ("моя почта: serafima2001 собачка mail.ru.", "serafima2001 собачка mail.ru"),
        ("пишите мне: marta [dot] nowak [at] wp [dot] pl.", "marta [dot] nowak [at] wp [dot] pl"),
        ("напишет мне: oksana at proton dot me.", "oksana at proton dot me"),
        ("вот она: на укрнете, логин lyudmyla.kozak. Пусть", "на укрнете, логин lyudmyla.kozak"),
        ("Моя новая почта: k a t e r y n a @ i . u a — пусть", "k a t e r y n a @ i . u a"),
        ("Записываю:\ngalyna.bilyk\nсобака\nyahoo.com\nЕсли", "galyna.bilyk\nсобака\nyahoo.com"),
        ("пишіть на oksana.koval равлик gmail.com", "oksana.koval равлик gmail.com"),
    ],
)
def test_spelled_out_email_is_flagged(text, email):
    spans = flagged(text, "personal_data.email")
    assert any(email in span for span in spans), spans


@pytest.mark.parametrize(
    "text",
    [
        "У нас собака Бобик. Нет, он не кусается.",
        "Я at home сегодня.",
        "Точка зрения у всех разная, правда?",
        "Нашла рецепт на яндексе, очень вкусно вышло.",
    ],
)
def test_dogs_points_of_view_and_search_engines_are_not_emails(text):
    assert flagged(text) == []


# ---------------------------------------------------------------- social networks by name


@pytest.mark.parametrize(
    "text",
    [
        "Найдите меня в фейсбуке: Оксана Петренко из Житомира.",
        "Мои рисунки можно посмотреть, в инсте я marta.kovalenko.",
        "Якщо треба, мій телеграм — Ігор Бондар, знайдеш легко.",
        "ВКонтакте я есть как Светлана Морозова, Краснодар.",
        "В одноклассниках меня найдёшь: Валентина Грищенко, Полтава.",
        "веду канал на ютубе — «Кухня Зарины Абибуллаевой».",
        "в тиктоке меня найти легко — «Бабушка Люба из Бердичева».",
        "Ищите Оксану Петренко в фейсбуке.",
        "пусть ищет на фейсбуке страницу Halyna Shevchuk Lviv.",
        "Мой телеграм Olena_Kh, пишите.",
        "в вк я Андрей Смирнов, добавляйся.",
        "ищите меня в соцсетях: Оксана Петренко.",
    ],
)
def test_social_network_with_a_full_name_or_handle_is_flagged(text):
    assert flagged(text, "personal_data.messenger")


@pytest.mark.parametrize(
    "text",
    [
        "В фейсбуке пишут, что скоро весна.",
        "Видела в инстаграме красивые фото гор.",
        "Смотрела на ютубе концерт, где пела Джамала.",
        "В телеграме мама прислала фото внуков.",
        "Прочитала про Сергея Петровича в инстаграме, он молодец.",
        "В фейсбуке писали про Netflix и новые сериалы.",
        "Я на ютубе смотрела концерт Аллы Пугачёвой, мама плакала.",
        "Читала в телеграме стихи Лины Костенко.",
    ],
)
def test_mentioning_a_network_without_a_profile_is_fine(text):
    assert flagged(text) == []


# ---------------------------------------------------------------- identity documents


@pytest.mark.parametrize(
    ("text", "document"),
    [
        (
            "В бланке написала свои данные, паспорт серия КН 482 913, выдан в 2003 году.",
            "паспорт серия КН 482 913",
        ),
        ("Мой паспорт FN 482913, выдан в 2019 году.", "паспорт FN 482913"),
        ("паспорт серия 4510 номер 123 456", "паспорт серия 4510 номер 123 456"),
        ("Номер моей ID-карты 123 456 789, если нужно.", "ID-карты 123 456 789"),
    ],
)
def test_passport_number_grouped_as_on_the_document_is_flagged(text, document):
    assert document in flagged(text, "personal_data.passport")


@pytest.mark.parametrize(
    "text",
    [
        "Паспорт я получила 12 марта 2019 года, ждала 3 недели.",
        "Паспорт сделали за 10 дней, заплатили 2 500 гривен.",
        "Серия книг «Гарри Поттер»: 7 томов, 3 500 страниц.",
    ],
)
def test_dates_prices_and_page_counts_after_the_word_passport_are_not_a_document(text):
    assert flagged(text, "personal_data.passport") == []
