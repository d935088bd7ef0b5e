"""The rules file: what organisers write, validated and compiled once when it is loaded."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from shared.screening import acrostic
from shared.screening.detectors import DETECTORS, ON_ORIGINAL
from shared.screening.normalize import CanonicalText, canonicalise
from shared.screening.terms import TermMatcher, TermSyntaxError

DEFAULT_RULES_PATH = Path(__file__).with_name("rules.yaml")
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Severity = Literal["warn", "block"]

# Everything that is printed on the scan or sent to the prisoner is screened, not just the body:
# a slogan signed as the writer's "name" reaches the censor as surely as one in the text.
PrintedField = Literal["body", "writer_first_name", "writer_city", "transcription"]
PRINTED_FIELDS: tuple[str, ...] = ("body", "writer_first_name", "writer_city", "transcription")


# What a writer spells down the page to get it past a reader: slogans, names, insults.
_SPELT_CATEGORIES = frozenset({"slogans", "officials", "insults"})


class RulesFileError(ValueError):
    """The rules file cannot be read or does not say what a rules file must say."""


class Messages(BaseModel):
    """The same text in each language the campaign's moderators and writers use."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    uk: str = Field(min_length=1, description="Ukrainian text.")
    en: str = Field(min_length=1, description="English text.")
    ru: str = Field(min_length=1, description="Russian text.")


class Gloss(BaseModel):
    """What a kinder Russian wording means, for a writer who reads the interface in another language.
    A Russian interface needs none; de and pl serve writers at events in Germany and Poland."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    uk: str = Field(min_length=1, description="Ukrainian.")
    en: str = Field(min_length=1, description="English.")
    de: str | None = Field(default=None, min_length=1, description="German.")
    pl: str | None = Field(default=None, min_length=1, description="Polish.")


class RuleExamples(BaseModel):
    """Letters that show what a rule is for; the test suite checks every one of them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    review: list[str] = Field(default_factory=list, description="Texts this rule must flag.")
    ok: list[str] = Field(default_factory=list, description="Texts this rule must leave alone.")


class Rule(BaseModel):
    """One thing a moderator would flag, and what to tell the writer about it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(
        pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$", description="Stable id, e.g. war.occupation."
    )
    category: str = Field(pattern=r"^[a-z][a-z_]*$", description="Group of rules, e.g. slogans.")
    severity: Severity = Field(
        description="block: harms the prisoner or writer; warn: needs a moderator's look."
    )
    match: list[str] = Field(default_factory=list, description="Word and phrase terms (see README).")
    symbols: list[str] = Field(default_factory=list, description="Emoji or signs matched anywhere.")
    detector: str | None = Field(default=None, description="Name of a built-in detector.")
    unless: list[str] = Field(default_factory=list, description="Terms that cancel the matches they overlap.")
    message: Messages = Field(description="Why this is a problem for the prisoner and what to do.")
    suggestion: Messages | None = Field(default=None, description="A kinder rewording, if there is one.")
    suggestion_gloss: Gloss | None = Field(
        default=None, description="What the Russian wording quoted in the suggestion means, in the writer's language.")
    examples: RuleExamples = Field(default_factory=RuleExamples, description="Self-checks for the rule.")
    fields: list[PrintedField] = Field(
        default_factory=lambda: list(PRINTED_FIELDS),
        min_length=1,
        description="Printed fields the rule screens; all of them unless the rule says otherwise "
        "(a name is not 'Ukrainian text', and 'is this a city?' means nothing for the body).",
    )
    notes: str | None = Field(default=None, description="Free text for organisers.")

    @field_validator("detector")
    @classmethod
    def _detector_exists(cls, name: str | None) -> str | None:
        if name is not None and name not in DETECTORS and name not in ON_ORIGINAL:
            raise ValueError(f"unknown detector {name!r}; known: {', '.join(sorted({*DETECTORS, *ON_ORIGINAL}))}")
        return name

    @model_validator(mode="after")
    def _matches_something(self) -> Rule:
        if self.detector is not None and (self.match or self.symbols):
            raise ValueError("a rule uses either 'detector' or 'match'/'symbols', not both")
        if self.detector is None and not (self.match or self.symbols):
            raise ValueError("a rule needs 'match', 'symbols' or 'detector'")
        if len(set(self.fields)) != len(self.fields):
            raise ValueError("a field is listed twice in 'fields'")
        return self


class RuleBook(BaseModel):
    """The whole rules file, with every term compiled for fast screening."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = Field(min_length=1, description="Version of the rules; recorded with every verdict.")
    endings: dict[str, list[str]] = Field(default_factory=dict, description="Named sets of word endings.")
    words: dict[str, list[str]] = Field(
        default_factory=dict, description="Named groups of words, written @name in a term (see README)."
    )
    rules: list[Rule] = Field(min_length=1, description="The rules, in the order findings are reported.")

    _terms: TermMatcher = PrivateAttr(default_factory=TermMatcher)
    _symbols: re.Pattern[str] | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _compile(self) -> RuleBook:
        _require_unique_ids(self.rules)
        symbol_patterns: list[str] = []
        for number, rule in enumerate(self.rules):
            try:
                for term in rule.match:
                    self._terms.add(rule.id, term, self.endings, groups=self.words)
                for term in rule.unless:
                    self._terms.add(rule.id, term, self.endings, cancels=True, groups=self.words)
            except TermSyntaxError as error:
                raise ValueError(f"rule {rule.id!r}: {error}") from None
            if rule.symbols:
                symbol_patterns.append(f"(?P<r{number}>{_symbols_pattern(rule.symbols)})")
        self._symbols = re.compile("|".join(symbol_patterns)) if symbol_patterns else None
        return self

    def rule(self, rule_id: str) -> Rule:
        """The rule with this id."""
        return next(rule for rule in self.rules if rule.id == rule_id)

    def find(self, letter: CanonicalText, field: str = "body") -> Iterator[tuple[Rule, int, int]]:
        """Every (rule, canonical start, canonical end) the text of this printed field triggers.

        Rules that do not screen `field` are skipped, and their detectors never run on it.
        """
        by_id = {rule.id: rule for rule in self.rules if field in rule.fields}
        yield from self._find_terms(letter, by_id)
        if self._symbols is not None:
            for match in self._symbols.finditer(letter.text):
                rule = self.rules[int(match.lastgroup[1:])]
                if field in rule.fields:
                    yield rule, match.start(), match.end()
        for rule in self.rules:
            if rule.detector == "acrostic" and field in rule.fields:
                yield from ((rule, start, end) for start, end in self._spelt_down(letter))
            elif rule.detector in DETECTORS and field in rule.fields:
                for start, end in DETECTORS[rule.detector](letter):
                    yield rule, start, end

    def find_in_original(self, text: str, field: str = "body") -> Iterator[tuple[Rule, int, int]]:
        """Every (rule, start, end) of the writer's own text that a detector of characters the
        canonical form drops finds (direction controls)."""
        for rule in self.rules:
            if rule.detector in ON_ORIGINAL and field in rule.fields:
                for start, end in ON_ORIGINAL[rule.detector](text):
                    yield rule, start, end

    def _spelt_down(self, letter: CanonicalText) -> Iterator[tuple[int, int]]:
        """Slogans and names spelt by the first letters of lines or sentences, as canonical spans
        from the first such letter to the last."""
        spelt_rules = {rule.id: rule for rule in self.rules if rule.category in _SPELT_CATEGORIES}
        for spelt, starts in acrostic.spelt_down(letter):
            readings = [(spelt, range(len(spelt)))]
            if acrostic.worth_cutting(spelt):
                readings.append(acrostic.in_words(spelt))
            for read, to_spelt in readings:
                down = canonicalise(read)
                for _, start, end in self._find_terms(down, spelt_rules):
                    first, last = down.original_span(start, end)
                    first, last = to_spelt[first], to_spelt[last - 1] + 1
                    if last - first >= acrostic.MIN_SPELT:
                        yield starts[first], starts[last - 1] + 1
            for words, origin in readings[1:]:
                for first, last in acrostic.words_spelt_alone(words, origin):
                    yield starts[first], starts[last - 1] + 1

    def _find_terms(self, letter: CanonicalText, by_id: dict[str, Rule]) -> Iterator[tuple[Rule, int, int]]:
        matches: list[tuple[str, int, int]] = []
        cancelled: dict[str, list[tuple[int, int]]] = {}
        for term, start, end in self._terms.find(letter):
            if term.cancels:
                cancelled.setdefault(term.owner, []).append((start, end))
            else:
                matches.append((term.owner, start, end))
        for owner, start, end in matches:
            if owner in by_id and not any(s < end and start < e for s, e in cancelled.get(owner, ())):
                yield by_id[owner], start, end


