"""The moderators' HTTP API (version 1). Routes translate HTTP to use cases and back; role: moderator.

`require_staff("moderator")` also lets admins in. The shapes are in schemas.py.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Header, Query, Request

from services.sorting import masks, moderation, release, translation
from services.sorting.domain import Mask, Redaction
from services.sorting.ports import PageLinks, QueueFilter
from services.sorting.schemas import (
    AgreementView,
    ApproveRequest,
    AwaitingReleaseView,
    BulkApproved,
    BulkApproveRequest,
    ConfirmationNeededAnswer,
    Decided,
    Facets,
    LetterView,
    MaskRequest,
    QueueVersion,
    QueueView,
    RedactRequest,
    Refusal,
    RejectionReasonView,
    RejectRequest,
    TranslateRequest,
    TranslationBacklog,
    agreement_view,
    awaiting_release_view,
    decided,
    letter_view,
    queue_view,
    translation_backlog,
)
from services.sorting.service import SortingDeps
from shared.auth import Principal, require_staff
from shared.rejection_reasons import rejection_reasons as presets


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

router = APIRouter(prefix="/api/v1/moderation", tags=["moderation"])
RESPONSES: dict[int | str, dict[str, Any]] = {401: {}, 403: {}, 404: {}, 409: {}, 422: {}}
APPROVAL_RESPONSES: dict[int | str, dict[str, Any]] = {
    **RESPONSES,
    409: {"model": ConfirmationNeededAnswer,
          "description": "No longer in review, changed since `revision`, or block-level findings not confirmed "
                         "(then with `block_findings`)"},
}


@router.get("/letters", response_model=QueueView, responses={401: {}, 403: {}},
            summary="The moderators' queue, oldest first")
async def review_queue(
    deps: DepsDep,
    _: ModeratorDep,
    prisoner_id: str | None = None,
    campaign_event_id: str | None = None,
    language: Annotated[bool | None, Query(description="Only letters with (true) or without (false) "
                                                       "a language finding")] = None,
    lane: Annotated[Literal["fast", "careful"] | None, Query(description="Only the fast or the careful lane")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> QueueView:
    """Role: moderator."""
    where = QueueFilter(prisoner_id=prisoner_id, campaign_event_id=campaign_event_id, language_flag=language,
                        lane=lane)
    return queue_view(await moderation.review_queue(where, limit, deps), await _translation_backlog(deps))


@router.get("/queue-version", response_model=QueueVersion, responses={401: {}, 403: {}},
            summary="A cheap fingerprint of the queue: the page reloads the queue only when it changed")
async def queue_version(deps: DepsDep, _: ModeratorDep) -> QueueVersion:
    """Role: moderator. `version` changes when a letter arrives in review or in translation, leaves (decided,
    sent to translation, withdrawn) or changes (redaction, mask); one indexed query, no letter's text."""
    version, waiting = await deps.letters.queue_version()
    return QueueVersion(version=version, waiting=waiting)


@router.get("/facets", response_model=Facets, responses={401: {}, 403: {}},
            summary="Prisoners and campaign events with letters waiting, for the queue's filters")
async def facets(deps: DepsDep, _: ModeratorDep) -> Facets:
    """Role: moderator."""
    facets = await deps.letters.queue_facets()
    return Facets.model_validate({**facets, "translation": await _translation_backlog(deps)})


async def _translation_backlog(deps: SortingDeps) -> TranslationBacklog:
    return translation_backlog(await deps.letters.translation_counts(), await deps.letters.translation_oldest_received_at())


@router.get("/letters/{letter_id}", response_model=LetterView, responses={401: {}, 403: {}, 404: {}},
            summary="One letter: its text, findings with offsets, page links and history")
async def letter(letter_id: str, deps: DepsDep, links: LinksDep, lang: LangDep, _: ModeratorDep) -> LetterView:
    """Role: moderator. Page links expire after ten minutes."""
    return letter_view(await moderation.letter_for_moderator(letter_id, deps, links, lang))


@router.post("/letters/{letter_id}/approve", response_model=Decided, responses=APPROVAL_RESPONSES,
             summary="Approve: after the undo window, render the scan, store it, announce letter.ready")
async def approve(
    letter_id: str, deps: DepsDep, lang: LangDep, moderator: ModeratorDep,
    body: Annotated[ApproveRequest | None, Body()] = None,
) -> Decided:
    """Role: moderator. A letter with block-level findings needs `confirmed_findings` naming exactly them
    (409 with `block_findings` otherwise). The answer is `approved` with `undo_until` while the undo
    window lasts (`ready` when there is none). 409 when the letter is no longer in review or changed
    since `revision`."""
    body = body or ApproveRequest()
    return decided(await moderation.approve(letter_id, moderator.subject, deps, body.revision, body.confirmation(),
                                            lang))


@router.post("/letters/{letter_id}/reject", response_model=Decided, responses=RESPONSES,
             summary="Reject with a reason: announce letter.rejected")
async def reject(letter_id: str, body: RejectRequest, deps: DepsDep, moderator: ModeratorDep) -> Decided:
    """Role: moderator. A preset `reason_code` and an optional `note` the writer sees (422 when the note is too
    long or carries an address, a link or a number). 409 when the letter is no longer in review."""
    return decided(await moderation.reject(letter_id, moderator.subject, body.reason, deps,
                                           reason_code=body.reason_code, note=body.note))


@router.get("/rejection-reasons", response_model=list[RejectionReasonView], responses={401: {}, 403: {}},
            summary="The preset reasons for a rejection, in the order the page offers them")
