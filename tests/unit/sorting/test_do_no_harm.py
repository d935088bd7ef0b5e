""""Do no harm", end to end inside sorting: a person reads every letter by default, every printed
field is screened, block-level findings need a confirmation, and an approval can be taken back
before its scan goes to delivery. Use cases over the in-memory ports."""

from __future__ import annotations

import pytest

from services.sorting import moderation, release
from services.sorting.domain import ModerationPolicy, Redaction
from services.sorting.ports import QueueFilter
from services.sorting.service import scan_letter, sort_letter
from shared.events import LetterReady, LetterReviewNeeded
from tests.support import pdf_text, squash
from tests.unit.sorting.conftest import CLEAN_BODY, SLOGAN_BODY, make_deps, make_received

SLOGAN = ("slogans.glory_to_ukraine", "body")
WINDOW_S = ModerationPolicy().undo_window_s


async def received(deps, letter_id: str = "l_1", **overrides) -> dict:
    await sort_letter(make_received(letter_id, **overrides), deps)
    return deps.letters.letters[letter_id]


def scan_of(deps, letter_id: str) -> str:
    return squash(pdf_text(deps.scans.objects[deps.letters.letters[letter_id]["scan_key"]]))


async def test_by_default_a_clean_typed_letter_waits_for_a_moderator_in_the_fast_lane(campaign_deps):
    letter = await received(campaign_deps, body=CLEAN_BODY)

    assert (letter["state"], letter["lane"], letter["review_reasons"]) == ("review_needed", "fast", [])
    assert campaign_deps.outbox.of(LetterReady) == [] and campaign_deps.scans.scans() == {}
    assert len(campaign_deps.outbox.of(LetterReviewNeeded)) == 1


async def test_flagged_handwritten_and_released_prisoner_letters_wait_in_the_careful_lane(campaign_deps):
    await received(campaign_deps, "l_clean", body=CLEAN_BODY)
    await received(campaign_deps, "l_flagged", body=SLOGAN_BODY)
    await received(campaign_deps, "l_paper", body="", page_keys=["pages/a.jpg"], channel="paper")
    await received(campaign_deps, "l_released", body=CLEAN_BODY, prisoner_status="released")

    careful = await moderation.review_queue(QueueFilter(lane="careful"), 10, campaign_deps)
    fast = await moderation.review_queue(QueueFilter(lane="fast"), 10, campaign_deps)

    assert [letter["_id"] for letter in careful.letters] == ["l_flagged", "l_paper", "l_released"]
    assert [letter["_id"] for letter in fast.letters] == ["l_clean"]
    assert careful.lanes == fast.lanes == {"fast": 1, "careful": 3}
    assert (await moderation.review_queue(QueueFilter(prisoner_id="p_2"), 10, campaign_deps)).lanes == \
        {"fast": 0, "careful": 0}


async def test_a_slogan_signed_as_the_writers_name_is_flagged_even_with_automatic_approval(deps):
    letter = await received(deps, body=CLEAN_BODY, writer_first_name="СлаваУкраине")

    assert (letter["state"], letter["lane"], letter["review_reasons"]) == ("review_needed", "careful", ["findings"])
    assert letter["categories"] == ["slogans"] and letter["block"]
    found = await moderation.letter_for_moderator("l_1", deps, None, "en")
    (finding,) = [f for f in found.screening.findings if f.category == "slogans"]
    assert (finding.field, finding.start, finding.end) == ("writer_first_name", 0, len("СлаваУкраине"))
    assert {f.field for f in found.screening.findings} == {"writer_first_name"}
    assert deps.outbox.of(LetterReady) == []


async def test_a_phone_number_in_the_city_is_flagged_even_with_automatic_approval(deps):
    letter = await received(deps, body=CLEAN_BODY, writer_city="Полтава, +380 67 123 45 67")

    assert (letter["state"], letter["lane"]) == ("review_needed", "careful")
    found = await moderation.letter_for_moderator("l_1", deps, None, "en")
    assert ("writer_city", "personal_data") in {(f.field, f.category) for f in found.screening.findings}
    assert {f.field for f in found.screening.findings} == {"writer_city"}


