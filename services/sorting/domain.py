"""Sorting's rules: pure functions over a letter, its screening result and a moderator's decision.

A letter's life in sorting:

    received ──(automatic approval on; clean, typed, prisoner can receive letters)──▶ ready
       │
       ├──(the writer asked for a translator, or the text is mostly not Russian)──▶ awaiting_translation
       │        awaiting_translation ──a translator submits the Russian text──▶ review_needed (careful lane, `translated`)
       │        review_needed ──a moderator sends it to translation──▶ awaiting_translation
       │
       └──(otherwise)──▶ review_needed ──redact text, name or city──▶ review_needed (revision + 1)
            (fast lane: clean typed letters;  │
             careful lane: everything else)   ├──approve──▶ approved ──(undo window over, scan stored)──▶ ready
                                              │                │
                                              │                └──undo, within the window──▶ review_needed (round + 1)
                                              └──reject───▶ rejected

`ready` and `rejected` are final. A translated letter keeps what the writer sent in `body`; the
Russian text becomes `text`, the printed text, screened and moderated like any letter. A moderator's approval waits in `approved` for the undo window
(none when it is 0) and while the scan is rendered and stored; the release sweep sends it on.
Approving a letter with block-level findings needs a confirmation naming exactly those findings,
and, with the second-moderator rule, approvals from two different moderators.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from services.sorting.signature import signature_line  # noqa: F401  (re-exported: one home, light to import)
from shared.events import MAX_LETTER_CHARS, MAX_WRITER_FIELD_CHARS
from shared.prisoners import can_receive_letters
from shared.rejection_reasons import OTHER as OTHER_REASON
from shared.rejection_reasons import NoteRefused, clean_note, rejection_reasons
from shared.screening import Finding, ScreeningResult, screen
from shared.screening.language import language_of
from shared.screening.rules import PrintedField

SortingState = Literal["received", "awaiting_translation", "review_needed", "approved", "ready", "rejected"]
Decision = Literal["approve", "review"]
Lane = Literal["fast", "careful"]
LANES: tuple[Lane, ...] = ("fast", "careful")
Outcome = Literal["approved", "redacted", "rejected", "translated"]

# Prisons hand letters only to people they hold (shared/prisoners.py); for a released or deceased
# prisoner a moderator decides what happens (forward to the family, or reject with a note).
# A reason travels on the bus to the writer's receipt: a sentence, not an essay.
MAX_REASON_CHARS = 500
# Besides the text, the scan prints the writer's first name and city, and nothing else about them.
SIGNATURE_FIELDS: tuple[str, ...] = ("writer_first_name", "writer_city")
# Without an undo window the request renders the scan itself; an approval whose scan could not
# be stored then (S3 down) is finished by the release sweep after this long.
STALLED_APPROVAL_S = 60.0
# An approval whose scan fails this many times for a reason that is not an outage (a page that will
# not render, say) stops being retried: moderators see it with its reason and can try it again.
RELEASE_ATTEMPTS = 10


@dataclass(frozen=True)
class ModerationPolicy:
    """The campaign's choices about who reads what; the defaults are the production policy."""

    auto_approve: bool = False
    undo_window_s: float = 600.0
    second_moderator_for_block: bool = False


def is_handwritten(page_keys: list[str]) -> bool:
    return bool(page_keys)


def review_reasons(*, handwritten: bool, screening: ScreeningResult, prisoner_status: str) -> list[str]:
    """Why a human must read this letter even when the campaign approves clean letters itself."""
    reasons = []
    if screening.findings:
        reasons.append("findings")
    if handwritten:
        reasons.append("handwritten")
    if not can_receive_letters(prisoner_status):
        reasons.append(f"prisoner_{prisoner_status}")
    return reasons


