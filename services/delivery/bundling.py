"""Bundles: one per intermediary, up to their capacity: claim the letters, make the PDF and the
manifest, store them; cancel a bundle that must not leave. Sending is in sending.py.

Two workers (the schedule and an operator, or two replicas) never build or send the same bundle:
each first takes a short lease on it with a conditional update, and letters are claimed into a
bundle one by one, each only from `queued`. A worker that dies lets its lease lapse; whoever comes
next finishes the job (a half-built bundle is resumed, an unsent one is sent).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from services.delivery.bundle_pdf import ScanFile, UnreadableScan, bundle_files, page_count
from services.delivery.context import Delivery
from services.delivery.domain import Held, stops_bundle
from services.delivery.errors import NotFound
from services.delivery.model import LONG_AGO, Bundle, OutgoingLetter
from services.delivery.service import move_letter, route_unrouted, state_event

log = logging.getLogger("delivery.bundles")

# Building or sending a bundle takes seconds; a crashed worker's claim lapses after this.
LEASE_S = 120.0
LEASE = timedelta(seconds=LEASE_S)


@dataclass
class BuildReport:
    made: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


async def build_bundles(delivery: Delivery, intermediary_id: str | None = None) -> BuildReport:
    """Make a bundle for each intermediary with queued letters (or for one), within their capacity."""
    await resume_building(delivery)
    await route_unrouted(delivery)
    report = BuildReport()
    targets = [intermediary_id] if intermediary_id else await delivery.letters.intermediaries_with_queued()
    for target in targets:
        try:
            outcome = await build_for(delivery, target)
        except Exception as error:  # one intermediary's trouble (S3 down…) must not stop the others
            log.warning("bundle not built", extra={"intermediary_id": target, "error": repr(error)})
            outcome = "not built yet: storage or database unavailable, will retry"
        if isinstance(outcome, Bundle):
            report.made.append(outcome.id)
        else:
            report.skipped[target] = outcome
    return report


async def build_for(delivery: Delivery, intermediary_id: str) -> Bundle | str:
    person = await delivery.intermediaries.get(intermediary_id)
    if person is None or not person.active:
        return "no such active intermediary"
    # One open bundle per intermediary: capacity means what they can take at a time, and a
    # failing channel should not pile up more bundles behind the one it cannot send.
    if (pending := await delivery.bundles.open_for(intermediary_id)) is not None:
        return f"bundle {pending.id} is still {pending.state}"
    letters = await delivery.letters.queued_for(intermediary_id, person.capacity_per_bundle)
    if not letters:
        return "no letters queued"
    now = delivery.clock()
    # The object key is random: a bundle cannot be fetched by guessing its name.
    key = f"bundles/{secrets.token_urlsafe(32)}"
    bundle = Bundle(id=f"b_{secrets.token_hex(8)}", intermediary_id=intermediary_id, prisoner_id=person.prisoner_id,
                    channel=person.channel, pdf_key=f"{key}/bundle.pdf", manifest_key=f"{key}/manifest.json",
                    created_at=now, leased_until=now + LEASE)
    await delivery.bundles.create(bundle)
    claimed = [letter for letter in letters if await delivery.letters.move(
        letter.id, "bundled", ("queued",), only_if={"intermediary_id": intermediary_id}, bundle_id=bundle.id,
        reason=None)]
    if not claimed:
        await delivery.bundles.update(bundle.id, ["building"], state="cancelled", leased_until=LONG_AGO)
        return "its letters were taken by another builder"
    return await finish_bundle(delivery, bundle)


async def resume_building(delivery: Delivery) -> None:
    """Finish bundles whose builder stopped half-way (its lease lapsed)."""
    now = delivery.clock()
    for bundle in await delivery.bundles.stale_building(now):
        if bundle.purpose == "release":
            # Made in an operator's request (release.py): their next request makes it again.
            await delivery.bundles.update(bundle.id, ["building"], state="cancelled", leased_until=LONG_AGO)
            continue
        if await delivery.bundles.claim(bundle.id, ["building"], now, LEASE_S):
            await finish_bundle(delivery, bundle)


async def finish_bundle(delivery: Delivery, bundle: Bundle) -> Bundle:
    letters = [letter for letter in await delivery.letters.in_bundle(bundle.id) if letter.state == "bundled"]
    scans = await _readable_scans(delivery, letters)
    if not scans:
        await delivery.bundles.update(bundle.id, ["building"], state="cancelled", leased_until=LONG_AGO)
        return bundle
    prisoner = await delivery.prisoners.get(bundle.prisoner_id)
    assembled, listing = await asyncio.to_thread(
        bundle_files, delivery.policy.font_path, prisoner.name_ru if prisoner else bundle.prisoner_id, bundle.id,
        bundle.prisoner_id, bundle.intermediary_id, bundle.created_at, scans)
    await delivery.store.put(bundle.pdf_key, assembled.pdf, "application/pdf")
    await delivery.store.put(bundle.manifest_key, listing, "application/json")
    packed = {scan.letter_id for scan in scans}
    for letter in letters:
        if letter.id in packed:
            await _announce_bundled(delivery, letter, bundle)
    now = delivery.clock()
    await delivery.bundles.update(
        bundle.id, ["building"], state="ready", letter_ids=[scan.letter_id for scan in scans], pages=assembled.pages,
        pdf_sha256=assembled.sha256, pdf_bytes=len(assembled.pdf), ready_at=now, next_attempt_at=now,
        leased_until=LONG_AGO)
    log.info("bundle ready", extra={"bundle_id": bundle.id, "letters": len(scans), "pages": assembled.pages})
    ready = await delivery.bundles.get(bundle.id) or bundle
    # The prisoner may have been released while the bundle was being made: stop it now.
    if (hold := stops_bundle(await delivery.prisoners.get(bundle.prisoner_id), bundle.created_at)) and (
            await delivery.bundles.claim(bundle.id, ["ready"], delivery.clock(), LEASE_S)):
        await cancel_bundle(delivery, ready, hold)
    return ready


async def _announce_bundled(delivery: Delivery, letter: OutgoingLetter, bundle: Bundle) -> None:
    """The letter is in a bundle whose file is stored: said in the same write as a mark on the letter, before
    the bundle is ready, so a builder that stops between the two is resumed and has nothing left to say."""
    event = state_event(letter, "bundled")
    if await delivery.letters.note(letter.id, only_if={"state": "bundled", "bundle_id": bundle.id,
                                                       "announced_bundle_id": {"$ne": bundle.id}},
                                   announcing=[event], announced_bundle_id=bundle.id):
        await delivery.outbox.publish(event)


async def _readable_scans(delivery: Delivery, letters: list[OutgoingLetter]) -> list[ScanFile]:
    """The letters' scans; a scan that is gone or damaged fails its letter, not the whole bundle."""
    scans = []
    for letter in letters:
        try:
            data = await delivery.store.get(letter.scan_key)
            page_count(data)
        except UnreadableScan as error:
            await move_letter(delivery, letter, "failed", reason=f"the scan cannot be read: {error}")
            continue
        except Exception as error:
            if _missing(error):
                await move_letter(delivery, letter, "failed", reason="the scan is missing from storage")
                continue
            raise  # storage is down: the whole bundle waits and is resumed later
        if hashlib.sha256(data).hexdigest() != letter.scan_sha256:
            log.warning("scan changed since it was approved", extra={"letter_id": letter.id})
        scans.append(ScanFile(letter.id, data))
    return scans


