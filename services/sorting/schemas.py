"""The moderators' HTTP shapes (version 1): requests, answers, and how a letter maps onto them.

Offsets (findings, redactions) count Unicode code points of the current value of the field they
name: the letter's text, or the writer's first name or city as printed.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from services.sorting import moderation, release
from services.sorting.domain import (
    LANES,
    Agreement,
    PrintedField,
    first_approval_of,
    printed_fields,
    signature_line,
    was_redacted,
)
from shared.events import MAX_LETTER_CHARS, utc_now
from shared.screening import Finding

EXCERPT_CHARS = 160


class QueueItem(BaseModel):
    id: str = Field(examples=["l_4f9c2a7d1e8b0a1c2d3e"])
    prisoner_id: str
    prisoner_name_ru: str
    prisoner_status: str
    campaign_event_id: str | None = None
    channel: str
    received_at: datetime
    handwritten: bool
    page_count: int = Field(description="Photographed pages (0 for a typed letter)")
    review_reasons: list[str] = Field(
        description="Why a moderator must read it: findings, handwritten, prisoner_released, prisoner_deceased, "
                    "translated (a volunteer's Russian version of a letter in another language), over_page_limit "
                    "(longer than the prisoner's facility hands over)…",
        examples=[["findings", "handwritten"]],
    )
    categories: list[str] = Field(description="Finding categories of the current text", examples=[["slogans"]])
    language_flag: bool = Field(description="Screening found a language finding (Ukrainian, foreign, translit)")
    bulk_approvable: bool = Field(description="Typed and without findings: may be approved in bulk")
    lane: Literal["fast", "careful"] = Field(
        description="fast: a clean typed letter to a prisoner who can receive letters, may be read a page at a "
                    "time; careful: flagged (in the text, name or city), handwritten, or for a prisoner who "
                    "cannot receive letters")
    block: bool = Field(description="Screening found block-level findings: approving needs their confirmation")
    revision: int = Field(description="Bumped by every redaction; approve with it to approve what you read")
    excerpt: str


class LaneCounts(BaseModel):
    fast: int
    careful: int


class TranslationBacklog(BaseModel):
    total: int = Field(description="Letters waiting for a volunteer's translation")
    languages: dict[str, int] = Field(description="How many of them by detected language (und: not known)",
                                      examples=[{"de": 2, "uk": 5}])
    oldest_waiting_s: float | None = Field(
        None, description="How long the longest-waiting of them has been with us since it was received")


def translation_backlog(counts: dict[str, int], oldest_received_at: datetime | None = None,
                        now: datetime | None = None) -> TranslationBacklog:
    waited = None if oldest_received_at is None else max(0.0, ((now or utc_now()) - oldest_received_at).total_seconds())
    return TranslationBacklog(total=sum(counts.values()), languages=dict(sorted(counts.items())),
                              oldest_waiting_s=waited)


class QueueView(BaseModel):
    total: int = Field(description="Letters waiting that match the filters (and the lane, if given)")
    lanes: LaneCounts = Field(description="Letters waiting in each lane that match the other filters")
    letters: list[QueueItem] = Field(description="Oldest first")
    translation: TranslationBacklog = Field(description="Letters waiting for translation (not in this queue)")


class PageLink(BaseModel):
    number: int
    url: str = Field(description="Presigned GET link to the photographed page")
    expires_in_s: int


class MaskRectangle(BaseModel):
    x: float = Field(ge=0, le=1, description="Left edge, as a share of the upright image's width")
    y: float = Field(ge=0, le=1, description="Top edge, as a share of the upright image's height")
    width: float = Field(gt=0, le=1, description="As a share of the image's width")
    height: float = Field(gt=0, le=1, description="As a share of the image's height")


class MaskView(MaskRectangle):
    id: str = Field(examples=["m3"], description="Names the mask to take it off again")
    page: int = Field(description="The page's number, as in `pages[].number` (1 = first)")
    note: str | None = Field(None, description="The moderator's note: why (kept in the history, never printed)")
    by: str = Field(description="The moderator who drew it")


class MaskRequest(MaskRectangle):
    """An opaque rectangle over one photographed page, in shares 0..1 of the image as stored (upright,
    before any turning in the viewer). Its pixels are burned into the printed page."""

    page: int = Field(ge=1, description="The page's number, as in `pages[].number` (1 = first); 422 if the "
                                        "letter has no such page")
    note: str = Field("", max_length=200, description="Why, in a few words: kept in the history, never printed")
    revision: int | None = Field(None, description="The revision you read; 409 if the letter changed since")


class QueueVersion(BaseModel):
    """Changes whenever a letter comes into the moderators' queue or the translators', leaves it, or
    changes (a redaction, a mask): the page asks for this every few seconds and reloads the queue only
    when it changed."""

    version: str = Field(examples=["3f9a1c0b7d2e4a61"])
    waiting: int = Field(description="Letters waiting for a moderator (both lanes, no filters)")


class HistoryEntry(BaseModel):
    decision: str = Field(examples=["screened", "to_translation", "translated", "redacted", "masked", "unmasked",
                                    "first_approval", "approved", "undone", "rejected"])
    by: str = Field(description="The staff member's subject, or `sorting` for automatic steps")
    at: datetime
    revision: int | None = None
    reason: str | None = None
    field: str | None = Field(None, description="What a redaction changed: body, writer_first_name or writer_city")
    passage: str | None = Field(None, description="The passage a redaction removed")
    replacement: str | None = None
    before: str | None = Field(None, description="The text (or name, or city) before a redaction")
    after: str | None = Field(None, description="The text (or name, or city) after a redaction; null: cleared")
    review_reasons: list[str] | None = None
    confirmed_findings: list[str] | None = Field(
        None, description="Block-level findings the moderator confirmed when approving, as field/rule")
    mask_id: str | None = Field(None, description="The mask a `masked` or `unmasked` entry put on or took off")
    page: int | None = Field(None, description="The page a mask covers (1 = first)")
    rectangle: MaskRectangle | None = Field(None, description="The masked rectangle, in shares of the page")
    note: str | None = Field(None, description="The moderator's note on a mask")
    masks: list[MaskView] | None = Field(None, description="With an approval: the masks burned into the printed "
                                                           "pages of the approved revision")


class TranslationView(BaseModel):
    text: str = Field(description="The volunteer's Russian text as submitted (the scan prints `text`)")
    by: str = Field(description="The translator's staff subject")
    at: datetime
    source_language: str | None = Field(None, examples=["de"])


class LetterView(QueueItem):
    state: str = Field(examples=["review_needed", "awaiting_translation", "approved", "ready", "rejected"])
    text: str = Field(description="The current text: what the scan will show")
    original_text: str = Field(description="The letter as written; redactions and translations never change it")
    redacted: bool = Field(description="A moderator changed the text, the printed name or the city, or masked a "
                                       "region of a page")
    translation: TranslationView | None = Field(
        None, description="A volunteer's Russian version: the printed text, screened and read like any letter")
    source_language: str | None = Field(None, description="The language screening found in the letter as written")
    findings: list[Finding] = Field(
        description="Screening of everything printed: each finding names its `field` (body, writer_first_name, "
                    "writer_city, transcription) and its offsets count inside that field's current value")
    rules_version: str
    pages: list[PageLink] = Field(description="The photographed pages as the scan prints them: masks burned in")
    masks: list[MaskView] = Field(default_factory=list,
                                  description="Regions of the pages a moderator masked (already black in `pages`)")
    transcription: str | None = Field(
        None, description="A moderator's reading of the photographed pages, screened like typed text; never printed "
                          "(the scan prints the photos). Set with redact, field `transcription`")
    writer_first_name: str | None = Field(None, description="The first name as the scan prints it")
    writer_city: str | None = Field(None, description="The city as the scan prints it")
    original_writer_first_name: str | None = Field(None, description="The first name as the writer gave it")
    original_writer_city: str | None = Field(None, description="The city as the writer gave it")
    signature: str = Field(description="The line under the letter on the scan, exactly as printed",
                           examples=["Оксана, Полтава"])
    first_approved_by: str | None = Field(
        None, description="With the second-moderator rule: who gave the first of two approvals of this version")
    undo_until: datetime | None = Field(None, description="An approved letter can be taken back until then")
    decided_by: str | None = None
    reason: str | None = None
    history: list[HistoryEntry]


class ConfirmedFinding(BaseModel):
    """A block-level finding the moderator read and confirms as safe to print."""

    rule: str = Field(max_length=200, examples=["slogans.glory_to_ukraine"])
    field: PrintedField = Field("body", examples=["writer_first_name"])


class ApproveRequest(BaseModel):
    revision: int | None = Field(None, description="The revision you read; 409 if the letter changed since")
    confirmed_findings: list[ConfirmedFinding] | None = Field(
        None, max_length=100,
        description="Needed when the letter has block-level findings: exactly those findings (rule and field). "
                    "Without them, or when they no longer match the letter, the answer is 409 with "
                    "`block_findings`.")

    def confirmation(self) -> set[tuple[str, str]] | None:
        return None if self.confirmed_findings is None else {(f.rule, f.field) for f in self.confirmed_findings}


class ConfirmationNeededAnswer(BaseModel):
    """409 when an approval lacks (or no longer matches) the confirmation of block-level findings."""

    detail: str
    state: str = Field(examples=["review_needed"])
    block_findings: list[Finding] = Field(description="Confirm exactly these (rule and field) to approve")


class TranslateRequest(BaseModel):
    revision: int | None = Field(None, description="The revision you read; 409 if the letter changed since")
    note: str | None = Field(None, max_length=500, description="For the translator: what to translate, or why")


class RejectRequest(BaseModel):
    reason_code: str | None = Field(
        None, description="A preset from GET /rejection-reasons; the writer reads its text in their language",
        examples=["slogan_or_symbol"])
    note: str | None = Field(
        None, max_length=1000, description="Optional, the writer sees it: plain text, at most 300 characters, no "
                                           "e-mail addresses, links or phone numbers. Needed with `other`")
    reason: str | None = Field(
        None, min_length=1, max_length=500,
        description="Older clients: free text without a preset, taken as `other` with this as its note")


class RejectionReasonView(BaseModel):
    code: str = Field(examples=["not_in_russian"])
    label: dict[str, str] = Field(description="For the moderator: uk, ru, en")
    writer: dict[str, str] = Field(description="What the writer reads on the receipt: uk, en, ru")
    fixable: bool = Field(description="The writer may edit the letter and send it again")


class RedactRequest(BaseModel):
    """Either a passage {start, end, replacement} of the current value, or the whole new {text}.

    `field` says what is redacted: the letter's text (`body`, the default), or the writer's first
    name or city as printed on the scan (`{"field": "writer_city", "text": ""}` clears the city).
    """

    field: PrintedField = Field("body", description="body, writer_first_name, writer_city, or transcription (of a "
                                                     "letter with photographed pages; empty text removes it)")
    start: int | None = Field(None, ge=0)
    end: int | None = Field(None, ge=0)
    replacement: str = Field("", max_length=2000, examples=["[…]"])
    text: str | None = Field(None, max_length=MAX_LETTER_CHARS)
    revision: int | None = Field(None, description="The revision the offsets refer to; 409 if the letter changed")
    approve: bool = Field(False, description="Approve the redacted letter in the same step")
    confirmed_findings: list[ConfirmedFinding] | None = Field(
        None, max_length=100, description="With `approve`: the block-level findings of the redacted letter")

    def confirmation(self) -> set[tuple[str, str]] | None:
        return None if self.confirmed_findings is None else {(f.rule, f.field) for f in self.confirmed_findings}

    @model_validator(mode="after")
    def one_shape(self) -> RedactRequest:
        if (self.text is None) == (self.start is None or self.end is None):
            raise ValueError("give either start and end (and a replacement), or the whole redacted text")
        return self


class Decided(BaseModel):
    letter_id: str
    state: str = Field(description="approved: waiting out the undo window; review_needed: after an undo, or "
                                   "the first of two approvals", examples=["approved", "ready", "rejected"])
    decided_by: str | None = None
    scan_sha256: str | None = None
    pages: int | None = None
    reason: str | None = None
    undo_until: datetime | None = Field(None, description="An approved letter goes to delivery then; undo until then")
    awaiting_second_moderator: bool = Field(
        False, description="The first of two approvals is recorded; another moderator must approve")


class BulkApproveRequest(BaseModel):
    letter_ids: list[str] = Field(min_length=1, max_length=100)


class Refusal(BaseModel):
    letter_id: str
    reason: str = Field(description="unknown, not_in_review, handwritten or has_findings")


class BulkApproved(BaseModel):
    approved: list[str]
    refused: list[Refusal] = Field(description="Letters that must be read one by one, and why")


class Facets(BaseModel):
    prisoners: list[dict[str, Any]] = Field(examples=[[{"id": "p_demo_01", "name": "Ремзи Демо", "count": 3}]])
    campaign_events: list[dict[str, Any]] = Field(examples=[[{"id": "e_demo_kyiv_book_fair", "count": 2}]])
    translation: TranslationBacklog = Field(description="Letters waiting for translation, by language")


class ApprovedLetterItem(BaseModel):
    """An approved letter not yet gone to delivery, as the moderators' list shows it."""

    id: str
    prisoner_id: str
    prisoner_name_ru: str
    decided_by: str
    excerpt: str