def decide(
    *, handwritten: bool, screening: ScreeningResult, prisoner_status: str = "detained", auto_approve: bool = False
) -> Decision:
    """A letter goes straight on only if the campaign approves clean letters itself and it is one."""
    reasons = review_reasons(handwritten=handwritten, screening=screening, prisoner_status=prisoner_status)
    return "approve" if goes_straight_on(reasons, ModerationPolicy(auto_approve=auto_approve)) else "review"


def goes_straight_on(reasons: list[str], policy: ModerationPolicy) -> bool:
    return policy.auto_approve and not reasons


def lane_of(reasons: list[str]) -> Lane:
    """Clean typed letters to prisoners who can receive them may be read a page at a time."""
    return "careful" if reasons else "fast"


def printed_key(field: str) -> str:
    return f"printed_{field}"


def written_fields(letter: Mapping[str, Any]) -> dict[str, str | None]:
    return {field: letter.get(field) for field in SIGNATURE_FIELDS}


def printed_fields(letter: Mapping[str, Any]) -> dict[str, str | None]:
    """The name and city as the scan prints them: a moderator's correction, else as written."""
    return {
        field: letter[printed_key(field)] if printed_key(field) in letter else letter.get(field)
        for field in SIGNATURE_FIELDS
    }


def screened_fields(letter: Mapping[str, Any]) -> dict[str, str | None]:
    """The fields screened beside the text: the printed name and city, and a moderator's transcription
    of the photographed pages (the photos are printed as they are; the transcription is how a person
    reads them, so what they say is screened like typed text)."""
    return {**printed_fields(letter), "transcription": letter.get("transcription")}


def screen_printed(letter: Mapping[str, Any], lang: str = "en") -> ScreeningResult:
    """Screening of everything the scan will print: the current text, name and city, and the pages as transcribed."""
    return screen(letter["text"], lang=lang, fields=screened_fields(letter))


def screen_as_written(letter: Mapping[str, Any], lang: str = "en") -> ScreeningResult:
    """Screening of the letter as the writer sent it, before any moderator's change."""
    return screen(letter["body"], lang=lang, fields=written_fields(letter))


def finding_categories(screening: ScreeningResult) -> list[str]:
    return sorted({finding.category for finding in screening.findings})


def block_findings(screening: ScreeningResult) -> list[Finding]:
    return [finding for finding in screening.findings if finding.severity == "block"]


def screening_facts(screening: ScreeningResult) -> dict[str, object]:
    """What sorting keeps of a screening: enough to sort, filter and announce, re-screened on view."""
    categories = finding_categories(screening)
    return {
        "categories": categories,
        "language_flag": "language" in categories,
        "clean": not screening.findings,
        "block": bool(block_findings(screening)),
        "rules_version": screening.rules_version,
    }


def confirms_exactly(screening: ScreeningResult, confirmed: Collection[tuple[str, str]] | None) -> bool:
    """A moderator confirms block findings by (rule, field); anything else means they saw another letter."""
    return {(finding.rule, finding.field) for finding in block_findings(screening)} == set(confirmed or ())


ApprovalStep = Literal["approve", "first_of_two", "same_moderator"]


def approval_step(letter: Mapping[str, Any], by: str, *, block: bool, policy: ModerationPolicy) -> ApprovalStep:
    """With the second-moderator rule, a letter with block findings needs two people's approval.

    A first approval counts only for the text and round it was given for: a redaction or an undo
    since then means two people must approve again.
    """
    if not (policy.second_moderator_for_block and block):
        return "approve"
    first = first_approval_of(letter)
    if first is None:
        return "first_of_two"
    return "same_moderator" if first == by else "approve"


def first_approval_of(letter: Mapping[str, Any]) -> str | None:
    """Who gave the first of two approvals to the letter as it is now (in review), if anyone."""
    same_letter = (letter.get("first_approved_revision"), letter.get("first_approved_round", 0)) == (
        letter["revision"], letter.get("round", 0))
    if letter["state"] != "review_needed" or not same_letter:
        return None
    return letter.get("first_approved_by")


