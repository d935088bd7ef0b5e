"""The moderators' use cases over in-memory ports: decisions happen once, history keeps everything."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from services.sorting import moderation, release
from services.sorting.domain import RELEASE_ATTEMPTS, STALLED_APPROVAL_S, DecisionRefused, Redaction
from services.sorting.ports import QueueFilter
from services.sorting.service import sort_letter
from shared.events import LetterReady, LetterRejected, LetterReviewNeeded
from tests.support import squash
from tests.unit.sorting.conftest import CLEAN_BODY, SLOGAN_BODY, make_received, page_photo
from tests.unit.sorting.fakes import MemoryPageLinks

# The slogan in SLOGAN_BODY is a block-level finding: approving it needs this confirmation.
CONFIRMED = {("slogans.glory_to_ukraine", "body")}


async def in_review(deps, letter_id="l_test_1", **overrides) -> str:
    overrides.setdefault("body", SLOGAN_BODY)
    assert await sort_letter(make_received(letter_id, **overrides), deps) == "review_needed"
    return letter_id


def scan_text(deps, letter_id) -> str:
    pdf = deps.scans.objects[deps.letters.letters[letter_id]["scan_key"]]
    return squash("".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))


async def test_approved_letter_is_scanned_once_and_announced_ready(deps):
    letter_id = await in_review(deps)

    letter = await moderation.approve(letter_id, "moderator-olena", deps, confirmed=CONFIRMED)

    assert letter["state"] == "ready" and letter["decided_by"] == "moderator-olena"
    (ready,) = deps.outbox.of(LetterReady)
    assert ready.scan_sha256 == letter["scan_sha256"] and ready.moderation == "approved"
    assert squash(SLOGAN_BODY) in scan_text(deps, letter_id)
    approved = (await deps.decisions.history(letter_id))[-1]
    assert (approved["decision"], approved["by"]) == ("approved", "moderator-olena")


async def test_approving_twice_gives_409_and_no_second_scan_or_transition(deps):
    letter_id = await in_review(deps)
    await moderation.approve(letter_id, "a", deps, confirmed=CONFIRMED)

    with pytest.raises(moderation.NotInReview) as conflict:
        await moderation.approve(letter_id, "b", deps, confirmed=CONFIRMED)

    assert conflict.value.state == "ready"
    assert deps.scans.puts == 1
    assert deps.letters.transitions.count((letter_id, "ready")) == 1
    assert len(deps.outbox.of(LetterReady)) == 1
    assert [e["by"] for e in await deps.decisions.history(letter_id) if e["decision"] == "approved"] == ["a"]


async def test_rejected_letter_is_announced_with_its_reason_and_cannot_be_approved(deps):
    letter_id = await in_review(deps)

    await moderation.reject(letter_id, "moderator-taras", "Лозунги в письме", deps)

    (rejected,) = deps.outbox.of(LetterRejected)
    assert rejected.reason == "Лозунги в письме"
    with pytest.raises(moderation.NotInReview):
        await moderation.approve(letter_id, "someone", deps)
    with pytest.raises(moderation.NotInReview):
        await moderation.reject(letter_id, "someone", "again", deps)
    assert deps.scans.objects == {} and len(deps.outbox.of(LetterRejected)) == 1


async def test_rejection_without_a_reason_is_refused(deps):
    letter_id = await in_review(deps)
    with pytest.raises(DecisionRefused):
        await moderation.reject(letter_id, "m", "   ", deps)
    assert deps.letters.letters[letter_id]["state"] == "review_needed"


async def test_redacted_passage_is_not_on_the_scan_but_stays_in_the_history(deps):
    letter_id = await in_review(deps)
    start = SLOGAN_BODY.index("Слава Украине!")
    redaction = Redaction(start=start, end=start + len("Слава Украине!"), replacement="[…]")

    letter = await moderation.redact(letter_id, "m", redaction, deps)

    assert letter["revision"] == 1 and letter["clean"] and letter["categories"] == []
    assert letter["body"] == SLOGAN_BODY
    await moderation.approve(letter_id, "m", deps, revision=1)
    assert deps.outbox.of(LetterReady)[0].moderation == "redacted"
    text = scan_text(deps, letter_id)
    assert "[…]" in text and "Украине" not in text
    redacted = next(e for e in await deps.decisions.history(letter_id) if e["decision"] == "redacted")
    assert redacted["passage"] == "Слава Украине!" and redacted["before"] == SLOGAN_BODY


async def test_approval_of_a_text_that_was_redacted_meanwhile_is_refused(deps):
    letter_id = await in_review(deps)
    await moderation.redact(letter_id, "first", Redaction(text="Держитесь, мы с вами."), deps)

    with pytest.raises(moderation.NotInReview):
        await moderation.approve(letter_id, "second", deps, revision=0)
    assert deps.letters.letters[letter_id]["state"] == "review_needed"


async def test_redact_and_approve_in_one_step(deps):
    letter_id = await in_review(deps)
    letter = await moderation.redact(letter_id, "m", Redaction(text="Держитесь, мы с вами."), deps, then_approve=True)
    assert letter["state"] == "ready" and scan_text(deps, letter_id).startswith("Для: Ремзи Демо Держитесь")


async def test_bulk_approve_takes_only_clean_typed_letters_and_names_the_rest(deps):
    clean = [await in_review(deps, f"l_clean_{i}", body=CLEAN_BODY, prisoner_status="released") for i in range(3)]
    flagged = await in_review(deps, "l_flagged")
    handwritten = await in_review(deps, "l_paper", body="", page_keys=["pages/p1.jpg"], channel="paper")

    result = await moderation.bulk_approve([*clean, flagged, handwritten, "l_nope", clean[0]], "m", deps)

    assert result.approved == clean
    assert result.refused == [(flagged, "has_findings"), (handwritten, "handwritten"), ("l_nope", "unknown")]
    assert len(deps.outbox.of(LetterReady)) == 3 and len(deps.scans.scans()) == 3


async def test_handwritten_letter_is_scanned_from_its_pages_in_order(deps):
    deps.scans.objects.update({f"pages/p{n}.jpg": page_photo(n) for n in (1, 2, 3)})
    letter_id = await in_review(deps, body="", page_keys=["pages/p1.jpg", "pages/p2.jpg", "pages/p3.jpg"],
                                channel="paper")

    letter = await moderation.approve(letter_id, "m", deps)

    assert letter["pages"] == 3
    assert len(PdfReader(io.BytesIO(deps.scans.objects[letter["scan_key"]])).pages) == 3


async def test_moderator_sees_findings_page_links_and_history(deps):
    letter_id = await in_review(deps, page_keys=["pages/p1.jpg"])

    found = await moderation.letter_for_moderator(letter_id, deps, MemoryPageLinks(), "uk")

    (finding,) = [f for f in found.screening.findings if f.category == "slogans"]
    assert found.letter["text"][finding.start:finding.end] == "Слава Украине"
    assert found.page_links == ["https://files.example.org/pages/p1.jpg?expires=600"]
    assert [e["decision"] for e in found.history] == ["screened"]
    with pytest.raises(moderation.LetterNotFound):
        await moderation.letter_for_moderator("l_unknown", deps, MemoryPageLinks(), "en")


async def test_queue_is_oldest_first_and_filters_by_prisoner_event_and_language(deps):
    await in_review(deps, "l_a", prisoner_id="p_1")
    await in_review(deps, "l_b", prisoner_id="p_2", campaign_event_id="e_fair", channel="kiosk")
    # A Ukrainian passage in a Russian letter is a moderator's to read (a whole Ukrainian letter goes to a translator).
    await in_review(deps, "l_c", prisoner_id="p_1",
                    body="Здравствуйте, Ремзи! У нас выпал первый снег, и мы все часто вспоминаем вас. "
                         "Ми тебе любимо і чекаємо.")

    assert [l["_id"] for l in (await moderation.review_queue(QueueFilter(), 10, deps)).letters] == ["l_a", "l_b", "l_c"]
    assert (await moderation.review_queue(QueueFilter(prisoner_id="p_1"), 10, deps)).total == 2
    assert [l["_id"] for l in (await moderation.review_queue(QueueFilter(campaign_event_id="e_fair"), 10, deps))
            .letters] == ["l_b"]
    assert [l["_id"] for l in (await moderation.review_queue(QueueFilter(language_flag=True), 10, deps)).letters] \
        == ["l_c"]


async def test_approval_whose_scan_could_not_be_stored_is_finished_later(deps):
    letter_id = await in_review(deps)
    deps.scans.down = True
    with pytest.raises(ConnectionError):
        await moderation.approve(letter_id, "m", deps, confirmed=CONFIRMED)
    assert deps.letters.letters[letter_id]["state"] == "approved" and not deps.outbox.of(LetterReady)

    deps.scans.down = False
    assert await release.release_due_approvals(deps) == 0  # the request's own retry comes first
    deps.clock.advance(STALLED_APPROVAL_S)
    assert await release.release_due_approvals(deps) == 1

    assert deps.letters.letters[letter_id]["state"] == "ready" and len(deps.outbox.of(LetterReady)) == 1
    assert await release.release_due_approvals(deps) == 0


async def test_review_needed_is_announced_once_with_the_finding_categories(deps):
    await in_review(deps)
    (review,) = deps.outbox.of(LetterReviewNeeded)
    assert review.categories == ["slogans"]


async def test_a_transcription_of_photographed_pages_is_screened_kept_and_never_printed(deps):
    deps.scans.objects.update({f"pages/p{n}.jpg": page_photo(n) for n in (1, 2)})
    letter_id = await in_review(deps, body="", page_keys=["pages/p1.jpg", "pages/p2.jpg"], channel="paper")
    assert deps.letters.letters[letter_id]["clean"]  # nothing typed: nothing screening could read

    reading = "Дорогой Ремзи!\nСлава Украине! Держитесь."
    letter = await moderation.redact(letter_id, "m", Redaction(field="transcription", text=reading), deps)

    # What the photos say is screened like typed text: the slogan now needs a confirmed approval.
    assert letter["transcription"] == reading and letter["revision"] == 1 and letter["block"]
    with pytest.raises(moderation.ConfirmationNeeded) as needed:
        await moderation.approve(letter_id, "m", deps, revision=1)
    assert [(f.rule, f.field) for f in needed.value.findings] == [("slogans.glory_to_ukraine", "transcription")]
    kept = next(e for e in await deps.decisions.history(letter_id) if e["decision"] == "redacted")
    assert kept["field"] == "transcription" and kept["after"] == reading and kept["before"] is None

    # Cleared, it is gone again; the scan prints the photos either way, never the transcription.
    letter = await moderation.redact(letter_id, "m", Redaction(field="transcription", text="  "), deps)
    assert letter["transcription"] is None and letter["clean"]
    letter = await moderation.approve(letter_id, "m", deps, revision=2)
    assert letter["pages"] == 2 and "Держитесь" not in scan_text(deps, letter_id)


async def test_a_typed_letter_has_no_transcription(deps):
    letter_id = await in_review(deps)
    with pytest.raises(DecisionRefused, match="photographed pages"):
        await moderation.redact(letter_id, "m", Redaction(field="transcription", text="Привет"), deps)
    assert deps.letters.letters[letter_id]["revision"] == 0


async def test_an_approval_whose_scan_keeps_failing_is_parked_for_moderators_until_one_tries_again(deps):
    deps.scans.objects["pages/broken.jpg"] = b"not a photograph at all"
    letter_id = await in_review(deps, body="", page_keys=["pages/broken.jpg"], channel="paper")
    # The approval stands and its failed scan is counted; the moderator gets no server error.
    letter = await moderation.approve(letter_id, "m", deps)
    assert letter["state"] == "approved" and letter["release_failures"] == 1
    deps.clock.advance(STALLED_APPROVAL_S)

    for _ in range(RELEASE_ATTEMPTS - 1):
        assert await release.release_due_approvals(deps) == 0
    assert await deps.letters.due_releases(deps.clock(), 10) == []  # parked: the sweep stops trying
    (stuck,) = (await release.approvals_on_their_way(deps)).stuck
    assert stuck["_id"] == letter_id and stuck["release_failures"] == RELEASE_ATTEMPTS
    assert "Error" in stuck["release_error"] and not deps.outbox.of(LetterReady)

    # The page is fixed; a moderator approving again gives the letter its attempts back.
    deps.scans.objects["pages/broken.jpg"] = page_photo(1)
    assert (await moderation.approve(letter_id, "m", deps))["state"] == "approved"
    assert (await release.approvals_on_their_way(deps)).stuck == []
    assert await release.release_due_approvals(deps) == 1
    assert deps.letters.letters[letter_id]["state"] == "ready" and len(deps.outbox.of(LetterReady)) == 1


async def test_an_outage_is_waited_out_and_never_parks_an_approval(deps):
    letter_id = await in_review(deps)
    deps.scans.down = True
    with pytest.raises(ConnectionError):
        await moderation.approve(letter_id, "m", deps, confirmed=CONFIRMED)
    deps.clock.advance(STALLED_APPROVAL_S)
    for _ in range(RELEASE_ATTEMPTS + 5):
        assert await release.release_due_approvals(deps) == 0
    assert (await release.approvals_on_their_way(deps)).stuck == []
    deps.scans.down = False
    assert await release.release_due_approvals(deps) == 1