class AwaitingReleaseItem(ApprovedLetterItem):
    undo_until: datetime = Field(description="When the scan goes to delivery")
    seconds_left: int = Field(description="Seconds left to undo, rounded up")


class StuckApprovalItem(ApprovedLetterItem):
    failures: int = Field(description="How many times its scan failed")
    error: str = Field(description="The last failure, as the service logged it")


class AwaitingReleaseView(BaseModel):
    letters: list[AwaitingReleaseItem] = Field(description="The soonest to go first")
    stuck: list[StuckApprovalItem] = Field(
        default_factory=list,
        description="Approved letters whose scan failed too often for a reason other than an outage: no longer "
                    "retried until a moderator approves again (`POST …/approve`), oldest decision first")


class Share(BaseModel):
    count: int
    share: float = Field(description="count / decided (0 when nothing was decided)", examples=[0.05])


class AgreementView(BaseModel):
    last: int = Field(description="How many of the latest decided letters were asked for")
    decided: int = Field(description="Typed letters to prisoners who can receive letters, decided by a moderator "
                                     "(screening cannot read photographs; a released prisoner is not a finding)")
    agreed: Share = Field(description="Flagged and redacted or rejected, or clean and approved as written")
    missed_by_screening: Share = Field(description="Clean by screening, but redacted or rejected")
    flagged_needlessly: Share = Field(description="Flagged by screening, but approved as written")