def approval_times(policy: ModerationPolicy, now: datetime) -> dict[str, datetime]:
    """Until when the approval can be taken back, and when the sweep sends the letter on."""
    undo_until = now + timedelta(seconds=policy.undo_window_s)
    release = undo_until if policy.undo_window_s > 0 else now + timedelta(seconds=STALLED_APPROVAL_S)
    return {"undo_until": undo_until, "release_at": release}


def may_undo(letter: Mapping[str, Any], now: datetime) -> bool:
    undo_until = letter.get("undo_until")
    return letter["state"] == "approved" and undo_until is not None and now < undo_until


def approval_outcome(letter: Mapping[str, Any]) -> Outcome:
    """Approved as written, as a volunteer translated it, or after a moderator changed the text, the
    printed name or the city."""
    if letter.get("translation"):
        return "translated"
    return "redacted" if was_redacted(letter) else "approved"


def was_redacted(letter: Mapping[str, Any]) -> bool:
    """A moderator changed the text (as written or as translated), the printed name or the city, or masked
    a region of a photographed page."""
    given = letter["translation"]["text"] if letter.get("translation") else letter["body"]
    return letter["text"] != given or printed_fields(letter) != written_fields(letter) or bool(letter.get("masks"))


def decision_facts(letter: Mapping[str, Any], as_written: ScreeningResult, outcome: Outcome) -> dict[str, Any]:
    """Recorded with every moderator's decision, so screening's record is counted exactly as it was.

    Screening cannot read photographs, and a letter to a released prisoner is decided for that
    reason: neither says anything about screening, so they are left out of the comparison.
    """
    return {
        "decided_flagged": bool(as_written.findings),
        "decided_outcome": outcome,
        "decided_comparable": not letter.get("handwritten") and can_receive_letters(letter.get("prisoner_status")),
    }


@dataclass(frozen=True)
class Agreement:
    """How screening's verdicts compare with moderators' decisions over some decided letters."""

    decided: int
    agreed: int
    missed_by_screening: int
    flagged_needlessly: int

    def share(self, count: int) -> float:
        return round(count / self.decided, 4) if self.decided else 0.0


def agreement(decisions: Iterable[tuple[bool, Outcome]]) -> Agreement:
    """(flagged as written, outcome) per letter. Agreed: flagged and changed or rejected, or clean and
    approved as written; missed: clean but redacted or rejected; needless: flagged but approved as written."""
    decided = agreed = missed = needless = 0
    for flagged, outcome in decisions:
        if outcome == "translated" and not flagged:
            # The writer asked for a translator: that says nothing about screening, right or wrong.
            continue
        decided += 1
        # A letter flagged for its language and translated was read right by screening.
        as_written = outcome == "approved"
        if flagged and as_written:
            needless += 1
        elif not flagged and not as_written:
            missed += 1
        else:
            agreed += 1
    return Agreement(decided, agreed, missed, needless)


class DecisionRefused(ValueError):
    """A moderator's decision that cannot be carried out as given (a 422, with this sentence)."""


class RedactionRefused(DecisionRefused):
    """The redaction does not fit the letter's text."""


