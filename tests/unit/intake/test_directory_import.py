"""Reading an outside list and comparing it with the directory (services/intake/directory_import.py): pure."""

from __future__ import annotations

from datetime import date

import pytest

from services.intake.directory_import import (
    UnreadableList,
    latin_skeleton,
    new_person_names,
    propose,
    read_list,
    spelling_key,
)
from shared.facilities import Facility

TODAY = date(2026, 12, 2)
HEADER = "id,name_uk,name_ru,name_lat,status,status_since,facility,birthday\n"


def facility(facility_id: str, name: str) -> Facility:
    return Facility(id=facility_id, name=name, kind="colony", region="Россия",
                    address={"lines": ["ул. Лагерная, 1"], "city": "Город"})


FACILITIES = [facility("sizo_1", "СИЗО-1 Симферополь"), facility("ik_2", "ИК-2 Саратов")]


def prisoner(prisoner_id: str, uk: str, ru: str, en: str, status: str = "detained", facility_id: str | None = "sizo_1"):
    return {"_id": prisoner_id, "names": {"uk": uk, "ru": ru, "en": en}, "status": status,
            "status_since": "2024-01-10", "facility_id": facility_id}


DIRECTORY = [
    prisoner("p_gafarov", "Джеміль Гафаров", "Джемиль Гафаров", "Dzhemil Gafarov"),
    prisoner("p_kuku", "Еміль Куку", "Эмиль Куку", "Emil Kuku"),
    prisoner("p_semenov", "Олексій Семенов", "Алексей Семёнов", "Oleksiy Semenov"),
    prisoner("p_yatsenko", "Юрій Яценко", "Юрий Яценко", "Yuriy Yatsenko"),
    prisoner("p_unplaced", "Сервер Мустафаєв", "Сервер Мустафаев", "Server Mustafayev", facility_id=None),
]


def changes_of(csv_text: str):
    rows, problems = read_list(HEADER + csv_text)
    assert problems == []
    return propose(rows, DIRECTORY, FACILITIES, TODAY)


@pytest.mark.parametrize("a, b", [
    ("Алексей Семёнов", "алексей семенов"),
    ("Семенов Алексей", "Алексей  Семенов"),
    ("Ем'іль Куку", "Емʼіль куку"),
    ("Эмир-Усеин Куку", "Эмир Усеин Куку"),
])
def test_spellings_typed_differently_are_the_same_spelling(a, b):
    assert spelling_key(a) == spelling_key(b)


@pytest.mark.parametrize("a, b", [
    ("Dzhemil Gafarov", "Jemil Gafarov"), ("Djemil Hafarov", "Джемиль Гафаров"), ("Yuriy Yatsenko", "Iurii Iatsenko"),
    ("Server Mustafayev", "Сервер Мустафаєв"), ("Yevgeniy Ivanov", "Евгений Иванов"),
])
def test_transliteration_variants_share_a_latin_skeleton(a, b):
    assert latin_skeleton(a) == latin_skeleton(b)


def test_different_names_keep_different_skeletons():
    assert latin_skeleton("Ali Asanov") != latin_skeleton("Ilya Asanov")


def test_a_row_that_agrees_with_the_directory_proposes_nothing():
    found = changes_of(",Джеміль Гафаров,,,detained,,sizo_1,\n")
    assert found.changes == [] and found.unchanged == 1


def test_a_release_found_by_a_russian_spelling_with_yo_is_proposed_with_its_date():
    found = changes_of(",,Алексей Семёнов,,released,30.11.2026,,\n")
    [change] = found.changes
    assert (change.kind, change.prisoner_id, change.matched_by) == ("release", "p_semenov", "spelling")
    assert change.after.status == "released" and change.after.status_since == "2026-11-30"
    assert change.before.status == "detained"


def test_a_facility_named_as_the_list_writes_it_is_a_transfer():
    [change] = changes_of("p_kuku,,,,detained,2026-11-01,ик-2 саратов,\n").changes
    assert (change.kind, change.matched_by) == ("transfer", "id")
    assert change.before.facility_id == "sizo_1"
    assert change.after.model_dump() == {"status": "transferred", "status_since": "2026-11-01", "facility_id": "ik_2"}


def test_a_facility_for_someone_the_directory_had_none_for_is_a_placement_not_a_transfer():
    [change] = changes_of(",,,Server Mustafayev,,,sizo_1,\n").changes
    assert change.kind == "placement" and change.after.status == "detained"


def test_another_status_is_a_status_change():
    [change] = changes_of(",,,Emil Kuku,deceased,2026-10-01,,\n").changes
    assert change.kind == "status" and change.after.status == "deceased"


def test_a_spelling_that_only_resembles_someone_is_not_matched_but_proposed_for_the_operator():
    [change] = changes_of(",,,Iurii Iatsenko,released,,,\n").changes
    assert (change.kind, change.prisoner_id, change.matched_by) == ("unmatched_spelling", "p_yatsenko", "resemblance")
    assert change.directory_names["en"] == "Yuriy Yatsenko" and change.list_names == {"en": "Iurii Iatsenko"}
    assert change.after.status == "released"


def test_a_new_person_gets_an_id_and_all_three_spellings_with_a_note_on_what_was_filled_in():
    [change] = changes_of(",Наріман Джелял,Нариман Джелял,,detained,2021-09-04,sizo_1,1980-04-27\n").changes
    assert change.kind == "new" and change.prisoner_id == "p_nariman_dzhelial"
    assert change.after.facility_id == "sizo_1" and change.birthday == date(1980, 4, 27)
    assert new_person_names(change) == {"uk": "Наріман Джелял", "ru": "Нариман Джелял", "en": "Nariman Dzhelial"}
    assert change.notes == ["Latin spelling transliterated from the list's Cyrillic one"]


def test_each_change_has_its_own_id_in_list_order():
    found = changes_of(",,Алексей Семёнов,,released,,,\n,,,Emil Kuku,deceased,,,\n")
    assert [(c.id, c.line) for c in found.changes] == [("c1", 2), ("c2", 3)]


def test_an_unknown_facility_is_a_problem_and_the_row_s_other_differences_are_still_proposed():
    rows, _ = read_list(HEADER + ",,Эмиль Куку,,released,,ИК-99,\n")
    found = propose(rows, DIRECTORY, FACILITIES, TODAY)
    assert [c.kind for c in found.changes] == ["release"]
    assert found.problems[0].line == 2 and "ИК-99" in found.problems[0].message


def test_a_spelling_shared_by_two_prisoners_is_a_problem_not_a_guess():
    twins = [*DIRECTORY, prisoner("p_kuku_2", "Еміль Куку", "Эмиль Куку", "Emil Kuku Jr")]
    rows, _ = read_list(HEADER + ",,Эмиль Куку,,released,,,\n")
    found = propose(rows, twins, FACILITIES, TODAY)
    assert found.changes == [] and "p_kuku" in found.problems[0].message and "p_kuku_2" in found.problems[0].message


def test_bad_rows_are_problems_with_their_line_and_good_rows_still_count():
    rows, problems = read_list(HEADER + ",,Эмиль Куку,,freed,,,\n,,,,,,,\n,,,,detained,,,\n,,Юрий Яценко,,,31.02.2026,,\n"
                                        ",,Алексей Семенов,,released,,,\n")
    assert [p.line for p in problems] == [2, 4, 5]
    assert [r.line for r in rows] == [6]


def test_a_file_without_a_name_column_is_refused():
    with pytest.raises(UnreadableList):
        read_list("фамилия;имя\nКуку;Эмиль\n")
