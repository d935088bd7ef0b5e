"""Intake's HTTP API (version 1). Route functions only translate HTTP to use cases and back."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.datastructures import UploadFile as StarletteUpload

from services.intake.attention import Occasion, campaign_holidays, upcoming_occasions
from services.intake.domain import (
    LetterSubmission,
    TimelineEntry,
    WriterReason,
    may_withdraw,
    needs_fix,
    receipt_matches,
    withdrawal_state,
    writer_reason,
)
from services.intake.kiosks import AdmittedKiosk, admit_kiosk
from services.intake.multipart import PartRefused, read_letter_form
from services.intake.pages import (
    MAX_PAGE_BYTES,
    MAX_PAGES,
    CleanPage,
    PageRejected,
    clean_upload,
    too_many_pages,
)
from services.intake.privacy import erase_contact
from services.intake.service import (
    NothingToFix,
    Submitter,
    accept_letter,
    open_receipt,
    prisoners_by_attention,
    request_withdrawal,
    resend_letter,
    screen_letter,
)
from shared.auth import client_address, count_wrong_token
from shared.events import MAX_LETTER_CHARS
from shared.facilities import FacilityNote, facility_note
from shared.prisoners import can_receive_letters
from shared.screening import Finding
from shared.screening.symbols import direction_controls_in


class LetterAccepted(BaseModel):
    id: str = Field(examples=["l_4f9c2a7d1e8b0a1c2d3e"])
    status: str = Field(examples=["received"])
    receipt_token: str = Field(description="Shows the letter's status; keep it, it is not stored in plain form")
    verdict: str = Field(description="Screening verdict the moderators will see: ok or review")
    findings: list[Finding]


class EarlierVersion(BaseModel):
    id: str
    version: int
    status: str
    submitted_at: datetime
    original_text: str
    reason: WriterReason | None = None


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
    original_text: str = Field(description="The letter as the writer sent it")
    printed_text: str | None = Field(
        None, description="The letter as the scan prints it, once it is ready: after a volunteer's translation "
                          "or a moderator's redaction, or as written")
    translated: bool = Field(False, description="The printed text is a volunteer's Russian translation")
    redacted: bool = Field(False, description="A moderator changed the text, the name or the city before printing")
    translation_requested: bool = Field(False, description="The writer asked for a volunteer's translation")
    source_language: str | None = Field(None, description="The letter's language, when it went to translation")
    reason: WriterReason | None = Field(None, description="Why it was rejected, in the writer's language")
    version: int = Field(1, description="1 for the letter as first sent; each edit sent again from the receipt "
                                        "is the next version, and this view shows the latest")
    earlier_versions: list[EarlierVersion] = Field(default_factory=list, description="Newest first")
    can_resend: bool = Field(False, description="Rejected for a reason the writer can fix: POST …/versions")
    can_withdraw: bool = Field(False, description="Not yet scanned, as far as intake knows: POST …/withdrawal")
    withdrawal: Literal["requested", "withdrawn", "refused"] | None = Field(
        None, description="The writer asked to withdraw it; sorting withdrew it, or refused")
    withdrawal_refused: str | None = Field(None, description="Why: already_scanned or already_rejected")
    held_kind: str | None = Field(None, description="While held: why (prisoner_released, prisoner_moving, no_route…)")
    handed_over_to: str | None = Field(None, description="While handed over: to whom (intermediary, person, family)")


class LetterVersionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=MAX_LETTER_CHARS, description="The edited letter")
    translation_requested: bool = Field(False, description="Ask a volunteer to translate it into Russian")


class PrisonerView(BaseModel):
    id: str
    names: dict[str, str] = Field(description="uk, ru and en")
    description: dict[str, str] = Field(default_factory=dict)
    status: str
    writable: bool = Field(False, description="Whether letters can be written to this prisoner now (shared/prisoners.py)")
    birthday: date | None = None
    story: dict[str, str] = Field(default_factory=dict, description="A few sentences about them, in uk, ru, en")
    interests: dict[str, str] = Field(default_factory=dict, description="In uk, ru, en")
    write_about: dict[str, str] = Field(default_factory=dict, description="What to write about, in uk, ru, en")
    letters_received: int = 0
    facility: FacilityNote | None = Field(
        None, description="Where the prisoner is held and what a writer needs to know there (shared/facilities.py)")
    occasions: list[Occasion] = Field(
        default_factory=list, description="Their birthday or a holiday they mark, soon enough for a letter written "
                                          "today to arrive for it (services/intake/attention.py)")


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


async def _submitter(intake: Any, request: Request, submission: LetterSubmission, token: str | None,
                     kiosk: AdmittedKiosk | None) -> Submitter:
    if submission.source.channel == "web":
        return Submitter(channel="web")
    if kiosk is None:
        if token and await intake.staff_tokens.find(token) is not None:
            raise HTTPException(403, "this is a staff token, not a kiosk token")
        if token:
            await count_wrong_token(request)
        raise HTTPException(401, "a kiosk submits with its bearer token", headers={"WWW-Authenticate": "Bearer"})
    # The event's days also bound when its kiosk's letters were written.
    return Submitter(channel="kiosk", campaign_event_id=kiosk.event_id, kiosk_id=kiosk.kiosk_id,
                     event_days=kiosk.event_days)


async def _admitted_kiosk(intake: Any, token: str | None, *, sending: bool = False) -> AdmittedKiosk | None:
    """The calling kiosk; KioskRefused (403, see main.py) if it was unpaired or its event is not on."""
    if not token:
        return None
    return await admit_kiosk(token, intake.tokens, intake.campaign_events, datetime.now(UTC).date(),
                             sending=sending)


MAX_JSON_BYTES = 256 * 1024
MAX_UPLOAD_BYTES = MAX_PAGES * MAX_PAGE_BYTES + MAX_JSON_BYTES

SUBMISSION_BODIES = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/LetterSubmission"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["letter", "pages"],
                    "properties": {
                        "letter": {"type": "string", "description": "LetterSubmission as JSON; body may be empty"},
                        "pages": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": MAX_PAGES,
                            "items": {"type": "string", "format": "binary"},
                            "description": "Photos (JPEG, PNG, WebP, HEIC) or PDF scans of a handwritten letter; "
                                           "each page of a PDF counts as one of the letter's pages",
                        },
                    },
                }
            },
        },
    }
}


async def read_submission(request: Request) -> tuple[LetterSubmission, list[CleanPage]]:
    """Parse either body shape; every refusal is a 4xx with a sentence a person understands."""
    declared = int(request.headers.get("content-length") or 0)
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        if declared > MAX_UPLOAD_BYTES:
            raise HTTPException(413, f"the upload is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
        return await _read_multipart(request)
    if content_type.startswith("application/json") or not content_type:
        raw = await _read_limited(request, MAX_JSON_BYTES)
        return _parse_letter(raw), []
    raise HTTPException(415, "send the letter as application/json, or as multipart/form-data with pages")


async def _read_limited(request: Request, limit: int) -> bytes:
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            raise HTTPException(413, f"the request is larger than {limit // 1024} KB")
    return bytes(raw)


def _parse_letter(raw: bytes | str) -> LetterSubmission:
    try:
        return LetterSubmission.model_validate_json(raw)
    except ValidationError as error:
        # Never echo the input: it may hold a writer's address, and may not even be valid text.
        raise RequestValidationError(
            error.errors(include_url=False, include_context=False, include_input=False)
        ) from error


async def _read_multipart(request: Request) -> tuple[LetterSubmission, list[CleanPage]]:
    try:
        form = await read_letter_form(request.headers, request.stream(), max_files=MAX_PAGES + 1, max_fields=4,
                                      max_text_bytes=MAX_JSON_BYTES, max_file_bytes=MAX_PAGE_BYTES)
    except PartRefused as refused:
        raise HTTPException(refused.status, refused.message) from refused
    except Exception as error:
        raise HTTPException(400, "the multipart body could not be read") from error
    # Read past Request.form(), so the spooled pages are closed here rather than by the request.
    try:
        letter = form.get("letter")
        if not isinstance(letter, str):
            raise HTTPException(422, "the multipart body needs a part 'letter' with the letter as JSON")
        files = [part for part in form.getlist("pages") if isinstance(part, StarletteUpload)]
        if not files:
            raise HTTPException(422, "add at least one photographed page in the part 'pages'")
        pages: list[CleanPage] = []
        try:
            if len(files) > MAX_PAGES:
                raise too_many_pages()
            submission = _parse_letter(letter)
            for number, upload in enumerate(files, start=1):
                data = await upload.read(MAX_PAGE_BYTES + 1)
                pages += await run_in_threadpool(clean_upload, data, number, MAX_PAGES - len(pages))
        except PageRejected as rejected:
            raise HTTPException(rejected.status, rejected.message) from rejected
        return submission, pages
    finally:
        await form.close()


@router.post(
    "/letters",
    status_code=201,
    response_model=LetterAccepted,
    responses={
        200: {"description": "Same client_ref sent again: the same letter", "model": LetterAccepted},
        401: {}, 403: {}, 404: {}, 409: {}, 413: {}, 415: {}, 429: {}, 503: {},
    },
    summary="Submit a letter (web or kiosk), typed or as photographed pages",
    openapi_extra=SUBMISSION_BODIES,
)
async def submit_letter(
    request: Request,
    response: Response,
    intake: IntakeDep,
    token: BearerDep,
    accept_language: Annotated[str | None, Header()] = None,
) -> LetterAccepted:
    """Role: anyone (web, rate-limited per address) or a kiosk (bearer token bound to its event, accepted
    from the day before the event to the day after, and its letters up to 14 days later still, for a tablet
    that was offline; refused with 403 once staff unpaired the kiosk)."""
    kiosk = await _admitted_kiosk(intake, token, sending=True)
    if kiosk is None:
        # Counted before the body is read: past the limit an upload is refused unread, undecoded.
        await intake.limiter.hit("submit", client_address(request))
    submission, pages = await read_submission(request)
    if direction_controls_in(submission.body):
        raise HTTPException(422, "the letter contains invisible right-to-left control characters: "
                                 "please remove them or retype the text")
    submitter = await _submitter(intake, request, submission, token, kiosk)
    accepted = await accept_letter(submission, submitter, intake.desk, pages=pages, lang=_lang(accept_language))
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
    submission: LetterSubmission,
    request: Request,
    intake: IntakeDep,
    accept_language: Annotated[str | None, Header()] = None,
) -> ScreeningAnswer:
    """Role: anyone (rate-limited per address). Nothing is stored."""
    await intake.limiter.hit("check", client_address(request))
    lang = _lang(accept_language)
    author = submission.author
    result = screen_letter(submission.body, author.display_name, author.city, lang)
    return ScreeningAnswer(verdict=result.verdict, findings=result.findings)


@router.get(
    "/letters/{letter_id}",
    response_model=LetterStatusView,
    responses={404: {"description": "No such letter, or the token does not open it"}},
    summary="A letter's status and timeline (receipt token or staff token)",
)
async def letter_status(
    letter_id: str,
    request: Request,
    intake: IntakeDep,
    token: BearerDep,
    receipt_token: Annotated[str | None, Query(description="The receipt token, when a link is opened")] = None,
    accept_language: Annotated[str | None, Header()] = None,
) -> LetterStatusView:
    """The link's letter as its latest version: edited and sent again from the receipt, it is a new version
    under the same link. Role: its writer (receipt token) or staff."""
    receipt = await open_receipt(letter_id, intake.letters)
    offered = token or receipt_token
    # One answer for "no such letter" and "not yours": ids cannot be probed.
    if receipt is None or not offered or not await _may_read(intake, letter_id, offered):
        if offered:
            await count_wrong_token(request)
        raise HTTPException(404, "no such letter")
    letter, lang = receipt.letter, _lang(accept_language)
    result = screen_letter(letter.body, letter.writer_display_name, letter.writer_city, lang)
    return LetterStatusView(
        id=letter.id,
        prisoner_id=letter.prisoner_id,
        status=letter.status,
        timeline=receipt.timeline,
        verdict=result.verdict,
        findings=result.findings,
        original_text=letter.body,
        printed_text=letter.printed_text,
        translated=letter.translated,
        redacted=letter.redacted,
        translation_requested=letter.translation_requested,
        source_language=letter.source_language,
        reason=writer_reason(letter, lang),
        version=letter.version,
        earlier_versions=[EarlierVersion(id=v.id, version=v.version, status=v.status, submitted_at=v.submitted_at,
                                         original_text=v.body, reason=writer_reason(v, lang))
                          for v in receipt.earlier],
        can_resend=needs_fix(letter),
        can_withdraw=may_withdraw(letter),
        withdrawal=withdrawal_state(letter),
        withdrawal_refused=letter.withdrawal_refused_reason,
        held_kind=letter.held_kind if letter.status == "held" else None,
        handed_over_to=letter.handed_over_to if letter.status == "handed_over" else None,
    )


async def _writer_only(
    letter_id: str, request: Request, intake: IntakeDep, token: BearerDep,
    receipt_token: Annotated[str | None, Query()] = None,
) -> None:
    """Only the writer changes a letter: its receipt token, not a staff token. Else one 404 for all.

    A dependency, so it runs before the request body is validated: a caller without the token
    learns nothing from a 422 about what the endpoint would accept."""
    offered = token or receipt_token
    if offered and receipt_matches(intake.receipt_secret, letter_id, offered) \
            and await intake.letters.get(letter_id) is not None:
        return
    if offered:
        await count_wrong_token(request)
    raise HTTPException(404, "no such letter")


WriterOnly = Depends(_writer_only)


async def _limit_submissions(request: Request, intake: IntakeDep) -> None:
    await intake.limiter.hit("submit", client_address(request))


@router.post(
    "/letters/{letter_id}/versions",
    status_code=201,
    response_model=LetterAccepted,
    responses={200: {"description": "Sent again already (a second click): the same version"},
               404: {"description": "No such letter, or the token does not open it"},
               409: {"description": "The latest version needs no fix, or was sent again already"},
               422: {}, 429: {}},
    summary="Edit a letter that needs a fix and send it again: a new version under the same receipt link",
    dependencies=[Depends(_limit_submissions), WriterOnly],
)
async def send_again(
    letter_id: str, body: LetterVersionRequest, response: Response, intake: IntakeDep,
    accept_language: Annotated[str | None, Header()] = None,
) -> LetterAccepted:
    """Role: the letter's writer (receipt token). The new version is screened and moderated like any letter."""
    if direction_controls_in(body.body):
        raise HTTPException(422, "the letter contains invisible right-to-left control characters: "
                                 "please remove them or retype the text")
    try:
        accepted = await resend_letter(letter_id, body.body, body.translation_requested, intake.desk,
                                       lang=_lang(accept_language))
    except NothingToFix as refused:
        raise HTTPException(409, f"this letter needs no fix now (it is {refused.status}), or it was sent "
                                 "again already") from refused
    if not accepted.created:
        response.status_code = 200
    return LetterAccepted(id=accepted.letter.id, status=accepted.letter.status, receipt_token=accepted.receipt_token,
                          verdict=accepted.screening.verdict, findings=accepted.screening.findings)


