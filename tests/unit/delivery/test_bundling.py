"""Bundles from queued letters to the intermediary's hands, against in-memory ports."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from pypdf import PdfReader

from services.delivery import bundling, directory, sending, service
from services.delivery.model import Actor
from services.delivery.ports import ChannelError
from shared.events import LetterDeliveryUpdated
from tests.support import pdf_text, squash
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


async def queue(delivery, *letter_ids: str, prisoner_id: str = "p_1") -> None:
    for letter_id in letter_ids:
        data = scan_pdf(f"Письмо {letter_id}")
        event = make_ready(letter_id, prisoner_id, scan=data)
        await delivery.store.put(event.scan_key, data, "application/pdf")
        await service.queue_letter(event, delivery=delivery)
        delivery.clock.advance(1)


@pytest.fixture
async def delivery():
    delivery = make_delivery()
    await delivery.prisoners.seed(make_prisoner())
    await delivery.intermediaries.save(make_intermediary(capacity_per_bundle=2))
    return delivery


def states(delivery) -> dict[str, str]:
    return {letter_id: doc["state"] for letter_id, doc in delivery.letters.docs.items()}


def announced(delivery, letter_id: str) -> list[str]:
    return [e.state for e in delivery.outbox.of(LetterDeliveryUpdated) if e.letter_id == letter_id]


async def test_a_bundle_takes_the_oldest_letters_up_to_the_intermediarys_capacity(delivery):
    await queue(delivery, "l_1", "l_2", "l_3")

    report = await bundling.build_bundles(delivery)

    (bundle_id,) = report.made
    bundle = await delivery.bundles.get(bundle_id)
    assert (bundle.state, bundle.letter_ids, bundle.pages) == ("ready", ["l_1", "l_2"], 3)
    assert states(delivery) == {"l_1": "bundled", "l_2": "bundled", "l_3": "queued"}
    pdf = delivery.store.objects[bundle.pdf_key]
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 3
    assert "Количество писем: 2" in squash(pdf_text(pdf))
    listing = json.loads(delivery.store.objects[bundle.manifest_key])
    assert [entry["letter_id"] for entry in listing["letters"]] == ["l_1", "l_2"]
    assert announced(delivery, "l_1") == ["bundled"]


async def test_the_bundle_key_is_not_guessable_from_anything_known(delivery):
    await queue(delivery, "l_1")
    (bundle_id,) = (await bundling.build_bundles(delivery)).made
    bundle = await delivery.bundles.get(bundle_id)
    secret = bundle.pdf_key.split("/")[1]
    assert len(secret) >= 40 and bundle_id not in bundle.pdf_key and "l_1" not in bundle.pdf_key


async def test_one_open_bundle_per_intermediary_so_a_second_build_waits(delivery):
    await queue(delivery, "l_1", "l_2", "l_3")
    first = await bundling.build_bundles(delivery)
    second = await bundling.build_bundles(delivery)
    assert len(first.made) == 1 and second.made == []
    assert "still ready" in second.skipped["i_relative"]


async def test_a_sent_bundle_moves_its_letters_to_sent_and_gives_the_intermediary_a_personal_link(delivery):
    await queue(delivery, "l_1", "l_2")
    await bundling.build_bundles(delivery)

    assert await sending.send_due(delivery) == 1

    (parcel,) = delivery.channels["email"].parcels
    assert parcel.address == "relative@example.test" and parcel.prisoner_name_ru == "Ремзи Демо"
    assert parcel.letters == 2 and parcel.pdf is not None and parcel.download_url is None
    assert parcel.confirm_url.startswith("https://delivery.test/confirm/")
    assert states(delivery) == {"l_1": "sent", "l_2": "sent"}
    assert announced(delivery, "l_2") == ["bundled", "sent"]
    assert await sending.send_due(delivery) == 0  # nothing sent twice


async def test_a_bundle_too_large_to_attach_goes_as_a_time_limited_link():
    delivery = make_delivery(attachment_max_bytes=100, email_link_ttl_s=3600)
    await delivery.intermediaries.save(make_intermediary())
    await queue(delivery, "l_1")
    await bundling.build_bundles(delivery)
    await sending.send_due(delivery)
    (parcel,) = delivery.channels["email"].parcels
    assert parcel.pdf is None and parcel.download_url.endswith("expires=3600")


async def test_a_failed_send_is_retried_later_with_growing_waits_then_succeeds(delivery):
    channel = delivery.channels["email"]
    channel.failures = [ChannelError("SMTP: connection refused"), ChannelError("SMTP: connection refused")]
    await queue(delivery, "l_1")
    (bundle_id,) = (await bundling.build_bundles(delivery)).made

    await sending.send_due(delivery)
    bundle = await delivery.bundles.get(bundle_id)
    assert (bundle.state, bundle.attempts, bundle.last_error) == ("ready", 1, "SMTP: connection refused")
    assert bundle.next_attempt_at == delivery.clock() + timedelta(seconds=10)
    assert await sending.send_due(delivery) == 0  # not due yet

    delivery.clock.advance(10)
    await sending.send_due(delivery)
    assert (await delivery.bundles.get(bundle_id)).next_attempt_at == delivery.clock() + timedelta(seconds=20)

    delivery.clock.advance(20)
    assert await sending.send_due(delivery) == 1
    assert (await delivery.bundles.get(bundle_id)).state == "sent" and states(delivery) == {"l_1": "sent"}
    assert delivery.confirmations.links and all(
        link.bundle_id == bundle_id for link in delivery.confirmations.links.values())
    assert len(delivery.confirmations.links) == 1  # links of failed attempts reached no one and are gone


async def test_after_the_last_attempt_the_bundle_fails_with_the_reason_and_an_operator_can_requeue_it(delivery):
    delivery.channels["email"].failures = [ChannelError("SMTP: timeout")] * 4
    await queue(delivery, "l_1")
    (bundle_id,) = (await bundling.build_bundles(delivery)).made
    for _ in range(4):
        await sending.send_due(delivery)
        delivery.clock.advance(100)

    bundle = await delivery.bundles.get(bundle_id)
    assert (bundle.state, bundle.attempts, bundle.last_error) == ("failed", 4, "SMTP: timeout")
    letter = await delivery.letters.get("l_1")
    assert (letter.state, letter.reason) == ("failed", "SMTP: timeout")

    again = await sending.requeue(delivery, bundle_id, OPERATOR)
    assert (again.state, again.attempts) == ("ready", 0)
    assert states(delivery) == {"l_1": "bundled"}
    assert await sending.requeue(delivery, bundle_id, OPERATOR) == again  # a double click changes nothing
    await sending.send_due(delivery)
    assert states(delivery) == {"l_1": "sent"}
    assert delivery.audit.actions().count("bundle.requeue") == 1


async def test_a_refused_address_fails_the_bundle_at_once(delivery):
    delivery.channels["email"].failures = [ChannelError("recipient refused (550)", permanent=True)]
    await queue(delivery, "l_1")
    (bundle_id,) = (await bundling.build_bundles(delivery)).made
    await sending.send_due(delivery)
    bundle = await delivery.bundles.get(bundle_id)
    assert (bundle.state, bundle.attempts) == ("failed", 1)


async def test_a_manual_bundle_waits_for_the_operator_who_downloads_it_and_marks_it_sent():
    delivery = make_delivery()
    await delivery.intermediaries.save(make_intermediary(id="i_lawyer", channel="manual", address="+000 messenger"))
    await queue(delivery, "l_1")
    (bundle_id,) = (await bundling.build_bundles(delivery)).made
    assert await sending.send_due(delivery) == 0

    url, ttl = await sending.download_link(delivery, bundle_id, OPERATOR)
    assert ttl == 900 and url.endswith("expires=900")
    bundle, confirm_url = await sending.send_now(delivery, bundle_id, OPERATOR)
    assert bundle.state == "sent" and bundle.sent_by == "anna.operator"
    assert confirm_url.startswith("https://delivery.test/confirm/")
    again, no_new_link = await sending.send_now(delivery, bundle_id, OPERATOR)
    assert again.state == "sent" and no_new_link is None
    assert delivery.audit.actions() == ["bundle.download", "bundle.send"]


async def test_a_bundle_made_before_the_prisoners_release_is_not_sent_and_its_letters_are_held(delivery):
    await queue(delivery, "l_1")
    (bundle_id,) = (await bundling.build_bundles(delivery)).made
    bundle = await delivery.bundles.get(bundle_id)
    await delivery.bundles.claim(bundle_id, ["ready"], delivery.clock(), 60)  # a sender holds it...
    delivery.clock.advance(1)
    await directory.prisoner_updated(prisoner_news("released", at=delivery.clock()), delivery=delivery)
    assert (await delivery.bundles.get(bundle_id)).state == "ready"  # ...so the release leaves it

    await sending.send_bundle(delivery, bundle, Actor("delivery", "system"))  # the check just before sending

    assert (await delivery.bundles.get(bundle_id)).state == "cancelled"
    assert delivery.channels["email"].parcels == []
    letter = await delivery.letters.get("l_1")
    assert (letter.state, letter.hold_kind) == ("held", "prisoner_released")


async def test_a_builder_that_died_half_way_is_finished_by_the_next_one(delivery):
    await queue(delivery, "l_1")
    delivery.store.down = True
    report = await bundling.build_bundles(delivery)
    assert report.made == [] and "not built yet" in report.skipped["i_relative"]
    assert states(delivery) == {"l_1": "bundled"}

    delivery.store.down = False
    delivery.clock.advance(bundling.LEASE_S + 1)
    await bundling.resume_building(delivery)

    (bundle,) = await delivery.bundles.listing(["ready"], 10)
    assert bundle.letter_ids == ["l_1"]


async def test_a_letter_whose_scan_is_gone_fails_alone_and_the_others_are_bundled(delivery):
    await queue(delivery, "l_1", "l_2")
    del delivery.store.objects["scans/l_1-secret.pdf"]
    (bundle_id,) = (await bundling.build_bundles(delivery)).made
    assert (await delivery.bundles.get(bundle_id)).letter_ids == ["l_2"]
    letter = await delivery.letters.get("l_1")
    assert (letter.state, letter.reason) == ("failed", "the scan is missing from storage")


async def test_a_bundle_still_being_made_when_the_prisoner_is_released_is_cancelled_once_made(delivery):
    await queue(delivery, "l_1")
    delivery.store.down = True
    await bundling.build_bundles(delivery)  # the letter is claimed, the PDF not made yet
    delivery.clock.advance(1)
    await directory.prisoner_updated(prisoner_news("released", at=delivery.clock()),
                                     delivery=delivery)
    delivery.store.down = False
    delivery.clock.advance(bundling.LEASE_S + 1)

    await bundling.resume_building(delivery)

    (bundle,) = await delivery.bundles.listing(["cancelled"], 10)
    assert bundle.letter_ids == ["l_1"]
    assert (await delivery.letters.get("l_1")).state == "held"
    assert await sending.send_due(delivery) == 0