def _missing(error: Exception) -> bool:
    code = getattr(error, "response", {}).get("Error", {}).get("Code")
    return code in ("NoSuchKey", "404", "NotFound")


async def cancel_bundle(delivery: Delivery, bundle: Bundle, hold: Held | None) -> None:
    """Stop a bundle that must not leave: its letters are held (with why) or go back to the queue."""
    await delivery.bundles.update(bundle.id, ["building", "ready", "failed"], state="cancelled", leased_until=LONG_AGO,
                                  last_error=hold.reason if hold else "its intermediary was withdrawn")
    for letter in await delivery.letters.in_bundle(bundle.id):
        if hold is not None:
            await move_letter(delivery, letter, "held", sources=("bundled", "failed"), reason=hold.reason,
                              hold_kind=hold.kind)
        else:
            await move_letter(delivery, letter, "queued", sources=("bundled", "failed"), bundle_id=None)
    log.info("bundle cancelled", extra={"bundle_id": bundle.id, "reason": hold.reason if hold else "withdrawn"})


async def dissolve_open_bundles(delivery: Delivery, intermediary_id: str) -> None:
    """An intermediary was withdrawn: their unsent bundle is undone and its letters queue again."""
    pending = await delivery.bundles.open_for(intermediary_id)
    if pending is not None and pending.state != "building" and await delivery.bundles.claim(
            pending.id, ["ready", "failed"], delivery.clock(), LEASE_S):
        await cancel_bundle(delivery, pending, None)


async def get_bundle(delivery: Delivery, bundle_id: str) -> Bundle:
    bundle = await delivery.bundles.get(bundle_id)
    if bundle is None:
        raise NotFound(f"no bundle {bundle_id!r}")
    return bundle
