"""Delivery's HTTP API for bundles (build, send, download, re-queue, outcome, those awaiting confirmation)
and prisoners' replies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Query, Response, UploadFile
from pydantic import BaseModel, Field

from services.delivery import bundling, handover, release, sending
from services.delivery.api import DeliveryDep, Operator, OutcomeRequest, actor
from services.delivery.model import Bundle, BundleState, ReleaseRecipient
from services.delivery.monitor import LIST_LIMIT, AwaitingBundle, awaiting_confirmation

router = APIRouter(prefix="/api/v1", tags=["bundles"])


class BundleView(BaseModel):
    """A bundle without its storage keys: the file is reached only through a short-lived link."""

    bundle_id: str
    intermediary_id: str | None = Field(description="Empty for a hand-over on release")
    prisoner_id: str
    channel: str
    state: BundleState
    letter_ids: list[str]
    pages: int
    bytes: int
    pdf_sha256: str | None
    created_at: datetime
    sent_at: datetime | None
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    sent_by: str | None
    purpose: str = Field("route", description="route: to an intermediary; release: handed over on a release")
    recipient: str | None = Field(None, description="For a release bundle: person or family")

    @classmethod
    def of(cls, bundle: Bundle) -> BundleView:
        return cls(bundle_id=bundle.id, intermediary_id=bundle.intermediary_id, prisoner_id=bundle.prisoner_id,
                   channel=bundle.channel, state=bundle.state, letter_ids=bundle.letter_ids, pages=bundle.pages,
                   bytes=bundle.pdf_bytes, pdf_sha256=bundle.pdf_sha256, created_at=bundle.created_at,
                   sent_at=bundle.sent_at, attempts=bundle.attempts,
                   next_attempt_at=bundle.next_attempt_at if bundle.state == "ready" else None,
                   last_error=bundle.last_error, sent_by=bundle.sent_by, purpose=bundle.purpose,
                   recipient=bundle.recipient)


@router.get("/bundles", response_model=list[BundleView], summary="Bundles in a state")
async def bundles(_: Operator, delivery: DeliveryDep, state: BundleState = "ready",
                  limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[BundleView]:
    """Role: operator or admin."""
    return [BundleView.of(b) for b in await delivery.bundles.listing([state], limit)]


@router.get("/bundles/awaiting-confirmation", response_model=list[AwaitingBundle], tags=["monitor"],
            summary="Bundles sent whose letters have no outcome yet, longest out first")
async def awaiting(_: Operator, delivery: DeliveryDep,
                   limit: Annotated[int, Query(ge=1, le=500)] = LIST_LIMIT) -> list[AwaitingBundle]:
    """Role: operator or admin. The monitor shows them with how long ago each left; a bundle stays
    `sent` once answered, so `GET /bundles?state=sent` cannot tell these apart."""
    return await awaiting_confirmation(delivery, limit)


@router.get("/bundles/{bundle_id}", response_model=BundleView, summary="One bundle")
async def bundle(bundle_id: str, _: Operator, delivery: DeliveryDep) -> BundleView:
    """Role: operator or admin."""
    return BundleView.of(await bundling.get_bundle(delivery, bundle_id))


class BuildRequest(BaseModel):
    intermediary_id: str | None = Field(None, description="Only this intermediary; all with queued letters if empty")


class BuildReport(BaseModel):
    made: list[str] = Field(description="Ids of the bundles made")
    skipped: dict[str, str] = Field(description="Intermediaries without a new bundle, and why")


@router.post("/bundles/build", response_model=BuildReport,
             summary="Build bundles now, without waiting for the schedule")
async def build(request: BuildRequest, who: Operator, delivery: DeliveryDep) -> BuildReport:
    """Role: operator or admin. One bundle per intermediary at a time, at most their capacity."""
    report = await bundling.build_bundles(delivery, request.intermediary_id)
    principal = actor(who)
    await delivery.audit.record(principal.who, "bundles.build", request.intermediary_id or "all", role=principal.role,
                                made=report.made)
    return BuildReport(made=report.made, skipped=report.skipped)


class SendAnswer(BaseModel):
    bundle: BundleView
    confirm_url: str | None = Field(
        None, description="The intermediary's personal confirmation link, shown once: pass it on with a manual bundle")


@router.post("/bundles/{bundle_id}/send", response_model=SendAnswer,
             summary="Send a bundle now (e-mail), or record that it was handed off (manual)")
async def send(bundle_id: str, who: Operator, delivery: DeliveryDep) -> SendAnswer:
    """Role: operator or admin. A bundle already sent is answered as it is; 409 for a failed one (re-queue it)."""
    sent, confirm_url = await sending.send_now(delivery, bundle_id, actor(who))
    return SendAnswer(bundle=BundleView.of(sent), confirm_url=confirm_url)


@router.post("/bundles/{bundle_id}/requeue", response_model=BundleView, summary="Give a failed bundle new attempts")
async def requeue(bundle_id: str, who: Operator, delivery: DeliveryDep) -> BundleView:
    """Role: operator or admin."""
    return BundleView.of(await sending.requeue(delivery, bundle_id, actor(who)))


class DownloadLink(BaseModel):
    url: str
    expires_in_s: int


@router.post("/bundles/{bundle_id}/download-link", response_model=DownloadLink,
             summary="A link to the bundle's PDF, valid for minutes")
async def download_link(bundle_id: str, who: Operator, delivery: DeliveryDep, response: Response) -> DownloadLink:
    """Role: operator or admin. Every link handed out is in the audit log."""
    url, ttl = await sending.download_link(delivery, bundle_id, actor(who))
    response.headers["Cache-Control"] = "no-store"
    return DownloadLink(url=url, expires_in_s=ttl)


class OutcomeAnswer(BaseModel):
    letters: int = Field(description="Letters whose state changed")


@router.post("/bundles/{bundle_id}/outcome", response_model=OutcomeAnswer,
             summary="Record one outcome for every sent letter of a bundle")
async def bundle_outcome(bundle_id: str, request: OutcomeRequest, who: Operator,
                         delivery: DeliveryDep) -> OutcomeAnswer:
    """Role: operator or admin."""
    found = await bundling.get_bundle(delivery, bundle_id)
    return OutcomeAnswer(letters=await handover.bundle_outcome(delivery, found, request.outcome, request.reason,
                                                               actor(who)))


class ReplyAnswer(BaseModel):
    reply_id: str
    prisoner_id: str
    letter_ids: list[str]
    sha256: str
    content_type: str


@router.post("/replies", status_code=201, response_model=ReplyAnswer, tags=["replies"],
             responses={200: {"model": ReplyAnswer, "description": "The same scan was uploaded before"}},
             summary="Upload a prisoner's reply (PDF or JPEG) and link it to the letters it answers")
async def upload_reply(
    who: Operator, delivery: DeliveryDep, response: Response,
    prisoner_id: Annotated[str, Form()],
    letter_ids: Annotated[list[str], Form(description="Repeat the field, or separate ids with commas")],
    scan: Annotated[UploadFile, File(description="PDF or JPEG, at most 20 MB")],
) -> ReplyAnswer:
    """Role: operator or admin. Each letter's writer learns of it (`letter.answered`)."""
    data = await scan.read(handover.MAX_REPLY_BYTES + 1)
    if len(data) > handover.MAX_REPLY_BYTES:
        raise HTTPException(413, "a reply scan is at most 20 MB")
    if not data.startswith(tuple(handover.REPLY_TYPES)):
        raise HTTPException(415, "a reply is a PDF or a JPEG scan")
    ids = [part.strip() for field in letter_ids for part in field.split(",") if part.strip()]
    reply, created = await handover.record_reply(delivery, prisoner_id, ids, data, actor(who))
    if not created:
        response.status_code = 200
    return ReplyAnswer(reply_id=reply.reply_id, prisoner_id=reply.prisoner_id, letter_ids=reply.letter_ids,
                       sha256=reply.sha256, content_type=reply.content_type)