async def test_a_slogan_in_look_alike_letters_lands_in_the_careful_lane(campaign_deps):
    letter = await received(campaign_deps, body="Держитесь! Слава Укр\u0061ине!")  # a Latin "a"
    assert (letter["lane"], letter["categories"]) == ("careful", ["slogans"])


async def test_a_moderator_clears_the_printed_name_and_only_the_city_is_on_the_scan(deps):
    await received(deps, body=CLEAN_BODY, writer_first_name="СлаваУкраине")

    letter = await moderation.redact("l_1", "m", Redaction(field="writer_first_name", text=""), deps, revision=0)

    assert letter["printed_writer_first_name"] is None and letter["writer_first_name"] == "СлаваУкраине"
    assert (letter["revision"], letter["clean"], letter["lane"]) == (1, True, "fast")
    await moderation.approve("l_1", "m", deps, revision=1)
    assert deps.outbox.of(LetterReady)[0].moderation == "redacted"
    text = scan_of(deps, "l_1")
    assert "Слава" not in text and text.endswith("Полтава")
    (entry,) = [e for e in await deps.decisions.history("l_1") if e["decision"] == "redacted"]
    assert (entry["field"], entry["before"], entry["after"]) == ("writer_first_name", "СлаваУкраине", None)


async def test_a_moderator_corrects_the_city_by_cutting_the_phone_number(deps):
    city = "Полтава, +380671234567"
    await received(deps, body=CLEAN_BODY, writer_city=city)

    await moderation.redact("l_1", "m", Redaction(field="writer_city", start=7, end=len(city)), deps,
                            then_approve=True)

    assert deps.letters.letters["l_1"]["state"] == "ready"
    assert scan_of(deps, "l_1").endswith("Ayşe, Полтава") and "380" not in scan_of(deps, "l_1")


async def test_approving_a_block_letter_needs_a_confirmation_of_exactly_its_block_findings(campaign_deps):
    await received(campaign_deps, body=SLOGAN_BODY, writer_city="+380671234567")
    both = {SLOGAN, ("personal_data.phone", "writer_city")}

    for confirmation in (None, {SLOGAN}, {*both, ("slogans.glory_to_ukraine", "writer_city")}):
        with pytest.raises(moderation.ConfirmationNeeded) as refused:
            await moderation.approve("l_1", "m", campaign_deps, revision=0, confirmed=confirmation)
        assert {(f.rule, f.field) for f in refused.value.findings} == both
    assert campaign_deps.letters.letters["l_1"]["state"] == "review_needed"

    letter = await moderation.approve("l_1", "m", campaign_deps, revision=0, confirmed=both)

    assert letter["state"] == "approved"
    assert letter["confirmed_findings"] == ["body/slogans.glory_to_ukraine", "writer_city/personal_data.phone"]
    (approved,) = [e for e in await campaign_deps.decisions.history("l_1") if e["decision"] == "approved"]
    assert approved["confirmed_findings"] == letter["confirmed_findings"]


async def test_a_confirmation_for_a_letter_that_changed_since_is_refused(campaign_deps):
    await received(campaign_deps, body=SLOGAN_BODY, writer_city="+380671234567")
    await moderation.redact("l_1", "other", Redaction(field="writer_city", text="Полтава"), campaign_deps)

    with pytest.raises(moderation.NotInReview):
        await moderation.approve("l_1", "m", campaign_deps, revision=0,
                                 confirmed={SLOGAN, ("personal_data.phone", "writer_city")})
    with pytest.raises(moderation.ConfirmationNeeded) as refused:
        await moderation.approve("l_1", "m", campaign_deps, confirmed={SLOGAN, ("personal_data.phone", "writer_city")})
    assert [(f.rule, f.field) for f in refused.value.findings] == [SLOGAN]