class WithdrawalAnswer(BaseModel):
    id: str = Field(description="The version asked to be withdrawn: the latest")
    withdrawal: Literal["requested", "withdrawn", "refused"] | None


@router.post(
    "/letters/{letter_id}/withdrawal",
    status_code=202,
    response_model=WithdrawalAnswer,
    responses={404: {"description": "No such letter, or the token does not open it"}},
    summary="Withdraw a letter not yet scanned: sorting withdraws it, or says it is too late",
    dependencies=[WriterOnly],
)
async def withdraw_letter(letter_id: str, intake: IntakeDep) -> WithdrawalAnswer:
    """Role: the letter's writer (receipt token). Accepted, then decided by sorting: the receipt shows
    `withdrawal` "requested", then "withdrawn", or "refused" with the reason. Asking twice asks once."""
    letter = await request_withdrawal(letter_id, letters=intake.letters, outbox=intake.outbox)
    return WithdrawalAnswer(id=letter.id, withdrawal=withdrawal_state(letter))


@router.delete(
    "/letters/{letter_id}/contact",
    status_code=204,
    responses={404: {"description": "No such letter, or the token does not open it"}},
    summary="Erase the writer's contact data (receipt token or admin token)",
)
async def erase_my_contact(
    letter_id: str,
    request: Request,
    intake: IntakeDep,
    token: BearerDep,
    receipt_token: Annotated[str | None, Query()] = None,
) -> None:
    """Role: the letter's writer (receipt token) or an admin. The letter itself stays."""
    offered = token or receipt_token
    actor, staff = None, None
    if offered and receipt_matches(intake.receipt_secret, letter_id, offered):
        actor = "writer"
    elif offered:
        staff = await intake.staff_tokens.find(offered)
        actor = staff.subject if staff is not None and staff.role == "admin" else None
    if actor is None or await intake.letters.get(letter_id) is None:
        if offered and staff is None:  # a moderator's token is known, only not enough: no guess
            await count_wrong_token(request)
        raise HTTPException(404, "no such letter")
    await erase_contact(letter_id, actor, intake.letters, intake.audit)


