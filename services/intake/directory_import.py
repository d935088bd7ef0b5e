"""Directory updates from outside lists: a public list's CSV export, read and compared with the directory.

Pure: the rows and the directory go in, a proposed change set comes out (new people, status changes,
releases, transfers, spellings that only resemble someone). Nothing is applied here; an operator
confirms the changes they choose (services/intake/directory_updates.py).

The CSV's columns (a header row; other columns are ignored):
  id            the campaign's prisoner id, if the list carries it (matched first)
  name_uk       the name in Ukrainian
  name_ru       the name in Russian
  name_lat      the name in Latin letters, in any common transliteration
  status        detained, transferred, released or deceased; empty: the list does not say
  status_since  when the status began: YYYY-MM-DD or DD.MM.YYYY
  facility      where the person is held: a facility's id or its name as the directory has it
  birthday      YYYY-MM-DD or DD.MM.YYYY, only if public
At least one name is needed. A person is matched by id, else by a spelling equal to one of the
directory's after normalising case, ё/е, apostrophes, hyphens and word order. A spelling that
matches only loosely (the same Latin skeleton under transliteration variants: Dzhemil/Jemil,
Yatsenko/Iatsenko) is never matched on its own: it is proposed as an unmatched spelling for the
operator to confirm.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from unidecode import unidecode

from services.intake.staff import ID_PATTERN
from shared.facilities import Facility
from shared.prisoners import DEFAULT_STATUS, PRISONER_STATUSES, can_receive_letters

COLUMNS = ("id", "name_uk", "name_ru", "name_lat", "status", "status_since", "facility", "birthday")
NAME_COLUMNS = {"uk": "name_uk", "ru": "name_ru", "en": "name_lat"}
MAX_NAME = 120  # as the directory keeps names (services/intake/staff.py)
MAX_ROWS = 5000  # the campaign follows about 220 people; a public list of all cases has a few hundred

ChangeKind = Literal["new", "status", "release", "transfer", "placement", "unmatched_spelling"]
APOSTROPHES = re.compile(r"['’ʼ`´‘ʹ\"«»]")
# Transliteration variants of the same sound, collapsed so that Dzhemil, Djemil and Jemil meet.
VARIANTS = (("shch", "sh"), ("sch", "sh"), ("tch", "ch"), ("dzh", "j"), ("dj", "j"), ("zh", "j"), ("kh", "h"), ("g", "h"),
            ("tz", "c"), ("ts", "c"), ("ck", "k"), ("ph", "f"), ("w", "v"), ("q", "k"), ("x", "ks"))


class UnreadableList(ValueError):
    """The file cannot be read as a list: nothing is proposed."""


class ListRow(BaseModel):
    line: int
    id: str | None = None
    names: dict[str, str] = Field(description="The spellings the list gives: uk, ru, en (Latin)")
    status: str | None = None
    status_since: date | None = None
    facility: str | None = Field(None, description="As the list writes it")
    birthday: date | None = None


class Situation(BaseModel):
    status: str
    status_since: str | None = None
    facility_id: str | None = None


class ProposedChange(BaseModel):
    id: str = Field(description="Stable within its proposal: c1, c2, …")
    kind: ChangeKind
    line: int = Field(description="The CSV line it comes from")
    prisoner_id: str = Field(description="Who it changes: the matched prisoner, the new person's id, or the "
                                         "prisoner an unmatched spelling resembles")
    matched_by: Literal["id", "spelling", "resemblance"] | None = None
    list_names: dict[str, str]
    directory_names: dict[str, str] | None = None
    before: Situation | None = None
    after: Situation
    birthday: date | None = None
    notes: list[str] = Field(default_factory=list)


class Problem(BaseModel):
    line: int
    message: str


class ChangeSet(BaseModel):
    changes: list[ProposedChange] = Field(default_factory=list)
    problems: list[Problem] = Field(default_factory=list)
    unchanged: int = Field(0, description="Rows matched to a prisoner whose directory entry already agrees")


def spelling_key(name: str) -> str:
    """The same spelling however it is typed: case, ё/е, apostrophes, hyphens, spaces and word order."""
    text = unicodedata.normalize("NFKC", name).casefold().replace("ё", "е")
    text = APOSTROPHES.sub("", text).replace("-", " ")
    return " ".join(sorted(text.split()))


def latin_skeleton(name: str) -> str:
    """What is left of a name in any transliteration: Latin consonants, variants collapsed, and a word's
    first vowel (Ali and Ilya stay apart; Yuriy and Iurii, Dzhemil and Jemil, Hafarov and Gafarov meet)."""
    text = re.sub(r"[^a-z ]", "", unidecode(spelling_key(name)).lower())
    for variant, common in VARIANTS:
        text = text.replace(variant, common)
    return " ".join(sorted(word for word in map(_word_skeleton, text.split()) if word))


def _word_skeleton(word: str) -> str:
    # Leading glides are spelt y, i or j (Yatsenko, Iatsenko); vowels inside differ most between systems.
    word = word.lstrip("yij")
    first = word[:1] if word[:1] in "aeiou" else ""
    return first + re.sub(r"(.)\1+", r"\1", re.sub(r"[aeiouyj]", "", word))


def parse_date(value: str | None) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    for form in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(value, form).date()
        except ValueError:
            continue
    raise ValueError(f"{value!r} is not a date (YYYY-MM-DD or DD.MM.YYYY)")


def read_list(text: str) -> tuple[list[ListRow], list[Problem]]:
    """The list's rows; a row that cannot be read becomes a problem, the others are kept."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = {(name or "").strip() for name in reader.fieldnames or ()}
    if not header & set(NAME_COLUMNS.values()):
        raise UnreadableList(f"the first line must name the columns; at least one of {', '.join(NAME_COLUMNS.values())}")
    rows, problems = [], []
    for line, raw in enumerate(reader, start=2):
        if line - 1 > MAX_ROWS:
            raise UnreadableList(f"more than {MAX_ROWS} rows: split the list")
        cells = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if isinstance(v, str)}
        if not any(cells.values()):
            continue
        try:
            rows.append(_row(line, cells))
        except ValueError as error:
            problems.append(Problem(line=line, message=str(error)))
    return rows, problems