async def test_redact_then_approve_without_the_confirmation_changes_nothing(campaign_deps):
    await received(campaign_deps, body=SLOGAN_BODY, writer_city="+380671234567")

    with pytest.raises(moderation.ConfirmationNeeded) as refused:
        await moderation.redact("l_1", "m", Redaction(field="writer_city", text=""), campaign_deps, then_approve=True)

    assert [(f.rule, f.field) for f in refused.value.findings] == [SLOGAN]
    letter = campaign_deps.letters.letters["l_1"]
    assert (letter["state"], letter["revision"], letter["printed_writer_city"]) == ("review_needed", 0, "+380671234567")
    letter = await moderation.redact("l_1", "m", Redaction(field="writer_city", text=""), campaign_deps,
                                     then_approve=True, confirmed={SLOGAN})
    assert (letter["state"], letter["printed_writer_city"]) == ("approved", None)


async def test_an_approval_waits_out_the_undo_window_before_its_scan_goes_to_delivery(campaign_deps):
    await received(campaign_deps, body=CLEAN_BODY)

    letter = await moderation.approve("l_1", "m", campaign_deps, revision=0)

    assert letter["state"] == "approved" and campaign_deps.scans.scans() == {}
    (waiting,) = await release.awaiting_release(campaign_deps)
    assert waiting.letter["_id"] == "l_1" and WINDOW_S - 1 < waiting.seconds_left <= WINDOW_S
    assert await release.release_due_approvals(campaign_deps) == 0
    campaign_deps.clock.advance(WINDOW_S)
    assert await release.release_due_approvals(campaign_deps) == 1
    assert campaign_deps.letters.letters["l_1"]["state"] == "ready"
    assert campaign_deps.outbox.of(LetterReady)[0].moderation == "approved"
    assert await release.awaiting_release(campaign_deps) == []


async def test_undo_within_the_window_returns_the_letter_to_review_and_nothing_reaches_delivery(campaign_deps):
    await received(campaign_deps, body=CLEAN_BODY)
    await moderation.approve("l_1", "anna", campaign_deps)
    campaign_deps.clock.advance(WINDOW_S - 5)

    letter = await release.undo("l_1", "taras", campaign_deps)

    assert (letter["state"], letter["round"], letter["undone_by"]) == ("review_needed", 1, "taras")
    campaign_deps.clock.advance(WINDOW_S)
    assert await release.release_due_approvals(campaign_deps) == 0
    assert campaign_deps.outbox.of(LetterReady) == [] and campaign_deps.scans.scans() == {}
    await moderation.approve("l_1", "taras", campaign_deps)
    history = [(e["decision"], e["by"]) for e in await campaign_deps.decisions.history("l_1")]
    assert history == [("screened", "sorting"), ("approved", "anna"), ("undone", "taras"), ("approved", "taras")]


async def test_undo_after_the_window_is_refused(campaign_deps):
    await received(campaign_deps, body=CLEAN_BODY)
    await moderation.approve("l_1", "m", campaign_deps)
    campaign_deps.clock.advance(WINDOW_S)

    with pytest.raises(moderation.NotInReview) as refused:
        await release.undo("l_1", "m", campaign_deps)

    assert refused.value.state == "approved"
    await release.release_due_approvals(campaign_deps)
    with pytest.raises(moderation.NotInReview) as refused:
        await release.undo("l_1", "m", campaign_deps)
    assert refused.value.state == "ready"


async def test_a_scan_rendered_for_an_undone_approval_can_never_be_the_one_sent(campaign_deps):
    await received(campaign_deps, body=CLEAN_BODY)
    await moderation.approve("l_1", "m", campaign_deps)
    undone = await campaign_deps.letters.get("l_1")  # what a slow release sweep had read
    await release.undo("l_1", "m", campaign_deps)
    await moderation.redact("l_1", "m", Redaction(text="Держитесь, мы с вами."), campaign_deps)
    await moderation.approve("l_1", "m", campaign_deps)

    await scan_letter(undone, "approved", campaign_deps)

    letter = campaign_deps.letters.letters["l_1"]
    assert letter["state"] == "approved" and letter["scan_key"] != undone["scan_key"]
    assert letter["scan_key"] not in campaign_deps.scans.objects