@dataclass(frozen=True)
class Redaction:
    """Replace a passage [start:end) of a printed field with `replacement`; or, with `text`, the
    moderator's whole new value. The field is the letter's text (`body`), or the writer's first name
    or city as printed on the scan; a name or city may be cleared, the text may not.

    Offsets count Unicode code points, as Python and the screening engine's findings do.
    """

    start: int | None = None
    end: int | None = None
    replacement: str = ""
    text: str | None = None
    field: PrintedField = "body"

    def apply(self, current: str | None) -> str | None:
        current = current or ""
        if self.text is not None:
            return self._checked(self.text)
        if self.start is None or self.end is None:
            raise RedactionRefused("give start and end, or the whole redacted text")
        if not 0 <= self.start < self.end <= len(current):
            raise RedactionRefused(
                f"the passage {self.start}–{self.end} is not inside the {self._what} (0–{len(current)} code points)"
            )
        return self._checked(current[: self.start] + self.replacement + current[self.end :])

    def passage(self, current: str | None) -> str | None:
        return (current or "")[self.start : self.end] if self.text is None else None

    @property
    def _what(self) -> str:
        return {"body": "letter", "writer_first_name": "writer's name", "writer_city": "city",
                "transcription": "transcription"}[self.field]

    def _checked(self, after: str) -> str | None:
        if self.field == "body":
            if not after.strip():
                raise RedactionRefused("the redacted letter would be empty; reject it instead")
            return after
        if self.field == "transcription":
            # Lines as the moderator typed them (a letter's lines); an empty one removes the transcription.
            after = after.strip()
            if len(after) > MAX_LETTER_CHARS:
                raise RedactionRefused(f"the transcription may be at most {MAX_LETTER_CHARS} characters")
            return after or None
        after = " ".join(after.split())
        if len(after) > MAX_WRITER_FIELD_CHARS:
            raise RedactionRefused(f"the {self._what} may be at most {MAX_WRITER_FIELD_CHARS} characters")
        # A cleared name or city is simply not printed.
        return after or None


def redacted_values(letter: Mapping[str, Any], redaction: Redaction) -> tuple[str | None, str | None, dict[str, Any]]:
    """(before, after, the letter's changed fields) for a redaction of the letter's current version."""
    if redaction.field == "body":
        before = letter["text"]
        after = redaction.apply(before)
        return before, after, {"text": after}
    if redaction.field == "transcription":
        if not letter.get("page_keys"):
            raise RedactionRefused("only a letter with photographed pages has a transcription")
        before = letter.get("transcription")
        after = redaction.apply(before)
        return before, after, {"transcription": after}
    before = printed_fields(letter)[redaction.field]
    after = redaction.apply(before)
    return before, after, {printed_key(redaction.field): after}


BulkRefusal = Literal["unknown", "not_in_review", "handwritten", "has_findings"]


def bulk_refusal(letter: dict | None, screening: ScreeningResult | None) -> BulkRefusal | None:
    """Only typed letters without a single finding (text, name or city) may be approved a page at a time."""
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


def rejection_facts(reason_code: str | None, note: str | None, reason: str | None = None) -> dict[str, Any]:
    """What a rejection records: the preset (shared/rejection_reasons.yaml), the note the writer sees, and
    `reason` for readers of older events (the note, or the preset's English label).

    A request with only a free-text `reason` (an older client) is the preset `other` with that text as
    its note; `other` needs a note, since its writer text only says "see the note".
    """
    reasons = rejection_reasons()
    if reason_code is None:
        reason_code, note = OTHER_REASON, note or reason
    if not reasons.knows(reason_code):
        raise DecisionRefused(f"no rejection reason {reason_code!r}; see GET /api/v1/moderation/rejection-reasons")
    try:
        note = clean_note(note)
    except NoteRefused as refused:
        raise DecisionRefused(str(refused)) from refused
    if reason_code == OTHER_REASON and not note:
        raise DecisionRefused("a rejection needs a reason the writer can understand: explain 'other' in the note")
    return {"reason": note or reasons.get(reason_code).label.en, "reason_code": reason_code, "reason_note": note}


# States from which a writer's withdrawal still stops the letter: nothing is scanned yet (an approval
# in its undo window has no scan that went anywhere). Ready means scanned and gone to delivery.
WITHDRAWABLE_STATES = ("received", "awaiting_translation", "review_needed", "approved")


def withdrawal_refusal(state: str) -> str | None:
    """Why a letter in this state can no longer be withdrawn, or None if it can (or was)."""
    if state == "ready":
        return "already_scanned"
    if state == "rejected":
        return "already_rejected"
    return None


# ---------------------------------------------------------------- translation by volunteers