async def rejection_reasons(_: ModeratorDep) -> list[RejectionReasonView]:
    """Role: moderator. Edited in shared/rejection_reasons.yaml."""
    return [RejectionReasonView.model_validate(reason.model_dump()) for reason in presets().reasons]


@router.post("/letters/{letter_id}/redact", response_model=LetterView, responses=APPROVAL_RESPONSES,
             summary="Redact a passage of the text, or correct or clear the printed name or city; optionally approve")
async def redact(
    letter_id: str, body: RedactRequest, deps: DepsDep, links: LinksDep, lang: LangDep, moderator: ModeratorDep
) -> LetterView:
    """Role: moderator. What the writer sent stays in the history; only the redacted version is scanned.
    With `approve`, block-level findings of the redacted letter need `confirmed_findings`; a refused
    approval stores no redaction either."""
    redaction = Redaction(start=body.start, end=body.end, replacement=body.replacement, text=body.text,
                          field=body.field)
    await moderation.redact(letter_id, moderator.subject, redaction, deps, revision=body.revision,
                            then_approve=body.approve, confirmed=body.confirmation(), lang=lang)
    return letter_view(await moderation.letter_for_moderator(letter_id, deps, links, lang))


@router.post("/letters/{letter_id}/masks", response_model=LetterView, responses=RESPONSES,
             summary="Mask a region of a photographed page: burned into the printed page")
async def add_mask(
    letter_id: str, body: MaskRequest, deps: DepsDep, links: LinksDep, lang: LangDep, moderator: ModeratorDep
) -> LetterView:
    """Role: moderator. The rectangle's pixels are filled with opaque black in a new image of the page, which
    the moderator sees from then on and the scan prints; the photo as sent stays stored. Bumps `revision`, and
    the history records who, which page and which rectangle. 409 when the letter is no longer in review or
    changed since `revision`; 422 for a page it does not have, an empty rectangle or one outside the page."""
    mask = Mask(page=body.page, x=body.x, y=body.y, width=body.width, height=body.height, note=body.note)
    await masks.add_mask(letter_id, moderator.subject, mask, deps, revision=body.revision)
    return letter_view(await moderation.letter_for_moderator(letter_id, deps, links, lang))


@router.delete("/letters/{letter_id}/masks/{mask_id}", response_model=LetterView, responses=RESPONSES,
               summary="Take a mask off a page again while the letter is in review")
async def remove_mask(
    letter_id: str, mask_id: str, deps: DepsDep, links: LinksDep, lang: LangDep, moderator: ModeratorDep,
    revision: Annotated[int | None, Query(description="The revision you read; 409 if the letter changed since")]
    = None,
) -> LetterView:
    """Role: moderator. The page is printed again with only its other masks; recorded in the history
    (`unmasked`), bumps `revision`. 422 for a mask the letter does not have."""
    await masks.remove_mask(letter_id, moderator.subject, mask_id, deps, revision=revision)
    return letter_view(await moderation.letter_for_moderator(letter_id, deps, links, lang))


@router.post("/letters/{letter_id}/translate", response_model=Decided, responses=RESPONSES,
             summary="Send a letter in review to a volunteer translator: announce letter.translation_needed")
async def send_to_translation(
    letter_id: str, deps: DepsDep, moderator: ModeratorDep, body: Annotated[TranslateRequest | None, Body()] = None,
) -> Decided:
    """Role: moderator. The letter waits for a translator; their Russian text comes back to review. 409 when the
    letter is no longer in review or changed since `revision`."""
    body = body or TranslateRequest()
    return decided(await translation.send_to_translation(letter_id, moderator.subject, deps, revision=body.revision,
                                                         note=body.note))


@router.post("/letters/{letter_id}/undo", response_model=Decided, responses=RESPONSES,
             summary="Take an approval back within the undo window: the letter returns to review")
async def undo(letter_id: str, deps: DepsDep, moderator: ModeratorDep) -> Decided:
    """Role: moderator. 409 once the window is over (the scan went to delivery) or if it is not approved."""
    return decided(await release.undo(letter_id, moderator.subject, deps))


@router.get("/approved", response_model=AwaitingReleaseView, responses={401: {}, 403: {}},
            summary="Approved letters not yet gone to delivery: undo is possible until `undo_until`; "
                    "those whose scan failed too often wait in `stuck`")
async def awaiting_release(deps: DepsDep, _: ModeratorDep) -> AwaitingReleaseView:
    """Role: moderator."""
    return awaiting_release_view(await release.approvals_on_their_way(deps))


@router.get("/agreement", response_model=AgreementView, responses={401: {}, 403: {}, 422: {}},
            summary="How screening's verdicts compare with moderators' decisions over the last N decided letters")
async def screening_agreement(
    deps: DepsDep, _: ModeratorDep,
    last: Annotated[int, Query(ge=1, le=5000, description="How many of the latest decided letters")] = 200,
) -> AgreementView:
    """Role: moderator. Screening's verdict is the one recorded at decision time, on the letter as written."""
    return agreement_view(last, await moderation.screening_agreement(last, deps))


@router.post("/bulk-approve", response_model=BulkApproved, responses={401: {}, 403: {}, 422: {}},
             summary="Approve a page of clean typed letters; others are refused by name")
async def bulk_approve(body: BulkApproveRequest, deps: DepsDep, moderator: ModeratorDep) -> BulkApproved:
    """Role: moderator. Only typed letters without findings are approved; the rest need reading."""
    result = await moderation.bulk_approve(body.letter_ids, moderator.subject, deps)
    return BulkApproved(approved=result.approved,
                        refused=[Refusal(letter_id=i, reason=reason) for i, reason in result.refused])