def _require_unique_ids(rules: list[Rule]) -> None:
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            raise ValueError(f"rule id {rule.id!r} is used twice")
        seen.add(rule.id)


def _symbols_pattern(symbols: list[str]) -> str:
    """Each symbol as written, ignoring variation selectors and allowing spaces between its parts."""
    alternatives = []
    for symbol in symbols:
        parts = [re.escape(char) for char in canonicalise(symbol).text if not char.isspace()]
        alternatives.append(r"\s*".join(parts))
    return "|".join(sorted(alternatives, key=len, reverse=True))


def load_rules(path: str | Path | None = None) -> RuleBook:
    """Load and validate a rules file; raise RulesFileError saying what is wrong and where."""
    source = Path(path) if path is not None else DEFAULT_RULES_PATH
    try:
        # libyaml reads the (large) rules file ten times faster than pure-Python PyYAML
        raw = yaml.load(source.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except OSError as error:
        raise RulesFileError(f"cannot read rules file {source}: {error}") from error
    except yaml.YAMLError as error:
        raise RulesFileError(f"rules file {source} is not valid YAML: {error}") from error
    if not isinstance(raw, dict):
        raise RulesFileError(f"rules file {source} must be a mapping with 'version' and 'rules' at the top")
    try:
        return RuleBook.model_validate(raw)
    except ValidationError as error:
        raise RulesFileError(_explain(source, raw, error)) from None


def _explain(source: Path, raw: dict, error: ValidationError) -> str:
    lines = [f"rules file {source} is invalid:"]
    for problem in error.errors():
        where = _location(raw, problem["loc"])
        lines.append(f"  - {where}: {problem['msg']}")
    return "\n".join(lines)


def _location(raw: dict, loc: tuple) -> str:
    """'rules[3] (war.army).message.uk' rather than pydantic's bare tuple."""
    parts: list[str] = []
    for index, key in enumerate(loc):
        if isinstance(key, int) and loc[:index] == ("rules",):
            rules = raw.get("rules") or []
            rule_id = rules[key].get("id") if key < len(rules) and isinstance(rules[key], dict) else None
            parts[-1] += f"[{key}]" + (f" ({rule_id})" if rule_id else "")
        elif isinstance(key, int):
            parts[-1] += f"[{key}]"
        else:
            parts.append(str(key))
    return ".".join(parts) or "top level"