def queue_item(letter: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": letter["_id"],
        **{k: letter.get(k) for k in ("prisoner_id", "prisoner_name_ru", "prisoner_status", "campaign_event_id",
                                       "channel", "received_at", "handwritten", "review_reasons", "categories",
                                       "language_flag", "revision")},
        "page_count": len(letter.get("page_keys", [])),
        "bulk_approvable": not letter["handwritten"] and letter["clean"],
        # Registered before the lanes existed: careful, as anything not known to be clean.
        "lane": letter.get("lane", "careful"),
        "block": letter.get("block", False),
        "excerpt": letter["text"][:EXCERPT_CHARS],
    }


def undo_until(letter: dict[str, Any]) -> datetime | None:
    return letter.get("undo_until") if letter["state"] == "approved" else None


def decided(letter: dict[str, Any]) -> Decided:
    return Decided(
        letter_id=letter["_id"], **{k: letter.get(k) for k in ("state", "decided_by", "scan_sha256", "pages", "reason")},
        undo_until=undo_until(letter),
        awaiting_second_moderator=first_approval_of(letter) is not None,
    )


def letter_view(found: moderation.LetterForModerator) -> LetterView:
    letter = found.letter
    printed = printed_fields(letter)
    return LetterView(
        **queue_item(letter),
        state=letter["state"],
        text=letter["text"],
        original_text=letter["body"],
        transcription=letter.get("transcription"),
        redacted=was_redacted(letter),
        translation=letter.get("translation"),
        source_language=letter.get("source_language"),
        findings=found.screening.findings,
        rules_version=found.screening.rules_version,
        pages=[PageLink(number=n, url=url, expires_in_s=moderation.PAGE_LINK_SECONDS)
               for n, url in enumerate(found.page_links, start=1)],
        **printed,
        original_writer_first_name=letter.get("writer_first_name"),
        original_writer_city=letter.get("writer_city"),
        signature=signature_line(printed["writer_first_name"], printed["writer_city"]),
        first_approved_by=first_approval_of(letter),
        undo_until=undo_until(letter),
        **{k: letter.get(k) for k in ("decided_by", "reason")},
        history=[HistoryEntry.model_validate(entry) for entry in found.history],
        masks=[MaskView.model_validate(mask) for mask in letter.get("masks") or []],
    )


