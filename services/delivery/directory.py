"""Who letters go to: prisoners' status (from intake's directory) and their intermediaries.

A prisoner's status drives the queue: released or deceased → the letters not yet sent are held
and kept, listed for operators to hand over on release (release.py), redirect or archive;
transferred → letters follow the prisoner to the new facility (transfers.py), and the prisoner is
flagged for an operator to check the route.
"""

from __future__ import annotations

import logging

from services.delivery.bundling import LEASE_S, cancel_bundle, dissolve_open_bundles
from services.delivery.context import Delivery
from services.delivery.domain import Held, needs_review, status_hold, stops_bundle
from services.delivery.errors import Invalid, NotFound
from services.delivery.model import SCHEDULER, Actor, Intermediary, Prisoner
from services.delivery.service import move_letter, reroute_prisoner
from services.delivery.transfers import follow_prisoner
from shared.demo import demo_campaign
from shared.events import PrisonerUpdated

log = logging.getLogger("delivery.directory")


async def prisoner_updated(event: PrisonerUpdated, *, delivery: Delivery) -> None:
    """Follow a change in intake's prisoner directory; older news than what is stored is ignored."""
    previous = await delivery.prisoners.get(event.prisoner_id)
    # To the millisecond, as stored times are: the same news again compares equal to what it stored.
    updated_at = event.occurred_at.replace(microsecond=event.occurred_at.microsecond // 1000 * 1000)
    if previous is not None and previous.updated_at > updated_at:
        return
    if previous is None or previous.updated_at < updated_at:
        changed = previous is None or previous.status != event.status
        moved = previous is None or previous.facility_id != event.facility_id
        prisoner = Prisoner(
            id=event.prisoner_id, name_ru=event.name_ru, status=event.status, status_since=event.status_since,
            updated_at=updated_at,
            status_changed_at=updated_at if changed else previous.status_changed_at,
            review_reason=needs_review(previous.status if previous else None, event.status)
            or (previous.review_reason if previous else None),
            facility_id=event.facility_id, facility_name=event.facility.name if event.facility else None,
        )
        if not await delivery.prisoners.save_if_newer(prisoner):
            return
        if not (changed or moved):
            return
    # Also on a redelivery of the same news: the first attempt may have stopped half-way.
    current = await delivery.prisoners.get(event.prisoner_id)
    if current is not None and (hold := status_hold(current)) is not None:
        await hold_pending(delivery, current, hold)
    elif current is not None:
        await follow_prisoner(delivery, current)
        await reroute_prisoner(delivery, current.id)


async def hold_pending(delivery: Delivery, prisoner: Prisoner, hold: Held) -> int:
    """Hold every letter of this prisoner that has not left yet, and stop their unsent bundles."""
    now = delivery.clock()
    for bundle in await delivery.bundles.of_prisoner(prisoner.id, ("ready", "failed")):
        # A bundle being sent right now is left alone: the check just before sending stops it.
        if stops_bundle(prisoner, bundle.created_at) and await delivery.bundles.claim(
                bundle.id, ["ready", "failed"], now, LEASE_S):
            await cancel_bundle(delivery, bundle, hold)
    held = 0
    for letter in await delivery.letters.of_prisoner(prisoner.id, ("queued",)):
        if not letter.redirected:
            held += await move_letter(delivery, letter, "held", sources=("queued",), reason=hold.reason,
                                      hold_kind=hold.kind)
    log.info("letters held", extra={"prisoner_id": prisoner.id, "status": prisoner.status, "held": held})
    return held


async def mark_reviewed(delivery: Delivery, prisoner_id: str, actor: Actor) -> None:
    if not await delivery.prisoners.set_review(prisoner_id, None):
        raise NotFound(f"no prisoner {prisoner_id!r}")
    await delivery.audit.record(actor.who, "prisoner.reviewed", prisoner_id, role=actor.role)


async def save_intermediary(delivery: Delivery, intermediary: Intermediary, actor: Actor) -> Intermediary:
    """Add or change an intermediary; letters without a usable route are routed again."""
    previous = await delivery.intermediaries.get(intermediary.id)
    if previous is not None and previous.prisoner_id != intermediary.prisoner_id:
        raise Invalid("an intermediary stays with one prisoner; add a new one for another prisoner")
    await delivery.intermediaries.save(intermediary)
    await delivery.audit.record(actor.who, "intermediary.save", intermediary.id, role=actor.role,
                                active=intermediary.active, channel=intermediary.channel)
    if previous is not None and previous.active and not intermediary.active:
        await dissolve_open_bundles(delivery, intermediary.id)
    await reroute_prisoner(delivery, intermediary.prisoner_id)
    return intermediary


async def load_demo_intermediaries(delivery: Delivery) -> None:
    """The fictional demo campaign's intermediaries (and prisoners, until intake's news arrives)."""
    if not await delivery.intermediaries.is_empty():
        return
    campaign = demo_campaign()
    for prisoner in campaign["prisoners"]:
        # Updated long ago (the default): any real news from intake's directory replaces this.
        await delivery.prisoners.seed(Prisoner(id=prisoner["id"], name_ru=prisoner["names"]["ru"],
                                               status=prisoner.get("status", "detained")))
    for person in campaign["intermediaries"]:
        await delivery.intermediaries.save(Intermediary.model_validate({"active": True, **person}))
    await delivery.audit.record(SCHEDULER.who, "demo.load", "intermediaries", role=SCHEDULER.role,
                                count=len(campaign["intermediaries"]))
    log.info("demo intermediaries loaded", extra={"count": len(campaign["intermediaries"])})