class ReleaseHandOver(BaseModel):
    recipient: ReleaseRecipient = Field(description="person: the released person themselves; family: their family "
                                                    "(the only choice when the prisoner has died)")


class ReleaseAnswer(BaseModel):
    bundle: BundleView
    download_url: str = Field(description="The bundle's PDF, every kept letter after one cover; valid for minutes")
    expires_in_s: int


@router.post("/prisoners/{prisoner_id}/release-hand-over", status_code=201, response_model=ReleaseAnswer,
             tags=["release"], responses={404: {"description": "No such prisoner"},
                                          409: {"description": "Not released (or deceased), or no letters kept"}},
             summary="Hand every letter kept for a released prisoner to them or their family, as one bundle")
async def release_hand_over(prisoner_id: str, request: ReleaseHandOver, who: Operator, delivery: DeliveryDep,
                            response: Response) -> ReleaseAnswer:
    """Role: operator or admin. The kept letters (held, not archived) become one PDF; each is marked
    handed_over (`handed_over_to`: person or family) and announced, so writers who consented are told.
    Audited, like the download link it answers with."""
    made = await release.hand_over_on_release(delivery, prisoner_id, request.recipient, actor(who))
    url, ttl = await sending.download_link(delivery, made.id, actor(who))
    response.headers["Cache-Control"] = "no-store"
    return ReleaseAnswer(bundle=BundleView.of(made), download_url=url, expires_in_s=ttl)