def _row(line: int, cells: dict[str, str]) -> ListRow:
    names = {lang: cells[column] for lang, column in NAME_COLUMNS.items() if cells.get(column)}
    if not names and not cells.get("id"):
        raise ValueError("no name in any spelling and no id")
    if any(len(name) > MAX_NAME for name in names.values()):
        raise ValueError(f"a name longer than {MAX_NAME} characters")
    status = cells.get("status", "").lower() or None
    if status is not None and status not in PRISONER_STATUSES:
        raise ValueError(f"status {status!r} is not one of {', '.join(PRISONER_STATUSES)}")
    return ListRow(line=line, id=cells.get("id") or None, names=names, status=status,
                   status_since=parse_date(cells.get("status_since")), facility=cells.get("facility") or None,
                   birthday=parse_date(cells.get("birthday")))


def propose(rows: Sequence[ListRow], directory: Sequence[dict[str, Any]], facilities: Sequence[Facility],
            today: date) -> ChangeSet:
    """The differences between the list and the directory, one proposed change per differing row."""
    index = _DirectoryIndex(directory)
    result = ChangeSet()
    taken_ids = {doc["_id"] for doc in directory}
    for row in rows:
        facility_id = _facility_id(row, facilities, result.problems)
        matched, how = index.match(row)
        if how == "ambiguous":
            result.problems.append(Problem(line=row.line, message="the spellings match more than one prisoner: "
                                                                  + ", ".join(doc["_id"] for doc in matched)))
            continue
        if matched and how in ("id", "spelling"):
            change = _difference(row, matched[0], facility_id, how, today)
            if change is None:
                result.unchanged += 1
                continue
        elif matched:
            change = _difference(row, matched[0], facility_id, "resemblance", today, force=True)
        elif not row.names:
            result.problems.append(Problem(line=row.line, message=f"no prisoner {row.id!r} and no name to add them by"))
            continue
        else:
            change = _new_person(row, facility_id, taken_ids, today)
            taken_ids.add(change.prisoner_id)
        result.changes.append(change.model_copy(update={"id": f"c{len(result.changes) + 1}"}))
    return result


def _facility_id(row: ListRow, facilities: Sequence[Facility], problems: list[Problem]) -> str | None:
    if row.facility is None:
        return None
    wanted = spelling_key(row.facility)
    for facility in facilities:
        if row.facility == facility.id or spelling_key(facility.name) == wanted:
            return facility.id
    problems.append(Problem(line=row.line, message=f"no facility {row.facility!r} in the directory: add it first; "
                                                   "the row's other differences are still proposed"))
    return None


