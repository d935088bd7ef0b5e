"""The writer's name and city are printed on the letter: each is screened, and the two
plausibility rules look only at their own box (`fields:` in the rules file)."""

import textwrap

import pytest

from shared.screening import load_rules, screen


def rules_in(field: str, value: str, body: str = "") -> set[str]:
    return {f.rule for f in screen(body, fields={field: value}).findings if f.field == field}


# ---------------------------------------------------------------- first name


@pytest.mark.parametrize(
    "name",
    [
        "Оксана", "Ярослав", "Олексій", "Зарема", "Эдем", "Сервер", "Ленара", "Эмине", "Нияра",
        "Anna", "Jürgen", "Małgorzata", "Tomáš", "Emily", "Giulia", "Arturs", "Łukasz",
        "Анна-Марія", "Д'Артаньян", "O'Brien", "Мар'яна", "Мартина", "Агнешка", "Клаус",
        "Анна Мария", "Анна К.", "Баба Валя", "тётя Оля", "Оксана.", "оксана", "Оксана 🌻",
        "Саша и Лена", "Зарема та Ленур", "Anna & Jonas", "Anna Kristina", "Karin", "Rasmus",
        "Bohdan", "Iryna", "Serhii",
    ],
)  # fmt: skip
def test_plausible_first_names_in_every_script_pass(name):
    assert rules_in("writer_first_name", name) == set()


@pytest.mark.parametrize(
    "name",
    [
        "Оксана Петренко",  # a surname prints who the writer is
        "Петренко",
        "Oksana Petrenko",
        "Ivanov",
        "Olena Kovalenko",
        "Иванов Иван",
        "Аксёнов Сергей Валерьевич",  # a full name with patronymic
        "Патриот",
        "Не скажу",
        "Мама троих детей",
        "Anonymous",
        "Маша (Крым)",
        "Оксана Петренко и Ігор",
        "Крим і Україна",
    ],
)
def test_what_is_not_a_first_name_goes_to_a_moderator(name):
    assert "printed_fields.first_name" in rules_in("writer_first_name", name)


def test_first_name_finding_is_a_kind_warning_covering_the_whole_field():
    result = screen("Добрый день!", lang="uk", fields={"writer_first_name": "  Оксана Петренко "})

    (finding,) = [f for f in result.findings if f.rule == "printed_fields.first_name"]
    assert (finding.field, finding.category, finding.severity) == (
        "writer_first_name",
        "printed_fields",
        "warn",
    )
    assert (finding.start, finding.end) == (2, 17)
    assert "ім'я" in finding.message


def test_phone_in_the_name_field_is_personal_data():
    assert "personal_data.phone" in rules_in("writer_first_name", "Оксана 067 412 30 18")


# ---------------------------------------------------------------- city


@pytest.mark.parametrize(
    "city",
    [
        "Киев", "Київ", "Kyiv", "Kiew", "Berlin", "Берлін", "Warszawa", "Варшава", "Praha", "Прага",
        "Львів", "Бахчисарай", "Bakhchysarai", "с. Мирне", "с.Мирне", "м. Київ", "Нью-Йорк",
        "Ростов-на-Дону", "Кривий Ріг", "Біла Церква", "Белая Церковь", "Старий Крим", "Ізюм",
        "Васильків", "Красноперекопск", "Раздольное", "Нёрребро", "København", "Zürich", "Rīga",
        "Frankfurt am Main", "Харків, Україна", "Харьков (Украина)", "Kyiv/Київ",
        "с. Петровка, Черниговская область", "Бахчисарайский р-н", "Київ 🌻", "Київ!",
    ],
)  # fmt: skip
def test_plausible_places_in_every_script_pass(city):
    assert rules_in("writer_city", city) == set()


@pytest.mark.parametrize(
    "city",
    [
        "Київ — і Крим теж наш",
        "оккупированный Симферополь",
        "Не скажу",
        "Тюрьма",
        "Моя Родина",
        "Там, где свобода",
        "61002 Харків",
    ],
)
def test_what_is_not_a_place_goes_to_a_moderator(city):
    assert "printed_fields.city" in rules_in("writer_city", city)


@pytest.mark.parametrize(
    ("city", "rule"),
    [
        ("Харьков, Сумская 10, кв 5", "personal_data.address"),
        ("Рівне, відділення НП 45", "personal_data.parcel_office"),
        ("+380671234567", "personal_data.phone"),
        ("olena.koval@gmail.com", "personal_data.email"),
    ],
)
def test_address_phone_or_email_in_the_city_field_is_blocked_as_personal_data(city, rule):
    result = screen("", fields={"writer_city": city})

    assert any(f.rule == rule and f.severity == "block" for f in result.findings)


# ---------------------------------------------------------------- fields scoping


def test_plausibility_rules_never_look_at_the_letter_itself():
    result = screen("Не скажу, где я живу. Тюрьма — это страшно.")

    assert not {f.rule for f in result.findings} & {"printed_fields.first_name", "printed_fields.city"}


def test_a_latin_or_ukrainian_name_and_city_are_not_foreign_text():
    result = screen("Здравствуйте!", fields={"writer_first_name": "Jürgen", "writer_city": "Львів"})

    assert result.verdict == "ok", result.findings


def test_language_rules_still_screen_the_transcription():
    assert "language.ukrainian" in rules_in("transcription", "Ми дуже сумуємо за вами.")


def _rules_file(tmp_path, fields_line: str):
    path = tmp_path / "rules.yaml"
    path.write_text(
        textwrap.dedent(
            f"""
            version: "test"
            rules:
              - id: test.cats
                category: test
                severity: warn
                match: ["кот"]
                {fields_line}
                message: {{uk: "a", en: "b", ru: "c"}}
            """
        ),
        encoding="utf-8",
    )
    return path


def test_a_rule_screens_every_printed_field_unless_it_says_otherwise(tmp_path):
    book = load_rules(_rules_file(tmp_path, ""))
    fields = {"writer_first_name": "кот", "writer_city": "кот", "transcription": "кот"}

    result = screen("кот", rules=book, fields=fields)

    assert [f.field for f in result.findings] == ["body", "writer_first_name", "writer_city", "transcription"]


def test_a_rule_limited_to_some_fields_is_silent_in_the_others(tmp_path):
    book = load_rules(_rules_file(tmp_path, "fields: [writer_city]"))

    result = screen("кот", rules=book, fields={"writer_first_name": "кот", "writer_city": "кот"})

    assert [f.field for f in result.findings] == ["writer_city"]


@pytest.mark.parametrize("fields_line", ["fields: [address]", "fields: []", "fields: [body, body]"])
def test_unknown_empty_or_repeated_fields_are_reported(tmp_path, fields_line):
    from shared.screening import RulesFileError

    with pytest.raises(RulesFileError, match="fields"):
        load_rules(_rules_file(tmp_path, fields_line))


@pytest.mark.parametrize("name", ["Вера Павловна", "Пётр Ильич", "Антонина Степановна", "Тимур (7 лет)"])
def test_a_first_name_with_a_patronymic_or_an_age_is_how_people_sign(name):
    assert "printed_fields.first_name" not in rules_in("writer_first_name", name)


@pytest.mark.parametrize("name", ["Сергей Валерьевич", "Владимир Владимирович"])
def test_an_officials_name_and_patronymic_still_goes_to_a_moderator(name):
    assert "officials.nicknames" in rules_in("writer_first_name", name)