async def _may_read(intake: Any, letter_id: str, token: str) -> bool:
    if receipt_matches(intake.receipt_secret, letter_id, token):
        return True
    staff = await intake.staff_tokens.find(token)
    return staff is not None


@router.get("/prisoners", response_model=list[PrisonerView], tags=["prisoners"], summary="Public directory")
async def prisoners(intake: IntakeDep) -> list[PrisonerView]:
    """In the fair-attention order (services/intake/attention.py): those who can be written to first, the
    longest without a letter and with a birthday or holiday ahead before those who had many lately."""
    today, holidays = datetime.now(UTC).date(), campaign_holidays()
    return [PrisonerView.model_validate({**doc, "id": doc["_id"], "writable": can_receive_letters(doc.get("status")),
                                         "facility": facility_note(doc.get("facility")),
                                         "occasions": upcoming_occasions(doc, today, holidays)})
            for doc in await prisoners_by_attention(intake.prisoners, intake.letters, today)]


class KioskView(BaseModel):
    kiosk_id: str
    name: str | None = None
    event: dict[str, Any] | None
    letters_collected: int
    valid_from: date | None = Field(None, description="The first day (UTC) its token is accepted: the day before "
                                                      "its event starts")
    valid_until: date | None = Field(None, description="The last day (UTC) its token is accepted: the day after "
                                                       "its event ends")


