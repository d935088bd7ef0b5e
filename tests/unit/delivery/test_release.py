"""Letters kept for release: never discarded, handed over in one bundle, archived only with a reason."""

from __future__ import annotations

import io
import json

import pytest
from pypdf import PdfReader

from services.delivery import directory, release, service
from services.delivery.domain import release_problem
from services.delivery.model import Actor
from shared.events import LetterDeliveryUpdated
from tests.unit.delivery.factories import (
    make_intermediary,
    make_prisoner,
    make_ready,
    prisoner_news,
    scan_pdf,
)
from tests.unit.delivery.fakes import make_delivery

pytestmark = pytest.mark.unit

OPERATOR = Actor("anna.operator", "operator")


def test_letters_are_handed_over_only_on_a_release_and_to_the_family_after_a_death():
    assert release_problem(make_prisoner(status="released"), "person") is None
    assert release_problem(make_prisoner(status="deceased"), "family") is None
    assert "family" in release_problem(make_prisoner(status="deceased"), "person")
    assert "intermediaries" in release_problem(make_prisoner(status="detained"), "family")
    assert release_problem(None, "person") is not None


async def queue(delivery, *letter_ids: str) -> None:
    for number, letter_id in enumerate(letter_ids, start=1):
        event = make_ready(letter_id, scan=scan_pdf(f"Письмо {number}"))
        await delivery.store.put(event.scan_key, scan_pdf(f"Письмо {number}"), "application/pdf")
        await service.queue_letter(event, delivery=delivery)


def news(delivery, status: str):
    return prisoner_news(status, at=delivery.clock())


@pytest.fixture
async def released():
    """Three letters held for a prisoner who was released; one of them was archived by an operator."""
    delivery = make_delivery()
    await delivery.intermediaries.save(make_intermediary())
    await directory.prisoner_updated(news(delivery, "detained"), delivery=delivery)
    delivery.clock.advance(10)
    await queue(delivery, "l_1", "l_2", "l_3", "l_4")
    delivery.clock.advance(10)
    await directory.prisoner_updated(news(delivery, "released"), delivery=delivery)
    await service.archive(delivery, "l_4", "the writer asked us not to pass it on", OPERATOR)
    return delivery


async def test_every_kept_letter_is_handed_over_in_one_bundle_and_announced(released):
    bundle = await release.hand_over_on_release(released, "p_1", "family", OPERATOR)

    assert (bundle.purpose, bundle.recipient, bundle.state, bundle.intermediary_id) == ("release", "family", "sent",
                                                                                        None)
    assert sorted(bundle.letter_ids) == ["l_1", "l_2", "l_3"]
    pdf = PdfReader(io.BytesIO(released.store.objects[bundle.pdf_key]))
    assert len(pdf.pages) == 1 + 3 and "Количество писем: 3" in pdf.pages[0].extract_text()
    listing = json.loads(released.store.objects[bundle.manifest_key])
    assert [entry["letter_id"] for entry in listing["letters"]] == ["l_1", "l_2", "l_3"]
    for letter_id in ("l_1", "l_2", "l_3"):
        letter = await released.letters.get(letter_id)
        assert (letter.state, letter.bundle_id) == ("handed_over", bundle.id)
        assert [step.change for step in letter.history] == ["release_hand_over"]
    handed = [e for e in released.outbox.of(LetterDeliveryUpdated) if e.state == "handed_over"]
    assert {e.letter_id for e in handed} == {"l_1", "l_2", "l_3"} and {e.handed_over_to for e in handed} == {"family"}
    archived = await released.letters.get("l_4")
    assert (archived.state, archived.archived) == ("held", True), "an archived letter is not handed over"
    (entry,) = [e for e in released.audit.entries if e["action"] == "release.hand_over"]
    assert entry["actor"] == "anna.operator" and entry["details"]["recipient"] == "family"


async def test_a_second_hand_over_finds_nothing_kept(released):
    await release.hand_over_on_release(released, "p_1", "person", OPERATOR)
    with pytest.raises(service.Conflict, match="no letters"):
        await release.hand_over_on_release(released, "p_1", "person", OPERATOR)


async def test_a_prisoner_still_held_gets_letters_through_intermediaries_not_a_hand_over():
    delivery = make_delivery()
    await queue(delivery, "l_1")  # held: no route
    await directory.prisoner_updated(news(delivery, "detained"), delivery=delivery)
    with pytest.raises(service.Conflict, match="detained"):
        await release.hand_over_on_release(delivery, "p_1", "person", OPERATOR)
    with pytest.raises(service.NotFound):
        await release.hand_over_on_release(delivery, "p_nobody", "person", OPERATOR)


async def test_a_held_letter_is_not_marked_handed_over_one_by_one(released):
    with pytest.raises(service.Conflict):
        await service.record_outcome(released, "l_1", "handed_over", None, OPERATOR)


async def test_archiving_needs_a_reason_and_is_audited(released):
    with pytest.raises(service.Invalid):
        await service.archive(released, "l_1", "   ", OPERATOR)
    assert not (await released.letters.get("l_1")).archived
    (entry,) = [e for e in released.audit.entries if e["action"] == "letter.archive"]
    assert entry["target"] == "l_4" and entry["details"]["reason"] == "the writer asked us not to pass it on"
