"""Sorting's rules: pure functions over a letter, its screening result and a moderator's decision.

A letter's life in sorting:

    received ──(clean, typed, prisoner can receive letters)──▶ ready
       │
       └──(anything else)──▶ review_needed ──redact──▶ review_needed (revision + 1)
                                   │
                                   ├──approve──▶ approved ──(scan stored)──▶ ready
                                   └──reject───▶ rejected

`ready` and `rejected` are final. `approved` lasts only while the scan is rendered and stored; a
letter left there (the store was down) is finished by the next approve call or by the sweep.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from shared.screening import ScreeningResult

SortingState = Literal["received", "review_needed", "approved", "ready", "rejected"]
Decision = Literal["approve", "review"]

# Prisons hand letters only to people they hold; for a released or deceased prisoner a
# moderator decides what happens (forward to the family, or reject with a note).
RECEIVING_STATUSES = frozenset({"detained", "transferred"})
# A reason travels on the bus to the writer's receipt: a sentence, not an essay.
MAX_REASON_CHARS = 500


def is_handwritten(page_keys: list[str]) -> bool:
    return bool(page_keys)


def review_reasons(*, handwritten: bool, screening: ScreeningResult, prisoner_status: str) -> list[str]:
    """Why a human must read this letter; empty means it may go straight on."""
    reasons = []
    if screening.findings:
        reasons.append("findings")
    if handwritten:
        reasons.append("handwritten")
    if prisoner_status not in RECEIVING_STATUSES:
        reasons.append(f"prisoner_{prisoner_status}")
    return reasons


def decide(*, handwritten: bool, screening: ScreeningResult, prisoner_status: str = "detained") -> Decision:
    """Only a clean typed letter to a prisoner who can receive letters goes straight on."""
    reasons = review_reasons(handwritten=handwritten, screening=screening, prisoner_status=prisoner_status)
    return "review" if reasons else "approve"


def finding_categories(screening: ScreeningResult) -> list[str]:
    return sorted({finding.category for finding in screening.findings})


def screening_facts(screening: ScreeningResult) -> dict[str, object]:
    """What sorting keeps of a screening: enough to sort, filter and announce, re-screened on view."""
    categories = finding_categories(screening)
    return {
        "categories": categories,
        "language_flag": "language" in categories,
        "clean": not screening.findings,
        "rules_version": screening.rules_version,
    }


class DecisionRefused(ValueError):
    """A moderator's decision that cannot be carried out as given (a 422, with this sentence)."""


class RedactionRefused(DecisionRefused):
    """The redaction does not fit the letter's text."""


@dataclass(frozen=True)
class Redaction:
    """Replace text[start:end] with `replacement`; or, with `text`, the moderator's whole new text.

    Offsets count Unicode code points, as Python and the screening engine's findings do.
    """

    start: int | None = None
    end: int | None = None
    replacement: str = ""
    text: str | None = None

    def apply(self, current: str) -> str:
        if self.text is not None:
            if not self.text.strip():
                raise RedactionRefused("the redacted letter would be empty; reject it instead")
            return self.text
        if self.start is None or self.end is None:
            raise RedactionRefused("give start and end, or the whole redacted text")
        if not 0 <= self.start < self.end <= len(current):
            raise RedactionRefused(
                f"the passage {self.start}–{self.end} is not inside the letter (0–{len(current)} code points)"
            )
        redacted = current[: self.start] + self.replacement + current[self.end :]
        if not redacted.strip():
            raise RedactionRefused("the redacted letter would be empty; reject it instead")
        return redacted


BulkRefusal = Literal["unknown", "not_in_review", "handwritten", "has_findings"]


def bulk_refusal(letter: dict | None, screening: ScreeningResult | None) -> BulkRefusal | None:
    """Only typed letters without a single finding may be approved without being read one by one."""
    if letter is None:
        return "unknown"
    if letter["state"] != "review_needed":
        return "not_in_review"
    if is_handwritten(letter.get("page_keys", [])):
        return "handwritten"
    if screening is None or screening.findings:
        return "has_findings"
    return None


def clean_reason(reason: str) -> str:
    reason = " ".join(reason.split())
    if not reason:
        raise DecisionRefused("a rejection needs a reason the writer can understand")
    return reason[:MAX_REASON_CHARS]
