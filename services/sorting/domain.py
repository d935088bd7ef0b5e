"""Sorting decisions: pure functions over a letter and its screening result."""

from __future__ import annotations

from typing import Literal

from shared.screening import ScreeningResult

SortingState = Literal["received", "review_needed", "ready", "rejected"]
Decision = Literal["approve", "review"]


def decide(*, handwritten: bool, screening: ScreeningResult) -> Decision:
    """Only a clean typed letter goes straight on; a human reads everything else."""
    if handwritten or screening.verdict != "ok":
        return "review"
    return "approve"


def finding_categories(screening: ScreeningResult) -> list[str]:
    return sorted({finding.category for finding in screening.findings})
