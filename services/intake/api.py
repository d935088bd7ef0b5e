"""Intake's HTTP API (version 1). Route functions only translate HTTP to use cases and back."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field

from services.intake.domain import LetterSubmission, TimelineEntry, receipt_matches
from services.intake.service import Submitter, accept_letter
from shared.screening import Finding, screen


class LetterAccepted(BaseModel):
    id: str = Field(examples=["l_4f9c2a7d1e8b0a1c2d3e"])
    status: str = Field(examples=["received"])
    receipt_token: str = Field(description="Shows the letter's status; keep it, it is not stored in plain form")
    verdict: str = Field(description="Screening verdict the moderators will see: ok or review")
    findings: list[Finding]


class ScreeningAnswer(BaseModel):
    verdict: str
    findings: list[Finding]


class LetterStatusView(BaseModel):
    id: str
    prisoner_id: str
    status: str
    timeline: list[TimelineEntry]
    verdict: str
    findings: list[Finding]


class PrisonerView(BaseModel):
    id: str
    names: dict[str, str] = Field(description="uk, ru and en")
    description: dict[str, str] = Field(default_factory=dict)
    status: str
    birthday: date | None = None
    letters_received: int = 0


def _runtime(request: Request) -> Any:
    return request.app.state.intake


IntakeDep = Annotated[Any, Depends(_runtime)]


def bearer(authorization: Annotated[str | None, Header()] = None) -> str | None:
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return None


BearerDep = Annotated[str | None, Depends(bearer)]


def _lang(accept_language: str | None) -> str:
    for lang in ("uk", "ru", "en"):
        if accept_language and accept_language.lower().startswith(lang):
            return lang
    return "en"


router = APIRouter(prefix="/api/v1", tags=["letters"])


async def _submitter(intake: Any, submission: LetterSubmission, token: str | None) -> Submitter:
    if submission.source.channel == "web":
        return Submitter(channel="web")
    kiosk = await intake.tokens.find(token) if token else None
    if kiosk is None:
        raise HTTPException(401, "a kiosk submits with its bearer token")
    if kiosk["role"] != "kiosk":
        raise HTTPException(403, "this token is not a kiosk token")
    return Submitter(channel="kiosk", campaign_event_id=kiosk["event_id"], kiosk_id=kiosk["subject"])


@router.post(
    "/letters",
    status_code=201,
    response_model=LetterAccepted,
    responses={200: {"description": "Same client_ref sent again: the same letter"}, 404: {}, 409: {}, 503: {}},
    summary="Submit a letter (web or kiosk)",
)
async def submit_letter(
    submission: LetterSubmission,
    response: Response,
    intake: IntakeDep,
    token: BearerDep,
    accept_language: Annotated[str | None, Header()] = None,
) -> LetterAccepted:
    submitter = await _submitter(intake, submission, token)
    accepted = await accept_letter(submission, submitter, lang=_lang(accept_language), **intake.use_case_deps())
    if not accepted.created:
        response.status_code = 200
    return LetterAccepted(
        id=accepted.letter.id,
        status=accepted.letter.status,
        receipt_token=accepted.receipt_token,
        verdict=accepted.screening.verdict,
        findings=accepted.screening.findings,
    )


@router.post("/letters/check", response_model=ScreeningAnswer, summary="Screen a letter without storing it")
async def check_letter(
    submission: LetterSubmission, accept_language: Annotated[str | None, Header()] = None
) -> ScreeningAnswer:
    result = screen(submission.body, lang=_lang(accept_language))
    return ScreeningAnswer(verdict=result.verdict, findings=result.findings)


@router.get(
    "/letters/{letter_id}",
    response_model=LetterStatusView,
    responses={404: {"description": "No such letter, or the token does not open it"}},
    summary="A letter's status and timeline (receipt token or staff token)",
)
async def letter_status(
    letter_id: str,
    intake: IntakeDep,
    token: BearerDep,
    receipt_token: Annotated[str | None, Query(description="The receipt token, when a link is opened")] = None,
    accept_language: Annotated[str | None, Header()] = None,
) -> LetterStatusView:
    letter = await intake.letters.get(letter_id)
    offered = token or receipt_token
    # One answer for "no such letter" and "not yours": ids cannot be probed.
    if letter is None or not offered or not await _may_read(intake, letter_id, offered):
        raise HTTPException(404, "no such letter")
    result = screen(letter.body, lang=_lang(accept_language))
    return LetterStatusView(
        id=letter.id,
        prisoner_id=letter.prisoner_id,
        status=letter.status,
        timeline=await intake.letters.timeline(letter.id),
        verdict=result.verdict,
        findings=result.findings,
    )


async def _may_read(intake: Any, letter_id: str, token: str) -> bool:
    if receipt_matches(intake.receipt_secret, letter_id, token):
        return True
    staff = await intake.tokens.find(token)
    return staff is not None and staff["role"] in ("moderator", "operator", "admin")


@router.get("/prisoners", response_model=list[PrisonerView], tags=["prisoners"], summary="Public directory")
async def prisoners(intake: IntakeDep) -> list[PrisonerView]:
    """Prisoners with the fewest letters come first, so attention is spread fairly."""
    return [PrisonerView.model_validate({**doc, "id": doc["_id"]}) for doc in await intake.prisoners.list_public()]