# Why a translated letter is in the careful lane: a moderator reads every volunteer's Russian.
TRANSLATED = "translated"
# The language rules whose findings a translator can answer, and the language each names (a
# foreign passage is named by language identification). Transliterated Russian is Russian: a
# moderator asks for Cyrillic, or sends it on to a translator by hand.
TRANSLATABLE_RULES: Mapping[str, str | None] = {
    "language.ukrainian": "uk",
    "language.crimean_tatar": "crh",
    "language.foreign": None,
}
# A letter most of whose letters are in another language goes to a translator on arrival; a
# passage in another language inside a Russian letter is a moderator's to redact or send on.
TRANSLATION_SHARE = 0.5
# Language identification calls lingua's "ct" what Crimean Tatar and Turkish in Latin letters read as.
_LANGUAGE_CODES = {"ct": "crh"}
UNKNOWN_LANGUAGE = "und"
TranslationSource = Literal["writer", "screening", "moderator"]


def _translatable_findings(screening: ScreeningResult) -> list[Finding]:
    return [f for f in screening.findings if f.field == "body" and f.rule in TRANSLATABLE_RULES]


def not_russian_share(text: str, screening: ScreeningResult) -> float:
    """The share of the text's letters that screening found in another language."""
    flagged: set[int] = set()
    for finding in _translatable_findings(screening):
        flagged.update(range(finding.start, finding.end))
    letters = [i for i, ch in enumerate(text) if ch.isalpha()]
    return sum(i in flagged for i in letters) / len(letters) if letters else 0.0


def source_language(text: str, screening: ScreeningResult) -> str:
    """The language most of the flagged text is in (uk, crh, de, pl, en…), `und` when nothing tells."""
    letters_in: dict[str, int] = {}
    for finding in _translatable_findings(screening):
        passage = text[finding.start : finding.end]
        code = TRANSLATABLE_RULES[finding.rule] or language_of(passage) or UNKNOWN_LANGUAGE
        code = _LANGUAGE_CODES.get(code, code)
        letters_in[code] = letters_in.get(code, 0) + sum(ch.isalpha() for ch in passage)
    return max(letters_in, key=letters_in.__getitem__) if letters_in else UNKNOWN_LANGUAGE


def translation_needed(*, requested: bool, text: str, screening: ScreeningResult) -> TranslationSource | None:
    """Who sends a received letter to a translator: its writer, screening (mostly not Russian), or nobody.

    A letter with block-level findings (a slogan, a threat) goes to a moderator first, who
    may send it on to a translator: screening's guess at its language is the least of its problems.
    """
    if requested:
        return "writer"
    if block_findings(screening):
        return None
    return "screening" if not_russian_share(text, screening) >= TRANSLATION_SHARE else None


def clean_translation(text: str) -> str:
    """A translator's Russian text, as printed: trailing spaces trimmed, never empty."""
    text = "\n".join(line.rstrip() for line in text.strip().splitlines())
    if not text:
        raise DecisionRefused("the translation is empty; write the letter in Russian")
    if len(text) > MAX_LETTER_CHARS:
        raise DecisionRefused(f"the translation may be at most {MAX_LETTER_CHARS} characters")
    return text


def translated_reasons(reasons: list[str]) -> list[str]:
    """A translated letter is read in the careful lane, whatever screening says of its Russian."""
    return [*(r for r in reasons if r != TRANSLATED), TRANSLATED]


def page_images(letter: Mapping[str, Any]) -> list[str]:
    """The stored images of the photographed pages as they are printed: with a moderator's masks
    burned in (`masked_page_keys`, one per page), else as intake stored them."""
    return list(letter.get("masked_page_keys") or letter.get("page_keys", []))


def printed_page_keys(letter: Mapping[str, Any]) -> list[str]:
    """The photographed pages the scan prints: none once a volunteer typed the letter in Russian."""
    return [] if letter.get("translation") else page_images(letter)


# ---------------------------------------------------------------- masks over photographed pages

