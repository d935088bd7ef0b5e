"""Why a moderator rejects a letter: presets with a label for the moderator and a text for the writer.

One home for a fact three places use: sorting offers the presets and checks a chosen code, the
letter.rejected event carries the code, and intake's receipt shows the writer text in the writer's
language. The texts live in rejection_reasons.yaml beside this module, which an organiser edits.

The moderator may add a short note the writer sees. It is shown to a writer, never printed, but
it must not carry anyone's personal data: it is plain text of limited length, and a note with an
e-mail address, a link or a phone number is refused (the moderator rewrites it).
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

Lang = Literal["uk", "en", "ru"]
LANGS: tuple[Lang, ...] = ("uk", "en", "ru")
REASONS_FILE = Path(__file__).with_name("rejection_reasons.yaml")
# Letters rejected before the presets existed carry only a free-text reason: they count as this.
OTHER = "other"
# A note is a sentence or two for the writer, not a second letter.
MAX_NOTE_CHARS = 300


class Texts(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    uk: str = Field(min_length=1)
    en: str = Field(min_length=1)
    ru: str = Field(min_length=1)

    def in_(self, lang: str) -> str:
        return getattr(self, lang if lang in LANGS else "en")


class RejectionReason(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=r"^[a-z][a-z_]{1,40}$", examples=["not_in_russian"])
    fixable: bool = Field(description="The writer may edit the letter and send it again from the receipt")
    label: Texts = Field(description="What the moderator picks, in the moderator's language")
    writer: Texts = Field(description="What the writer reads on the receipt, in the writer's language")


class ReasonCatalogue(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    reasons: tuple[RejectionReason, ...]

    @model_validator(mode="after")
    def codes_are_unique_and_other_is_there(self) -> ReasonCatalogue:
        codes = [reason.code for reason in self.reasons]
        if len(set(codes)) != len(codes):
            raise ValueError("a rejection reason code appears twice")
        if OTHER not in codes:
            raise ValueError(f"the reason {OTHER!r} must stay: old rejections count as it")
        return self

    def get(self, code: str | None) -> RejectionReason:
        """The reason with this code; an unknown or missing code (an old event) is `other`."""
        by_code = {reason.code: reason for reason in self.reasons}
        return by_code.get(code or OTHER, by_code[OTHER])

    def knows(self, code: str) -> bool:
        return any(reason.code == code for reason in self.reasons)


def load_reasons(path: Path = REASONS_FILE) -> ReasonCatalogue:
    return ReasonCatalogue.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


@cache
def rejection_reasons() -> ReasonCatalogue:
    return load_reasons()


class NoteRefused(ValueError):
    """The note cannot be shown to a writer as it is; the message says why, for the moderator."""


_EMAIL = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")
_LINK = re.compile(r"(?i)\b(?:https?://|www\.)|\b[a-z0-9-]+\.(?:com|org|net|ru|ua|info|me|io)\b")
# Seven digits or more, however spaced or dashed, read as a phone or a document number.
_NUMBER = re.compile(r"(?:\d[\s()+.-]*){7,}")


def clean_note(note: str | None) -> str | None:
    """The moderator's note as a writer will read it: plain text on one line, or None when empty.

    Control and formatting characters (direction overrides included) are dropped, whitespace is
    collapsed; a note that is too long, or has an e-mail address, a link or a long number, is refused.
    """
    if note is None:
        return None
    text = "".join(ch for ch in note if not unicodedata.category(ch).startswith("C") or ch in "\n\t")
    text = " ".join(text.split())
    if not text:
        return None
    if len(text) > MAX_NOTE_CHARS:
        raise NoteRefused(f"the note for the writer is longer than {MAX_NOTE_CHARS} characters")
    if _EMAIL.search(text) or _LINK.search(text):
        raise NoteRefused("the note for the writer must not carry an e-mail address or a link")
    if _NUMBER.search(text):
        raise NoteRefused("the note for the writer must not carry a phone or document number")
    return text


def note_or_none(note: str | None) -> str | None:
    """A note from an older event, shown only if it passes the same screen; otherwise left out."""
    try:
        return clean_note(note)
    except NoteRefused:
        return None
