"""Translation by volunteers: the pure rules, and the use cases over in-memory ports."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from services.sorting import moderation, translation
from services.sorting.domain import (
    TRANSLATED,
    DecisionRefused,
    Redaction,
    agreement,
    approval_outcome,
    clean_translation,
    not_russian_share,
    printed_page_keys,
    source_language,
    translation_needed,
    was_redacted,
)
from services.sorting.service import sort_letter
from shared.events import LetterReady, LetterReviewNeeded, LetterTranslationNeeded
from shared.screening import screen
from tests.support import squash
from tests.unit.sorting.conftest import CLEAN_BODY, make_received, page_photo
from tests.unit.sorting.fakes import MemoryPageLinks

GERMAN = ("Lieber Server, wir denken jeden Tag an dich. Der erste Schnee ist gefallen und die Kinder spielen "
          "draußen. Bleib stark!")
UKRAINIAN = "Привіт! Як ти? Ми тебе любимо і чекаємо. Дуже сумуємо."
RUSSIAN = ("Дорогой Сервер, мы думаем о вас каждый день. Выпал первый снег, и дети играют на улице. "
           "Держитесь!")
RUSSIAN_WITH_UKRAINIAN = ("Здравствуйте, Ремзи! У нас выпал первый снег, и мы все часто вспоминаем вас. "
                          "Ми тебе любимо і чекаємо.")


# ---------------------------------------------------------------- the rules


def test_a_letter_wholly_in_german_needs_a_translator_and_is_named_german():
    screening = screen(GERMAN)

    assert not_russian_share(GERMAN, screening) == 1.0
    assert translation_needed(requested=False, text=GERMAN, screening=screening) == "screening"
    assert source_language(GERMAN, screening) == "de"


def test_a_letter_wholly_in_ukrainian_needs_a_translator():
    screening = screen(UKRAINIAN)

    assert translation_needed(requested=False, text=UKRAINIAN, screening=screening) == "screening"
    assert source_language(UKRAINIAN, screening) == "uk"


def test_a_ukrainian_passage_in_a_russian_letter_is_left_to_the_moderator():
    screening = screen(RUSSIAN_WITH_UKRAINIAN)

    assert 0 < not_russian_share(RUSSIAN_WITH_UKRAINIAN, screening) < 0.5
    assert translation_needed(requested=False, text=RUSSIAN_WITH_UKRAINIAN, screening=screening) is None


def test_a_foreign_letter_with_block_level_findings_goes_to_a_moderator_first():
    text = GERMAN + " Слава Украине!"

    assert translation_needed(requested=False, text=text, screening=screen(text)) is None
    assert translation_needed(requested=True, text=text, screening=screen(text)) == "writer"


def test_a_writer_who_asks_for_a_translator_gets_one_whatever_the_text():
    assert translation_needed(requested=True, text=CLEAN_BODY, screening=screen(CLEAN_BODY)) == "writer"
    assert translation_needed(requested=False, text=CLEAN_BODY, screening=screen(CLEAN_BODY)) is None
    assert source_language(CLEAN_BODY, screen(CLEAN_BODY)) == "und"


def test_an_empty_translation_is_refused_and_trailing_spaces_are_trimmed():
    with pytest.raises(DecisionRefused):
        clean_translation("  \n ")
    assert clean_translation("  Привет!  \nДержитесь.  ") == "Привет!\nДержитесь."


def test_a_translated_letter_is_decided_as_translated_and_redacted_only_when_a_moderator_changed_it():
    letter = {"body": GERMAN, "text": RUSSIAN, "translation": {"text": RUSSIAN}, "writer_first_name": "Jürgen",
              "writer_city": "Berlin", "printed_writer_first_name": "Jürgen", "printed_writer_city": "Berlin"}

    assert approval_outcome(letter) == "translated"
    assert not was_redacted(letter)
    assert was_redacted({**letter, "text": RUSSIAN.replace("Держитесь!", "[…]")})


def test_translated_letters_are_never_counted_as_screening_misses():
    figures = agreement([(True, "translated"), (False, "translated"), (False, "approved")])

    assert (figures.decided, figures.agreed, figures.missed_by_screening) == (2, 2, 0)


def test_a_translated_handwritten_letter_prints_no_photographs():
    assert printed_page_keys({"page_keys": ["pages/a.jpg"]}) == ["pages/a.jpg"]
    assert printed_page_keys({"page_keys": ["pages/a.jpg"], "translation": {"text": RUSSIAN}}) == []


# ---------------------------------------------------------------- the use cases


def scan_text(deps, letter_id) -> str:
    pdf = deps.scans.objects[deps.letters.letters[letter_id]["scan_key"]]
    return squash("".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))


async def test_a_german_letter_waits_for_translation_and_is_announced_so(campaign_deps):
    state = await sort_letter(make_received("l_de", body=GERMAN), campaign_deps)

    assert state == "awaiting_translation"
    (event,) = campaign_deps.outbox.of(LetterTranslationNeeded)
    assert (event.source_language, event.requested_by) == ("de", "screening")
    assert not campaign_deps.outbox.of(LetterReviewNeeded)


async def test_even_with_automatic_approval_a_letter_the_writer_wants_translated_waits(deps):
    assert await sort_letter(make_received("l_ask", translation_requested=True), deps) == "awaiting_translation"
    assert campaign_event(deps).requested_by == "writer"


def campaign_event(deps) -> LetterTranslationNeeded:
    (event,) = deps.outbox.of(LetterTranslationNeeded)
    return event


async def test_translators_see_the_queue_oldest_first_filtered_by_language(campaign_deps):
    for letter_id, body in (("l_1", GERMAN), ("l_2", UKRAINIAN), ("l_3", GERMAN), ("l_4", CLEAN_BODY)):
        await sort_letter(make_received(letter_id, body=body), campaign_deps)

    everything = await translation.translation_queue(None, 10, campaign_deps)
    german = await translation.translation_queue("de", 10, campaign_deps)

    assert [letter["_id"] for letter in everything.letters] == ["l_1", "l_2", "l_3"]
    assert [letter["_id"] for letter in german.letters] == ["l_1", "l_3"]
    assert everything.languages == {"de": 2, "uk": 1}


async def test_the_russian_text_is_printed_the_original_kept_and_a_moderator_reads_it(campaign_deps):
    await sort_letter(make_received("l_de", body=GERMAN), campaign_deps)

    letter = await translation.submit_translation("l_de", "translator-marta", RUSSIAN, campaign_deps)

    assert letter["state"] == "review_needed" and letter["lane"] == "careful"
    assert TRANSLATED in letter["review_reasons"]
    assert (letter["text"], letter["body"]) == (RUSSIAN, GERMAN)
    assert letter["translation"]["by"] == "translator-marta" and letter["translation"]["source_language"] == "de"
    assert not letter["language_flag"]  # the printed text is Russian now
    history = {entry["decision"]: entry for entry in await campaign_deps.decisions.history("l_de")}
    assert history["translated"]["after"] == RUSSIAN and history["translated"]["before"] == GERMAN
    assert len(campaign_deps.outbox.of(LetterReviewNeeded)) == 1


async def test_an_approved_translation_scans_only_the_russian_and_says_it_was_translated(deps):
    await sort_letter(make_received("l_de", body=GERMAN), deps)
    await translation.submit_translation("l_de", "translator-marta", RUSSIAN, deps)

    letter = await moderation.approve("l_de", "moderator-olena", deps)

    assert letter["state"] == "ready" and letter["decided_outcome"] == "translated"
    (ready,) = deps.outbox.of(LetterReady)
    assert (ready.moderation, ready.translated, ready.redacted, ready.printed_text) == (
        "translated", True, False, RUSSIAN)
    printed = scan_text(deps, "l_de")
    assert squash("Выпал первый снег") in printed and "Schnee" not in printed


async def test_a_moderator_may_redact_a_translation_and_the_receipt_hears_it_was_redacted(deps):
    await sort_letter(make_received("l_de", body=GERMAN), deps)
    await translation.submit_translation("l_de", "t", RUSSIAN, deps)
    start = RUSSIAN.index("Держитесь!")

    await moderation.redact("l_de", "m", Redaction(start=start, end=start + 10, replacement="Обнимаем!"), deps,
                            then_approve=True)

    (ready,) = deps.outbox.of(LetterReady)
    assert ready.translated and ready.redacted and ready.printed_text.endswith("Обнимаем!")


async def test_a_second_translation_of_the_same_round_is_refused_and_changes_nothing(campaign_deps):
    await sort_letter(make_received("l_de", body=GERMAN), campaign_deps)
    await translation.submit_translation("l_de", "first", RUSSIAN, campaign_deps)

    with pytest.raises(translation.NotAwaitingTranslation) as conflict:
        await translation.submit_translation("l_de", "second", "Другой текст.", campaign_deps)

    assert conflict.value.state == "review_needed"
    assert campaign_deps.letters.letters["l_de"]["translation"]["by"] == "first"
    assert len(campaign_deps.outbox.of(LetterReviewNeeded)) == 1


async def test_a_translator_cannot_open_a_letter_that_is_not_waiting_for_translation(campaign_deps):
    await sort_letter(make_received("l_ru"), campaign_deps)

    with pytest.raises(moderation.LetterNotFound):
        await translation.letter_for_translator("l_ru", campaign_deps, MemoryPageLinks())


async def test_a_moderator_sends_a_letter_in_review_to_translation_and_it_comes_back(campaign_deps):
    await sort_letter(make_received("l_mix", body=RUSSIAN_WITH_UKRAINIAN), campaign_deps)

    sent = await translation.send_to_translation("l_mix", "moderator-olena", campaign_deps, note="the last line")
    back = await translation.submit_translation("l_mix", "t", RUSSIAN, campaign_deps)

    assert sent["state"] == "awaiting_translation" and sent["source_language"] == "uk"
    event = campaign_event(campaign_deps)
    assert event.requested_by == "moderator"
    assert back["state"] == "review_needed"
    # The second review is a new transition: announced again, under its own event id.
    assert len({e.event_id for e in campaign_deps.outbox.of(LetterReviewNeeded)}) == 2
    decisions = [entry["decision"] for entry in await campaign_deps.decisions.history("l_mix")]
    assert decisions.index("to_translation") < decisions.index("translated")


async def test_sending_a_decided_letter_to_translation_is_refused(deps):
    await sort_letter(make_received("l_ok"), deps)  # clean: straight on

    with pytest.raises(moderation.NotInReview):
        await translation.send_to_translation("l_ok", "m", deps)


async def test_a_translated_handwritten_letter_scans_the_russian_text_without_its_photos(deps):
    deps.scans.objects["pages/p1.jpg"] = page_photo(1)
    await sort_letter(make_received("l_hand", body="", page_keys=["pages/p1.jpg"], translation_requested=True), deps)

    view = await translation.letter_for_translator("l_hand", deps, MemoryPageLinks())
    await translation.submit_translation("l_hand", "t", RUSSIAN, deps)
    await moderation.approve("l_hand", "m", deps)

    assert len(view.page_links) == 1
    pdf = PdfReader(io.BytesIO(deps.scans.objects[deps.letters.letters["l_hand"]["scan_key"]]))
    assert len(pdf.pages) == 1 and squash("Выпал первый снег") in squash(pdf.pages[0].extract_text())
