"""The phrase bank: Russian phrases and sample letters by topic, with what they mean in the writers' languages.

Organisers edit phrases.yaml; it is validated here when it is loaded, and a file that does not say what a phrase
bank must say stops the service with the place of the mistake. No I/O beyond reading that file once.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

PHRASES_FILE = Path(__file__).with_name("phrases.yaml")


class PhraseBankError(ValueError):
    """The phrase bank file cannot be read or is not a phrase bank."""


class Phrase(BaseModel):
    """A phrase or a sample letter: the Russian that goes into the letter, and what it means."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ru: str = Field(min_length=1, max_length=2000, description="What is put into the letter.")
    uk: str = Field(min_length=1, description="What it means, in Ukrainian.")
    en: str = Field(min_length=1, description="What it means, in English.")
    de: str = Field(min_length=1, description="What it means, in German.")
    pl: str = Field(min_length=1, description="What it means, in Polish.")


class TopicTitle(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    uk: str = Field(min_length=1)
    en: str = Field(min_length=1)
    ru: str = Field(min_length=1)
    de: str = Field(min_length=1)
    pl: str = Field(min_length=1)


MAX_SAMPLES_PER_TOPIC = 2


class Topic(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="Stable id, e.g. new_year.")
    title: TopicTitle
    phrases: list[Phrase] = Field(min_length=1)
    # Short, so that a writer reads it whole before using it as a start; one or two per topic, so
    # that the page offers a start, not a choice to weigh.
    samples: list[Phrase] = Field(default_factory=list, max_length=MAX_SAMPLES_PER_TOPIC)


class PhraseBank(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = Field(min_length=1, description="Changes with every edit, so that pages and kiosks refresh.")
    topics: list[Topic] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_topics(self) -> PhraseBank:
        seen: set[str] = set()
        for topic in self.topics:
            if topic.id in seen:
                raise ValueError(f"topic id {topic.id!r} is used twice")
            seen.add(topic.id)
        return self

    def texts(self) -> list[tuple[str, str]]:
        """Every Russian text with where it is ("seasons phrase 2"), for screening them all."""
        return [
            (f"{topic.id} {kind} {number}", item.ru)
            for topic in self.topics
            for kind, items in (("phrase", topic.phrases), ("sample", topic.samples))
            for number, item in enumerate(items, start=1)
        ]


def parse_phrase_bank(text: str, source: str = "phrases.yaml") -> PhraseBank:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise PhraseBankError(f"{source} is not valid YAML: {error}") from error
    try:
        return PhraseBank.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc']) or 'file'}: {problem['msg']}"
            for problem in error.errors()
        )
        raise PhraseBankError(f"{source}: {problems}") from error


@cache
def phrase_bank(path: Path = PHRASES_FILE) -> PhraseBank:
    """The campaign's phrase bank, read and validated once per process."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise PhraseBankError(f"cannot read the phrase bank {path}: {error}") from error
    return parse_phrase_bank(text, path.name)
