"""The results' texts in Ukrainian, English and Russian, from one catalogue (static/results-strings.json).

The staff page reads the same file through the public pages' i18n (services/intake/web/static/i18n.js); the
PDF, the charts, the public page and its shareable image read it here. Numbers, dates and durations are
written in the reader's locale by Babel. A count the public summary hides ("<5") is printed as it is.
"""

from __future__ import annotations

import json
import re
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal
from babel.units import format_unit

from services.intake.results import domain

CATALOGUE = Path(__file__).resolve().parent / "static" / "results-strings.json"
LANGS = ("uk", "en", "ru")
LOCALES = {"uk": "uk_UA", "en": "en_GB", "ru": "ru_RU"}
_FIELD = re.compile(r"\{(\w+)\}")


@cache
def catalogue() -> dict[str, dict[str, Any]]:
    return json.loads(CATALOGUE.read_text(encoding="utf-8"))


def language(asked: str | None, accept_language: str | None = None, default: str = "uk") -> str:
    """The language asked for (`?lang=`), else the first of the browser's languages we have, else `default`."""
    if asked in LANGS:
        return asked
    for part in (accept_language or "").split(","):
        base = part.split(";")[0].strip().lower().split("-")[0]
        if base in LANGS:
            return base
    return default


class Texts:
    """Every label of one language; `t(key, name=value)` fills `{name}`, falling back to English, then the key."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGS else "en"
        self.locale = Locale.parse(LOCALES[self.lang])

    def t(self, key: str, **values: Any) -> str:
        entry = catalogue()[self.lang].get(key, catalogue()["en"].get(key, key))
        return _fill(entry if isinstance(entry, str) else entry["other"], values)

    def plural(self, key: str, count: int | str) -> str:
        """`{n} letters` in the form the count needs; "<5" takes the form of 5 ("<5 листів")."""
        entry = catalogue()[self.lang].get(key) or catalogue()["en"][key]
        form = self.locale.plural_form(domain.SMALL_COUNT if isinstance(count, str) else count)
        return _fill(entry.get(form, entry["other"]), {"n": self.number(count)})

    def number(self, value: float | str | None) -> str:
        if value is None:
            return "—"
        if isinstance(value, str):
            return value
        return format_decimal(value, locale=self.locale)

    def day(self, value: str | date | None, fmt: str = "long") -> str:
        """A day (ISO text or date) as the reader writes it: "5 березня 2026 р.", "5 March 2026"."""
        if not value:
            return ""
        try:
            return format_date(value if isinstance(value, date) else date.fromisoformat(str(value)), fmt,
                               locale=self.locale)
        except ValueError:
            return str(value)

    def duration(self, seconds: float | None) -> str:
        """A duration in the unit a person would say (domain.duration_parts), in this language."""
        parts = domain.duration_parts(seconds)
        if parts is None:
            return "—"
        amount, unit = parts
        if unit == "second":
            return self.t("results.duration.underMinute")
        return format_unit(amount, f"duration-{unit}", length="long", locale=self.locale)

    def country(self, code: str) -> str:
        """A country's name in this language (Babel's CLDR names), else the code as given."""
        return self.locale.territories.get(code.upper(), code) if len(code) == 2 else code


def _fill(text: str, values: dict[str, Any]) -> str:
    return _FIELD.sub(lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0), text)