class KioskRefusal(BaseModel):
    detail: str
    kiosk_refused: Literal["unpaired", "outside_event_dates"] = Field(
        description="unpaired: staff revoked this kiosk's token; outside_event_dates: its event is not on")
    valid_from: date | None = None
    valid_until: date | None = None


@router.get("/kiosk", response_model=KioskView, tags=["kiosk"],
            responses={401: {}, 403: {"model": KioskRefusal, "description": "Unpaired by staff, outside its "
                                                                            "event's days, or a staff token"}},
            summary="The calling kiosk, its event and how many letters it collected")
async def kiosk(request: Request, intake: IntakeDep, token: BearerDep) -> KioskView:
    """Role: kiosk (its bearer token, accepted from the day before its event to the day after)."""
    found = await _admitted_kiosk(intake, token)
    if found is None:
        if token and await intake.staff_tokens.find(token) is not None:
            raise HTTPException(403, "this is a staff token, not a kiosk token")
        if token:
            await count_wrong_token(request)
        raise HTTPException(401, "a kiosk token is required", headers={"WWW-Authenticate": "Bearer"})
    event = {"id": found.event["_id"], **{k: v for k, v in found.event.items() if k != "_id"}} if found.event else None
    valid = found.valid_days
    return KioskView(
        kiosk_id=found.kiosk_id,
        name=found.name,
        event=event,
        letters_collected=await intake.letters.count_by_kiosk(found.kiosk_id),
        valid_from=valid[0] if valid else None,
        valid_until=valid[1] if valid else None,
    )