async def test_bulk_approval_of_the_fast_lane_waits_out_the_window_and_refuses_a_flagged_city(campaign_deps):
    for n in range(3):
        await received(campaign_deps, f"l_{n}", body=CLEAN_BODY)
    await received(campaign_deps, "l_phone", body=CLEAN_BODY, writer_city="+380671234567")

    result = await moderation.bulk_approve(["l_0", "l_1", "l_2", "l_phone"], "m", campaign_deps)

    assert result.approved == ["l_0", "l_1", "l_2"] and result.refused == [("l_phone", "has_findings")]
    assert [item.letter["_id"] for item in await release.awaiting_release(campaign_deps)] == ["l_0", "l_1", "l_2"]
    assert campaign_deps.outbox.of(LetterReady) == []


async def test_with_the_second_moderator_rule_a_block_letter_needs_two_different_moderators():
    deps = make_deps(ModerationPolicy(second_moderator_for_block=True))
    await received(deps, body=SLOGAN_BODY)

    first = await moderation.approve("l_1", "anna", deps, confirmed={SLOGAN})

    assert (first["state"], first["first_approved_by"]) == ("review_needed", "anna")
    with pytest.raises(moderation.NotInReview, match="second moderator"):
        await moderation.approve("l_1", "anna", deps, confirmed={SLOGAN})
    with pytest.raises(moderation.ConfirmationNeeded):
        await moderation.approve("l_1", "taras", deps)
    second = await moderation.approve("l_1", "taras", deps, confirmed={SLOGAN})
    assert (second["state"], second["decided_by"]) == ("approved", "taras")
    assert [(e["decision"], e["by"]) for e in await deps.decisions.history("l_1")][1:] == [
        ("first_approval", "anna"), ("approved", "taras")]


async def test_a_redaction_after_the_first_of_two_approvals_asks_for_two_again():
    deps = make_deps(ModerationPolicy(second_moderator_for_block=True))
    await received(deps, body=SLOGAN_BODY, writer_city="+380671234567")
    await moderation.approve("l_1", "anna", deps, confirmed={SLOGAN, ("personal_data.phone", "writer_city")})
    await moderation.redact("l_1", "taras", Redaction(field="writer_city", text="Полтава"), deps)

    letter = await moderation.approve("l_1", "taras", deps, confirmed={SLOGAN})

    assert (letter["state"], letter["first_approved_by"]) == ("review_needed", "taras")
    assert (await moderation.approve("l_1", "anna", deps, confirmed={SLOGAN}))["state"] == "approved"


async def test_a_clean_letter_needs_one_moderator_even_with_the_second_moderator_rule():
    deps = make_deps(ModerationPolicy(second_moderator_for_block=True))
    await received(deps, body=CLEAN_BODY)
    assert (await moderation.approve("l_1", "anna", deps))["state"] == "approved"


async def test_agreement_compares_screenings_verdict_recorded_at_decision_time_with_each_decision(campaign_deps):
    deps = campaign_deps
    for letter_id, body in [("l_flag_rejected", SLOGAN_BODY), ("l_clean_ok", CLEAN_BODY),
                            ("l_flag_ok", SLOGAN_BODY), ("l_clean_redacted", CLEAN_BODY)]:
        await received(deps, letter_id, body=body)
    await received(deps, "l_paper", body="", page_keys=["pages/a.jpg"], channel="paper")
    await moderation.reject("l_flag_rejected", "m", "лозунги", deps)
    await moderation.approve("l_clean_ok", "m", deps)
    await moderation.approve("l_flag_ok", "m", deps, confirmed={SLOGAN})
    await moderation.redact("l_clean_redacted", "m", Redaction(text="Держитесь!"), deps, then_approve=True)
    await moderation.reject("l_paper", "m", "неразборчиво", deps)  # screening cannot read photographs

    figures = await moderation.screening_agreement(200, deps)

    assert (figures.decided, figures.agreed, figures.missed_by_screening, figures.flagged_needlessly) == (4, 2, 1, 1)
    latest = await moderation.screening_agreement(2, deps)
    assert (latest.decided, latest.missed_by_screening, latest.flagged_needlessly) == (2, 1, 1)
    await release.undo("l_clean_redacted", "m", deps)
    assert (await moderation.screening_agreement(200, deps)).decided == 3, "an undone approval is no decision"
