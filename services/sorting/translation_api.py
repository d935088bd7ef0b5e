"""The translators' HTTP API (version 1) and its shapes: the queue of letters waiting for a Russian
version, one letter, screening a draft, and submitting the translation. Role: translator (moderators
and admins too). Routes translate HTTP to the use cases in translation.py and back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from services.sorting import translation
from services.sorting.api import DepsDep, LangDep, LinksDep
from services.sorting.domain import printed_fields, screen_printed, signature_line
from services.sorting.moderation import PAGE_LINK_SECONDS
from services.sorting.schemas import EXCERPT_CHARS, PageLink, TranslationBacklog, translation_backlog
from shared.auth import Principal, require_staff
from shared.events import MAX_LETTER_CHARS
from shared.screening import Finding

TranslatorDep = Annotated[Principal, Depends(require_staff("translator", "moderator"))]

router = APIRouter(prefix="/api/v1/translation", tags=["translation"])


class WaitingLetter(BaseModel):
    id: str = Field(examples=["l_4f9c2a7d1e8b0a1c2d3e"])
    prisoner_name_ru: str
    received_at: datetime
    source_language: str | None = Field(None, description="What screening found (und: not known)", examples=["de"])
    requested_by: str | None = Field(None, description="writer, screening or moderator", examples=["writer"])
    handwritten: bool
    page_count: int
    excerpt: str = Field(description="The beginning of the letter as written")


class TranslationQueueView(BaseModel):
    total: int = Field(description="Letters waiting in the language asked for (all, without `lang`)")
    backlog: TranslationBacklog = Field(description="Every letter waiting for translation, by language")
    letters: list[WaitingLetter] = Field(description="Oldest first")


class LetterToTranslate(WaitingLetter):
    original_text: str = Field(description="The letter as the writer sent it")
    previous_translation: str | None = Field(None, description="An earlier translation a moderator sent back")
    note: str | None = Field(None, description="The moderator's note, when a moderator sent it to translation")
    signature: str = Field(description="The line the scan prints under the letter (first name and city)")
    pages: list[PageLink] = Field(description="Photographed pages of a handwritten letter (links live 10 minutes)")
    revision: int


class DraftCheck(BaseModel):
    text: str = Field(max_length=MAX_LETTER_CHARS, description="The Russian text being written")


class DraftScreened(BaseModel):
    verdict: str = Field(examples=["ok", "review"])
    findings: list[Finding]


class TranslationSubmitted(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_LETTER_CHARS, description="The letter in Russian")


class Translated(BaseModel):
    letter_id: str
    state: str = Field(description="review_needed: a moderator reads the Russian text now", examples=["review_needed"])
    findings: list[Finding] = Field(description="Screening of the Russian text, as the moderator will see it")


def waiting_letter(letter: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": letter["_id"], "prisoner_name_ru": letter["prisoner_name_ru"], "received_at": letter["received_at"],
        "source_language": letter.get("source_language"), "requested_by": letter.get("translation_requested_by"),
        "handwritten": letter.get("handwritten", False), "page_count": len(letter.get("page_keys", [])),
        "excerpt": letter["body"][:EXCERPT_CHARS],
    }


@router.get("/letters", response_model=TranslationQueueView, responses={401: {}, 403: {}},
            summary="Letters waiting for a volunteer's translation, oldest first")
async def translation_queue(
    deps: DepsDep, _: TranslatorDep,
    lang: Annotated[str | None, Query(max_length=8, description="Only letters in this language (de, uk, und…)")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> TranslationQueueView:
    """Role: translator (or moderator)."""
    queue = await translation.translation_queue(lang, limit, deps)
    return TranslationQueueView(total=queue.total, backlog=translation_backlog(queue.languages),
                                letters=[WaitingLetter.model_validate(waiting_letter(x)) for x in queue.letters])


@router.get("/letters/{letter_id}", response_model=LetterToTranslate, responses={401: {}, 403: {}, 404: {}},
            summary="One letter waiting for translation: the original, its pages, the printed signature")
async def letter_to_translate(letter_id: str, deps: DepsDep, links: LinksDep, _: TranslatorDep) -> LetterToTranslate:
    """Role: translator (or moderator). 404 for a letter that is not waiting for translation."""
    found = await translation.letter_for_translator(letter_id, deps, links)
    letter, printed = found.letter, printed_fields(found.letter)
    return LetterToTranslate(
        **waiting_letter(letter), original_text=letter["body"], revision=letter["revision"],
        previous_translation=(letter.get("translation") or {}).get("text"),
        note=(letter.get("sent_to_translation") or {}).get("note"),
        signature=signature_line(printed["writer_first_name"], printed["writer_city"]),
        pages=[PageLink(number=n, url=url, expires_in_s=PAGE_LINK_SECONDS)
               for n, url in enumerate(found.page_links, start=1)],
    )


@router.post("/check", response_model=DraftScreened, responses={401: {}, 403: {}, 422: {}},
             summary="Screen a translation while it is written; nothing is stored")
async def check_draft(body: DraftCheck, lang: LangDep, _: TranslatorDep) -> DraftScreened:
    """Role: translator (or moderator)."""
    result = translation.check_translation(body.text, lang)
    return DraftScreened(verdict=result.verdict, findings=result.findings)


@router.post("/letters/{letter_id}", response_model=Translated, responses={401: {}, 403: {}, 404: {}, 409: {}, 422: {}},
             summary="Submit the Russian text: it becomes the printed text and goes to a moderator")
async def submit_translation(
    letter_id: str, body: TranslationSubmitted, deps: DepsDep, lang: LangDep, translator: TranslatorDep,
) -> Translated:
    """Role: translator (or moderator). The original stays with the letter; 409 when it was translated already."""
    letter = await translation.submit_translation(letter_id, translator.subject, body.text, deps, lang)
    screening = screen_printed(letter, lang)
    return Translated(letter_id=letter["_id"], state=letter["state"], findings=screening.findings)
