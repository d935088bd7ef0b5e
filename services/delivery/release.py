"""Letters kept for release: held letters are never discarded, and on a release an operator hands them
all to the person or their family as one bundle (one PDF, made like every bundle).

Letters are held when the prisoner was released or died, when nobody could reach them, or while
they were moved (`domain.KEPT_HOLD_KINDS`). Delivery keeps every one of them until an operator
either hands them over here, or archives one with a reason (service.archive): both audited.

The hand-over claims the letters for its bundle, stores the PDF, then moves each claimed letter
held → handed_over with its event (`handed_over_to`: person or family) and a line of its history in
one write; intake tells each writer who consented that their letter was handed over. A request that
stops half-way leaves the letters held, and the next request takes them again.
"""

from __future__ import annotations

import asyncio
import logging
import secrets

from services.delivery.bundle_pdf import ScanFile, bundle_files
from services.delivery.bundling import LEASE
from services.delivery.context import Delivery
from services.delivery.domain import release_problem
from services.delivery.errors import Conflict, NotFound
from services.delivery.model import LONG_AGO, Actor, Bundle, OutgoingLetter, ReleaseRecipient, RouteStep
from services.delivery.service import move_letter

log = logging.getLogger("delivery.release")

RECIPIENT_WORDS = {"person": "the person themselves", "family": "their family"}


async def kept_letters(delivery: Delivery, prisoner_id: str) -> list[OutgoingLetter]:
    """The letters delivery keeps for this prisoner: held and not archived, oldest first."""
    return [letter for letter in await delivery.letters.of_prisoner(prisoner_id, ("held",)) if not letter.archived]


async def hand_over_on_release(delivery: Delivery, prisoner_id: str, recipient: ReleaseRecipient,
                               actor: Actor) -> Bundle:
    """Every letter kept for a released (or deceased) prisoner, in one bundle, handed over by an operator."""
    prisoner = await delivery.prisoners.get(prisoner_id)
    if prisoner is None:
        raise NotFound(f"no prisoner {prisoner_id!r}")
    if problem := release_problem(prisoner, recipient):
        raise Conflict(problem)
    if any(b.purpose == "release" and b.leased_until > delivery.clock()
           for b in await delivery.bundles.of_prisoner(prisoner_id, ("building",))):
        raise Conflict("a hand-over of these letters is being made right now")
    if not await kept_letters(delivery, prisoner_id):
        raise Conflict("no letters are kept for this prisoner")
    bundle = await _claim(delivery, prisoner_id, recipient)
    letters = [letter for letter in await kept_letters(delivery, prisoner_id)
               if letter.release_bundle_id == bundle.id]
    scans = [ScanFile(letter.id, await delivery.store.get(letter.scan_key)) for letter in letters]
    assembled, listing = await asyncio.to_thread(bundle_files, delivery.policy.font_path, prisoner.name_ru, bundle.id,
                                                 bundle.prisoner_id, bundle.intermediary_id, bundle.created_at, scans)
    pdf, pages, sha256 = assembled.pdf, assembled.pages, assembled.sha256
    await delivery.store.put(bundle.pdf_key, pdf, "application/pdf")
    await delivery.store.put(bundle.manifest_key, listing, "application/json")
    reason = f"handed over on release to {RECIPIENT_WORDS[recipient]}, with the other letters kept for them"
    handed = []
    for letter in letters:
        step = RouteStep(at=delivery.clock(), change="release_hand_over", state="handed_over",
                         from_facility_id=letter.facility_id, from_intermediary_id=letter.intermediary_id,
                         bundle_id=bundle.id, note=reason)
        if await move_letter(delivery, letter, "handed_over", sources=("held",), reason=reason,
                             only_if={"archived": False, "release_bundle_id": bundle.id}, history=step,
                             handed_over_to=recipient, bundle_id=bundle.id):
            handed.append(letter.id)
    now = delivery.clock()
    await delivery.bundles.update(bundle.id, ["building"], state="sent", letter_ids=handed, pages=pages,
                                  pdf_sha256=sha256, pdf_bytes=len(pdf), ready_at=now, sent_at=now,
                                  sent_by=actor.who, leased_until=LONG_AGO)
    await delivery.audit.record(actor.who, "release.hand_over", prisoner_id, role=actor.role, bundle_id=bundle.id,
                                recipient=recipient, letters=handed)
    log.info("letters handed over on release", extra={"prisoner_id": prisoner_id, "bundle_id": bundle.id,
                                                       "letters": len(handed)})
    return await delivery.bundles.get(bundle.id) or bundle


async def _claim(delivery: Delivery, prisoner_id: str, recipient: ReleaseRecipient) -> Bundle:
    now = delivery.clock()
    # The object key is random, like every bundle's: the file is reached only through a short-lived link.
    key = f"bundles/{secrets.token_urlsafe(32)}"
    bundle = Bundle(id=f"b_{secrets.token_hex(8)}", intermediary_id=None, prisoner_id=prisoner_id, channel="manual",
                    pdf_key=f"{key}/bundle.pdf", manifest_key=f"{key}/manifest.json", created_at=now,
                    leased_until=now + LEASE, purpose="release", recipient=recipient)
    await delivery.bundles.create(bundle)
    for letter in await kept_letters(delivery, prisoner_id):
        await delivery.letters.note(letter.id, only_if={"state": "held", "archived": False},
                                    release_bundle_id=bundle.id)
    return bundle