def queue_view(queue: moderation.ReviewQueue, translation: TranslationBacklog) -> QueueView:
    return QueueView(total=queue.total, lanes=LaneCounts(**{name: queue.lanes.get(name, 0) for name in LANES}),
                     letters=[QueueItem.model_validate(queue_item(letter)) for letter in queue.letters],
                     translation=translation)


def awaiting_release_view(going: release.OnTheirWay) -> AwaitingReleaseView:
    return AwaitingReleaseView(letters=[
        AwaitingReleaseItem(
            id=item.letter["_id"], prisoner_id=item.letter["prisoner_id"],
            prisoner_name_ru=item.letter["prisoner_name_ru"], decided_by=item.letter["decided_by"],
            undo_until=item.letter["undo_until"], seconds_left=math.ceil(item.seconds_left),
            excerpt=item.letter["text"][:EXCERPT_CHARS],
        ) for item in going.waiting
    ], stuck=[
        StuckApprovalItem(
            id=letter["_id"], prisoner_id=letter["prisoner_id"], prisoner_name_ru=letter["prisoner_name_ru"],
            decided_by=letter.get("decided_by") or "", failures=letter.get("release_failures", 0),
            error=letter.get("release_error") or "", excerpt=letter["text"][:EXCERPT_CHARS],
        ) for letter in going.stuck
    ])


def agreement_view(last: int, figures: Agreement) -> AgreementView:
    return AgreementView(last=last, decided=figures.decided, **{
        name: Share(count=getattr(figures, name), share=figures.share(getattr(figures, name)))
        for name in ("agreed", "missed_by_screening", "flagged_needlessly")
    })
