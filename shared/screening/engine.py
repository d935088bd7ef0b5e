"""Screening a letter: the findings a moderator would make before it goes to the prison censor.

`screen` is a pure function of the letter text and the rules loaded (once) from rules.yaml.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.screening.normalize import canonicalise
from shared.screening.rules import PRINTED_FIELDS, PrintedField, Rule, RuleBook, load_rules

Language = Literal["uk", "en", "ru"]
_LANGUAGES = ("uk", "en", "ru")


class Finding(BaseModel):
    """One thing in a letter that a moderator would flag."""

    model_config = ConfigDict(frozen=True)

    rule: str = Field(description="Id of the rule that matched.", examples=["slogans.glory_to_ukraine"])
    field: PrintedField = Field(
        default="body",
        description="Which printed field the span is in: the letter's text, the writer's name or city, "
        "or a moderator's transcription of a handwritten page. Offsets count inside that field.",
    )
    category: str = Field(description="Category of the rule.", examples=["slogans", "personal_data"])
    severity: Literal["warn", "block"] = Field(
        description="block: would harm the prisoner or the writer as written; warn: needs a moderator's look."
    )
    start: int = Field(ge=0, description="Offset of the first flagged character in the original text.")
    end: int = Field(
        ge=0, description="Offset just after the flagged span: text[start:end] is what was flagged."
    )
    message: str = Field(
        description="Why this is a problem for the prisoner and what to do, in the requested language."
    )
    suggestion: str | None = Field(default=None, description="A kinder rewording, in the requested language.")
    suggestion_gloss: str | None = Field(
        default=None,
        description="What the Russian wording in the suggestion means, in the requested language (none for ru).",
    )


class ScreeningResult(BaseModel):
    """The screening verdict for one letter."""

    model_config = ConfigDict(frozen=True)

    verdict: Literal["ok", "review"] = Field(description="review if there is any finding, ok otherwise.")
    findings: list[Finding] = Field(description="Findings in the order they appear in the letter.")
    rules_version: str = Field(description="Version of the rules file the letter was screened with.")


@lru_cache(maxsize=1)
def default_rules() -> RuleBook:
    """The campaign's rules file, loaded and compiled once per process."""
    return load_rules()


def screen(
    text: str,
    *,
    lang: str = "en",
    rules: RuleBook | None = None,
    fields: Mapping[str, str | None] | None = None,
) -> ScreeningResult:
    """Screen a letter's text and its other printed fields; messages come in `lang` ("uk", "en" or "ru").

    `fields` maps a printed field ("writer_first_name", "writer_city", "transcription") to its
    value; empty or missing fields are skipped. Findings are ordered body first, then by field.
    """
    if not isinstance(text, str):
        raise TypeError(f"screen() takes the letter text as str, not {type(text).__name__}")
    if lang not in _LANGUAGES:
        raise ValueError(f"lang must be one of {', '.join(_LANGUAGES)}, not {lang!r}")
    unknown = set(fields or ()) - set(PRINTED_FIELDS[1:])
    if unknown:
        raise ValueError(f"unknown printed field(s) {sorted(unknown)}; known: {', '.join(PRINTED_FIELDS[1:])}")
    book = rules if rules is not None else default_rules()
    findings = _findings(text, lang, book, "body")
    for name in PRINTED_FIELDS[1:]:
        value = (fields or {}).get(name)
        if value:
            findings += _findings(value, lang, book, name)
    return ScreeningResult(
        verdict="review" if findings else "ok", findings=findings, rules_version=book.version
    )


def _findings(text: str, lang: str, book: RuleBook, field: str) -> list[Finding]:
    letter = canonicalise(text)
    spans_by_rule: dict[str, list[tuple[int, int]]] = {}
    for rule, start, end in book.find(letter, field):
        spans_by_rule.setdefault(rule.id, []).append(letter.original_span(start, end))
    for rule, start, end in book.find_in_original(text, field):
        spans_by_rule.setdefault(rule.id, []).append((start, end))
    findings = [
        _finding(book.rule(rule_id), start, end, lang, field)
        for rule_id, spans in spans_by_rule.items()
        for start, end in _merge_overlapping(spans)
    ]
    return sorted(findings, key=lambda f: (f.start, f.end, f.rule))


def _merge_overlapping(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """One finding per stretch: "@olena_kh" inside "телеграм: @olena_kh" is not news."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _finding(rule: Rule, start: int, end: int, lang: str, field: str) -> Finding:
    return Finding(
        rule=rule.id,
        field=field,
        category=rule.category,
        severity=rule.severity,
        start=start,
        end=end,
        message=getattr(rule.message, lang),
        suggestion=getattr(rule.suggestion, lang) if rule.suggestion else None,
        suggestion_gloss=getattr(rule.suggestion_gloss, lang, None) if rule.suggestion_gloss else None,
    )
