"""The moderators' HTTP API (version 1). Routes translate HTTP to use cases and back; role: moderator.

`require_staff("moderator")` also lets admins in. Offsets (findings, redactions) count Unicode
code points of the letter's current text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Query, Request
from pydantic import BaseModel, Field, model_validator

from services.sorting import moderation
from services.sorting.domain import Redaction
from services.sorting.ports import PageLinks, QueueFilter
from services.sorting.service import SortingDeps
from shared.auth import Principal, require_staff
from shared.screening import Finding

EXCERPT_CHARS = 160


def _deps(request: Request) -> SortingDeps:
    return request.app.state.sorting


def _links(request: Request) -> PageLinks:
    return request.app.state.page_links


def _lang(accept_language: Annotated[str | None, Header()] = None) -> str:
    for lang in ("uk", "ru", "en"):
        if accept_language and accept_language.lower().startswith(lang):
            return lang
    return "en"


DepsDep = Annotated[SortingDeps, Depends(_deps)]
LinksDep = Annotated[PageLinks, Depends(_links)]
LangDep = Annotated[str, Depends(_lang)]
ModeratorDep = Annotated[Principal, Depends(require_staff("moderator"))]


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
        description="Why a moderator must read it: findings, handwritten, prisoner_released, prisoner_deceased…",
        examples=[["findings", "handwritten"]],
    )
    categories: list[str] = Field(description="Finding categories of the current text", examples=[["slogans"]])
    language_flag: bool = Field(description="Screening found a language finding (Ukrainian, foreign, translit)")
    bulk_approvable: bool = Field(description="Typed and without findings: may be approved in bulk")
    revision: int = Field(description="Bumped by every redaction; approve with it to approve what you read")
    excerpt: str


class QueueView(BaseModel):
    total: int = Field(description="Letters waiting that match the filters")
    letters: list[QueueItem] = Field(description="Oldest first")


class PageLink(BaseModel):
    number: int
    url: str = Field(description="Presigned GET link to the photographed page")
    expires_in_s: int


class HistoryEntry(BaseModel):
    decision: str = Field(examples=["screened", "redacted", "approved", "rejected"])
    by: str = Field(description="The staff member's subject, or `sorting` for automatic steps")
    at: datetime
    revision: int | None = None
    reason: str | None = None
    passage: str | None = Field(None, description="The passage a redaction removed")
    replacement: str | None = None
    before: str | None = Field(None, description="The text before a redaction")
    review_reasons: list[str] | None = None


class LetterView(QueueItem):
    state: str = Field(examples=["review_needed", "ready", "rejected"])
    text: str = Field(description="The current text: what the scan will show")
    original_text: str = Field(description="The letter as written; redactions never change it")
    redacted: bool
    findings: list[Finding] = Field(description="Screening of the current text; offsets into `text`")
    rules_version: str
    pages: list[PageLink]
    writer_first_name: str | None = None
    writer_city: str | None = None
    decided_by: str | None = None
    reason: str | None = None
    history: list[HistoryEntry]


class ApproveRequest(BaseModel):
    revision: int | None = Field(None, description="The revision you read; 409 if the letter changed since")


class RejectRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=500, description="Why it will not be sent; the writer sees it")


class RedactRequest(BaseModel):
    """Either a passage {start, end, replacement} of the current text, or the whole redacted {text}."""

    start: int | None = Field(None, ge=0)
    end: int | None = Field(None, ge=0)
    replacement: str = Field("", max_length=2000, examples=["[…]"])
    text: str | None = Field(None, max_length=20_000)
    revision: int | None = Field(None, description="The revision the offsets refer to; 409 if the letter changed")
    approve: bool = Field(False, description="Approve the redacted letter in the same step")

    @model_validator(mode="after")
    def one_shape(self) -> RedactRequest:
        if (self.text is None) == (self.start is None or self.end is None):
            raise ValueError("give either start and end (and a replacement), or the whole redacted text")
        return self


class Decided(BaseModel):
    letter_id: str
    state: str = Field(examples=["ready", "rejected"])
    decided_by: str | None = None
    scan_sha256: str | None = None
    pages: int | None = None
    reason: str | None = None


class BulkApproveRequest(BaseModel):
    letter_ids: list[str] = Field(min_length=1, max_length=100)


class Refusal(BaseModel):
    letter_id: str
    reason: str = Field(description="unknown, not_in_review, handwritten or has_findings")


class BulkApproved(BaseModel):
    approved: list[str]
    refused: list[Refusal] = Field(description="Letters that must be read one by one, and why")


def queue_item(letter: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": letter["_id"],
        **{k: letter.get(k) for k in ("prisoner_id", "prisoner_name_ru", "prisoner_status", "campaign_event_id",
                                       "channel", "received_at", "handwritten", "review_reasons", "categories",
                                       "language_flag", "revision")},
        "page_count": len(letter.get("page_keys", [])),
        "bulk_approvable": not letter["handwritten"] and letter["clean"],
        "excerpt": letter["text"][:EXCERPT_CHARS],
    }


def decided(letter: dict[str, Any]) -> Decided:
    return Decided(letter_id=letter["_id"], **{k: letter.get(k) for k in ("state", "decided_by", "scan_sha256",
                                                                           "pages", "reason")})


router = APIRouter(prefix="/api/v1/moderation", tags=["moderation"])
RESPONSES: dict[int | str, dict[str, Any]] = {401: {}, 403: {}, 404: {}, 409: {}, 422: {}}


@router.get("/letters", response_model=QueueView, responses={401: {}, 403: {}},
            summary="The moderators' queue, oldest first")
async def review_queue(
    deps: DepsDep,
    _: ModeratorDep,
    prisoner_id: str | None = None,
    campaign_event_id: str | None = None,
    language: Annotated[bool | None, Query(description="Only letters with (true) or without (false) "
                                                       "a language finding")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> QueueView:
    """Role: moderator."""
    where = QueueFilter(prisoner_id=prisoner_id, campaign_event_id=campaign_event_id, language_flag=language)
    total, letters = await moderation.review_queue(where, limit, deps)
    return QueueView(total=total, letters=[QueueItem.model_validate(queue_item(letter)) for letter in letters])


class Facets(BaseModel):
    prisoners: list[dict[str, Any]] = Field(examples=[[{"id": "p_demo_01", "name": "Ремзи Демо", "count": 3}]])
    campaign_events: list[dict[str, Any]] = Field(examples=[[{"id": "e_demo_kyiv_book_fair", "count": 2}]])


@router.get("/facets", response_model=Facets, responses={401: {}, 403: {}},
            summary="Prisoners and campaign events with letters waiting, for the queue's filters")
async def facets(deps: DepsDep, _: ModeratorDep) -> Facets:
    """Role: moderator."""
    return Facets.model_validate(await deps.letters.queue_facets())


@router.get("/letters/{letter_id}", response_model=LetterView, responses={401: {}, 403: {}, 404: {}},
            summary="One letter: its text, findings with offsets, page links and history")
async def letter(letter_id: str, deps: DepsDep, links: LinksDep, lang: LangDep, _: ModeratorDep) -> LetterView:
    """Role: moderator. Page links expire after ten minutes."""
    return letter_view(await moderation.letter_for_moderator(letter_id, deps, links, lang))


def letter_view(found: moderation.LetterForModerator) -> LetterView:
    letter = found.letter
    return LetterView(
        **queue_item(letter),
        state=letter["state"],
        text=letter["text"],
        original_text=letter["body"],
        redacted=letter["text"] != letter["body"],
        findings=found.screening.findings,
        rules_version=found.screening.rules_version,
        pages=[PageLink(number=n, url=url, expires_in_s=moderation.PAGE_LINK_SECONDS)
               for n, url in enumerate(found.page_links, start=1)],
        **{k: letter.get(k) for k in ("writer_first_name", "writer_city", "decided_by", "reason")},
        history=[HistoryEntry.model_validate(entry) for entry in found.history],
    )


@router.post("/letters/{letter_id}/approve", response_model=Decided, responses=RESPONSES,
             summary="Approve: render the scan, store it, announce letter.ready")
async def approve(
    letter_id: str, deps: DepsDep, moderator: ModeratorDep, body: Annotated[ApproveRequest | None, Body()] = None
) -> Decided:
    """Role: moderator. 409 when the letter is no longer in review or changed since `revision`."""
    return decided(await moderation.approve(letter_id, moderator.subject, deps, body.revision if body else None))


@router.post("/letters/{letter_id}/reject", response_model=Decided, responses=RESPONSES,
             summary="Reject with a reason: announce letter.rejected")
async def reject(letter_id: str, body: RejectRequest, deps: DepsDep, moderator: ModeratorDep) -> Decided:
    """Role: moderator. 409 when the letter is no longer in review."""
    return decided(await moderation.reject(letter_id, moderator.subject, body.reason, deps))


@router.post("/letters/{letter_id}/redact", response_model=LetterView, responses=RESPONSES,
             summary="Redact a passage (or give the whole redacted text); optionally approve")
async def redact(
    letter_id: str, body: RedactRequest, deps: DepsDep, links: LinksDep, lang: LangDep, moderator: ModeratorDep
) -> LetterView:
    """Role: moderator. The letter as written stays in the history; only the redacted text is scanned."""
    redaction = Redaction(start=body.start, end=body.end, replacement=body.replacement, text=body.text)
    await moderation.redact(letter_id, moderator.subject, redaction, deps, revision=body.revision,
                            then_approve=body.approve)
    return letter_view(await moderation.letter_for_moderator(letter_id, deps, links, lang))


@router.post("/bulk-approve", response_model=BulkApproved, responses={401: {}, 403: {}, 422: {}},
             summary="Approve a page of clean typed letters; others are refused by name")
async def bulk_approve(body: BulkApproveRequest, deps: DepsDep, moderator: ModeratorDep) -> BulkApproved:
    """Role: moderator. Only typed letters without findings are approved; the rest need reading."""
    result = await moderation.bulk_approve(body.letter_ids, moderator.subject, deps)
    return BulkApproved(approved=result.approved,
                        refused=[Refusal(letter_id=i, reason=reason) for i, reason in result.refused])