# A note says why, in a few words (the history keeps it; nothing prints it).
MAX_MASK_NOTE_CHARS = 200
# Smaller than this share of a side is a slip of the finger, not a line of handwriting.
MIN_MASK_SIDE = 0.005
# Rounding in a browser (0.1 + 0.2) must not refuse a rectangle drawn up to the page's edge.
_EDGE = 1e-9


class MaskRefused(DecisionRefused):
    """The mask does not fit the letter's pages."""


@dataclass(frozen=True)
class Mask:
    """An opaque rectangle over one photographed page: `page` is its number (1 = first, as the page
    links number them); x, y, width and height are shares 0..1 of the upright image's width and height
    (as stored, before any turning in the viewer)."""

    page: int
    x: float
    y: float
    width: float
    height: float
    note: str = ""

    def box(self) -> tuple[float, float, float, float]:
        return (self.x, self.y, self.width, self.height)

    def checked(self, letter: Mapping[str, Any]) -> Mask:
        pages = len(letter.get("page_keys", []))
        if not pages:
            raise MaskRefused("only a letter with photographed pages can have a region masked")
        if letter.get("translation"):
            raise MaskRefused("a translated letter prints no photographed pages; there is nothing to mask")
        if not 1 <= self.page <= pages:
            raise MaskRefused(f"page {self.page} is not one of the letter's pages (1–{pages})")
        if not all(math.isfinite(value) for value in self.box()):
            raise MaskRefused("x, y, width and height must be numbers (shares 0..1 of the page)")
        if min(self.width, self.height) < MIN_MASK_SIDE:
            raise MaskRefused("the rectangle is empty; draw it over the line to hide")
        if min(self.x, self.y) < 0 or self.x + self.width > 1 + _EDGE or self.y + self.height > 1 + _EDGE:
            raise MaskRefused("the rectangle must lie inside the page (x, y, width and height are shares 0..1)")
        note = " ".join(self.note.split())
        if len(note) > MAX_MASK_NOTE_CHARS:
            raise MaskRefused(f"the note may be at most {MAX_MASK_NOTE_CHARS} characters")
        # Clipped to the page: a rectangle drawn a rounding error past the edge ends at the edge.
        return Mask(self.page, self.x, self.y, min(self.width, 1 - self.x), min(self.height, 1 - self.y), note)


def masks_of(letter: Mapping[str, Any]) -> list[dict[str, Any]]:
    return list(letter.get("masks") or [])


def with_mask(letter: Mapping[str, Any], mask: Mask, by: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(the new mask as stored, all masks after it); its id names the revision it makes, so it is unique."""
    mask = mask.checked(letter)
    stored = {"id": f"m{letter['revision'] + 1}", "page": mask.page, "x": mask.x, "y": mask.y,
              "width": mask.width, "height": mask.height, "note": mask.note or None, "by": by}
    return stored, [*masks_of(letter), stored]


def without_mask(letter: Mapping[str, Any], mask_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(the mask taken off, the masks that stay)."""
    masks = masks_of(letter)
    removed = next((mask for mask in masks if mask["id"] == mask_id), None)
    if removed is None:
        raise MaskRefused(f"the letter has no mask {mask_id!r}")
    return removed, [mask for mask in masks if mask["id"] != mask_id]


def boxes_on(masks: Iterable[Mapping[str, Any]], page: int) -> list[tuple[float, float, float, float]]:
    """The rectangles of one page (numbered from 1), in the order they were drawn."""
    return [(m["x"], m["y"], m["width"], m["height"]) for m in masks if m["page"] == page]


def translation_entries(letter: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """History entries the letter's translation steps owe: (decision key, facts), one per round."""
    entries = []
    sent = letter.get("sent_to_translation")
    if sent:
        entries.append((f"to_translation:{sent['round']}", {"by": sent["by"], "reason": sent.get("note")}))
    translation = letter.get("translation")
    if translation:
        entries.append((f"translated:{translation['round']}", {
            "by": translation["by"], "after": translation["text"], "before": letter["body"],
            "source_language": translation["source_language"], "revision": translation["revision"]}))
    return entries