class _DirectoryIndex:
    def __init__(self, directory: Iterable[dict[str, Any]]) -> None:
        self.by_id: dict[str, dict[str, Any]] = {}
        self.by_spelling: dict[str, list[dict[str, Any]]] = {}
        self.by_skeleton: dict[str, list[dict[str, Any]]] = {}
        for doc in directory:
            self.by_id[doc["_id"]] = doc
            for name in (doc.get("names") or {}).values():
                _add(self.by_spelling, spelling_key(name), doc)
                _add(self.by_skeleton, latin_skeleton(name), doc)

    def match(self, row: ListRow) -> tuple[list[dict[str, Any]], str | None]:
        if row.id and row.id in self.by_id:
            return [self.by_id[row.id]], "id"
        for key_of, index, how in ((spelling_key, self.by_spelling, "spelling"),
                                   (latin_skeleton, self.by_skeleton, "resemblance")):
            found = _distinct(doc for name in row.names.values() for doc in index.get(key_of(name), ()))
            if len(found) > 1:
                return found, "ambiguous"
            if found:
                return found, how
        return [], None


def _add(index: dict[str, list[dict[str, Any]]], key: str, doc: dict[str, Any]) -> None:
    if key and doc not in index.setdefault(key, []):
        index[key].append(doc)


def _distinct(docs: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for doc in docs:
        seen.setdefault(doc["_id"], doc)
    return list(seen.values())


def _difference(row: ListRow, doc: dict[str, Any], facility_id: str | None, how: str, today: date,
                force: bool = False) -> ProposedChange | None:
    before = Situation(status=doc.get("status") or DEFAULT_STATUS, status_since=doc.get("status_since"),
                       facility_id=doc.get("facility_id"))
    since = (row.status_since or today).isoformat()
    kind: ChangeKind | None = None
    after = before
    if row.status is not None and not can_receive_letters(row.status) and row.status != before.status:
        kind, after = ("release" if row.status == "released" else "status"), Situation(
            status=row.status, status_since=since, facility_id=before.facility_id)
    elif facility_id is not None and facility_id != before.facility_id and before.facility_id is not None:
        # Held somewhere else than the directory says: a transfer, whatever the list calls the status.
        kind, after = "transfer", Situation(status="transferred", status_since=since, facility_id=facility_id)
    elif facility_id is not None and before.facility_id is None:
        kind, after = "placement", Situation(status=row.status or before.status,
                                          status_since=since if row.status and row.status != before.status
                                          else before.status_since, facility_id=facility_id)
    elif row.status is not None and row.status != before.status:
        kind, after = "status", Situation(status=row.status, status_since=since, facility_id=before.facility_id)
    if force:
        kind = "unmatched_spelling"
    if kind is None:
        return None
    return ProposedChange(id="c0", kind=kind, line=row.line, prisoner_id=doc["_id"], matched_by=how,
                          list_names=row.names, directory_names=doc.get("names"), before=before, after=after)


def _new_person(row: ListRow, facility_id: str | None, taken: set[str], today: date) -> ProposedChange:
    names, notes = _all_spellings(row.names)
    status = row.status or DEFAULT_STATUS
    return ProposedChange(
        id="c0", kind="new", line=row.line, prisoner_id=_new_id(row.id, names["en"], taken), list_names=row.names,
        after=Situation(status=status, status_since=(row.status_since or today).isoformat(), facility_id=facility_id),
        birthday=row.birthday, notes=notes)


def _all_spellings(given: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """The directory needs all three spellings; a missing one is filled in, and the operator is told."""
    names, notes = dict(given), []
    cyrillic = names.get("ru") or names.get("uk")
    if "en" not in names and cyrillic:
        names["en"] = unidecode(cyrillic).replace("'", "")
        notes.append("Latin spelling transliterated from the list's Cyrillic one")
    for lang, other in (("ru", "uk"), ("uk", "ru")):
        if lang not in names:
            names[lang] = names.get(other) or names["en"]
            notes.append(f"no {lang} spelling in the list: the {('uk' if names.get(other) else 'en')} one is used")
    return names, notes


def _new_id(given: str | None, latin: str, taken: set[str]) -> str:
    if given and re.fullmatch(ID_PATTERN, given) and given not in taken:
        return given
    base = "p_" + ("_".join(re.sub(r"[^a-z0-9]+", " ", unidecode(latin).lower()).split()) or "person")[:50]
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}_{n}", n + 1
    return candidate


def new_person_names(change: ProposedChange) -> dict[str, str]:
    return _all_spellings(change.list_names)[0]
