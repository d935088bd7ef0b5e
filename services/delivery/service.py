"""Delivery's use cases for letters: route on arrival, hold, redirect, archive, record what happened.

Every change is a conditional move of one letter (see `domain.TRANSITIONS`), written together with
its `letter.delivery_updated` event (shared/outbox.py), whose id is fixed by the letter and the
state, so a redelivered message or a double click changes nothing twice and announces nothing new.
"""

from __future__ import annotations

import logging

from services.delivery import metrics
from services.delivery.context import Delivery
from services.delivery.domain import Held, Routed, choose_route, reaches, sources_of
from services.delivery.errors import Conflict, Invalid, NotFound
from services.delivery.model import Actor, OutgoingLetter, RouteStep
from shared.events import LetterDeliveryUpdated, LetterEvent, LetterQueued, LetterReady, event_id_for

log = logging.getLogger("delivery")


def state_event(letter: OutgoingLetter, state: str, reason: str | None = None,
                hold_kind: str | None = None, *, occasion: str | None = None,
                handed_over_to: str | None = None) -> LetterDeliveryUpdated:
    """The letter's move to `state`. A move made for an `occasion` (a transfer to one facility) has an id
    of its own: the letter may have been in that state before, and this is news."""
    event = LetterDeliveryUpdated.for_state(letter.id, state, prisoner_id=letter.prisoner_id, reason=reason,
                                            hold_kind=hold_kind if state == "held" else None,
                                            handed_over_to=handed_over_to if state == "handed_over" else None)
    if occasion is None:
        return event
    return event.model_copy(update={
        "event_id": event_id_for(letter.id, f"{LetterDeliveryUpdated.routing_key}:{state}:{occasion}")})


async def move_letter(delivery: Delivery, letter: OutgoingLetter, target: str, *, reason: str | None = None,
                      sources: tuple[str, ...] | None = None, only_if: dict | None = None,
                      history: RouteStep | None = None, occasion: str | None = None,
                      handed_over_to: str | None = None, **facts) -> bool:
    """Move one letter if its state allows it, with the event announcing it (and a line of its history)
    in the same write; False when nothing changed."""
    facts.setdefault("hold_kind", None)
    event = state_event(letter, target, reason, facts.get("hold_kind"), occasion=occasion,
                        handed_over_to=handed_over_to)
    moved = await delivery.letters.move(letter.id, target, sources or sources_of(target), only_if=only_if,
                                        reason=reason, announcing=[event], history=history, **facts)
    if moved:
        metrics.TRANSITIONS.labels(target).inc()
        await delivery.outbox.publish(event)
    return moved


async def route(delivery: Delivery, prisoner_id: str) -> Routed | Held:
    prisoner = await delivery.prisoners.get(prisoner_id)
    people = await delivery.intermediaries.of_prisoner(prisoner_id)
    active = [person.id for person in people if person.active]
    # One active intermediary carries the letter however full its queue is: nothing to count.
    load = await delivery.letters.load(active) if len(active) > 1 else {}
    return choose_route(prisoner, people, load)


async def queue_letter(event: LetterReady, *, delivery: Delivery) -> bool:
    """Put a ready letter on the outgoing queue for its intermediary, or hold it with the reason.

    Returns False when it was already there (a redelivery).
    """
    if await delivery.letters.get(event.letter_id) is not None:
        return False
    letter = await _new_letter(delivery, event)
    # Queued, and held at once when it has no route: its events are stored with it, so a redelivery
    # finds the letter and has nothing left to announce.
    events: list[LetterEvent] = [LetterQueued.for_letter(letter.id, prisoner_id=letter.prisoner_id)]
    if letter.state == "held":
        events.append(state_event(letter, "held", letter.reason, letter.hold_kind))
    added = await delivery.letters.enqueue(letter, announcing=events)
    if added:
        metrics.RECEIVED.inc()
        for stored in events:
            await delivery.outbox.publish(stored)
    return added


async def _new_letter(delivery: Delivery, event: LetterReady) -> OutgoingLetter:
    decision = await route(delivery, event.prisoner_id)
    now = delivery.clock()
    prisoner = await delivery.prisoners.get(event.prisoner_id)
    facts = {"id": event.letter_id, "prisoner_id": event.prisoner_id, "scan_key": event.scan_key,
             "scan_sha256": event.scan_sha256, "pages": event.pages, "queued_at": now, "changed_at": now,
             "facility_id": prisoner.facility_id if prisoner else None}
    if isinstance(decision, Held):
        return OutgoingLetter(**facts, state="held", reason=decision.reason, hold_kind=decision.kind)
    return OutgoingLetter(**facts, intermediary_id=decision.intermediary_id)


async def route_unrouted(delivery: Delivery) -> int:
    """Route queued letters that have no intermediary yet (queued before routing existed)."""
    routed = 0
    for letter in await delivery.letters.unrouted(500):
        routed += await _reroute(delivery, letter)
    return routed


async def _reroute(delivery: Delivery, letter: OutgoingLetter) -> bool:
    decision = await route(delivery, letter.prisoner_id)
    prisoner = await delivery.prisoners.get(letter.prisoner_id)
    facility_id = prisoner.facility_id if prisoner else letter.facility_id
    if isinstance(decision, Routed):
        if letter.state == "held":
            step = RouteStep(at=delivery.clock(), change="route_found", state="queued",
                             from_facility_id=letter.facility_id, to_facility_id=facility_id,
                             to_intermediary_id=decision.intermediary_id, note=f"held ({letter.hold_kind}) until an intermediary could take it")
            return await move_letter(delivery, letter, "queued", sources=("held",), only_if={"archived": False},
                                     intermediary_id=decision.intermediary_id, bundle_id=None,
                                     facility_id=facility_id, history=step)
        return await delivery.letters.assign(letter.id, decision.intermediary_id)
    if letter.state == "queued":
        return await move_letter(delivery, letter, "held", sources=("queued",), reason=decision.reason,
                                 hold_kind=decision.kind)
    return False


# Held letters that wait for a route: any route that appears takes them.
WAITING_FOR_ROUTE = ("no_route", "prisoner_moving")


async def reroute_prisoner(delivery: Delivery, prisoner_id: str) -> int:
    """After the prisoner's intermediaries changed: letters without a usable route find one, or wait held."""
    prisoner = await delivery.prisoners.get(prisoner_id)
    people = {p.id: p for p in await delivery.intermediaries.of_prisoner(prisoner_id)}
    moved = 0
    for letter in await delivery.letters.of_prisoner(prisoner_id, ("queued", "held")):
        stranded = (letter.state == "queued" and not reaches(people.get(letter.intermediary_id or ""), prisoner)
                    and not letter.redirected)
        waiting_for_route = (letter.state == "held" and letter.hold_kind in WAITING_FOR_ROUTE
                             and not letter.archived)
        if stranded or waiting_for_route:
            moved += await _reroute(delivery, letter)
    return moved


async def _letter(delivery: Delivery, letter_id: str) -> OutgoingLetter:
    letter = await delivery.letters.get(letter_id)
    if letter is None:
        raise NotFound(f"no letter {letter_id!r} on the outgoing queue")
    return letter


async def record_outcome(delivery: Delivery, letter_id: str, outcome: str, reason: str | None,
                         actor: Actor) -> OutgoingLetter:
    """Hand-over confirmed, or the letter came back or was blocked (with why)."""
    letter = await _letter(delivery, letter_id)
    if outcome != "handed_over" and not reason:
        raise Invalid("say why the letter was returned or blocked")
    if letter.state == outcome:
        return letter
    # A held letter is handed over only on a release, in one bundle with the others (release.py).
    sources = tuple(state for state in sources_of(outcome) if state != "held")
    if not await move_letter(delivery, letter, outcome, reason=reason, sources=sources):
        raise Conflict(f"a letter that is {letter.state} cannot become {outcome}")
    await delivery.audit.record(actor.who, f"letter.{outcome}", letter_id, role=actor.role, reason=reason)
    return await _letter(delivery, letter_id)


async def redirect(delivery: Delivery, letter_id: str, intermediary_id: str, actor: Actor) -> OutgoingLetter:
    """An operator sends a held letter through an intermediary of their choice."""
    letter = await _letter(delivery, letter_id)
    person = await delivery.intermediaries.get(intermediary_id)
    if person is None or not person.active or person.prisoner_id != letter.prisoner_id:
        raise Invalid("choose an active intermediary of this letter's prisoner")
    if letter.state == "queued" and letter.intermediary_id == intermediary_id:
        return letter
    if letter.state != "held" or letter.archived:
        raise Conflict(f"only a held letter can be redirected; this one is {letter.state}"
                       + (" and archived" if letter.archived else ""))
    if await move_letter(delivery, letter, "queued", sources=("held",), only_if={"archived": False},
                         intermediary_id=intermediary_id, bundle_id=None, redirected=True):
        await delivery.audit.record(actor.who, "letter.redirect", letter_id, role=actor.role,
                                    intermediary_id=intermediary_id)
    return await _letter(delivery, letter_id)


async def archive(delivery: Delivery, letter_id: str, reason: str, actor: Actor) -> OutgoingLetter:
    """An operator decides, with a reason, that a held letter will not be sent or handed over. Letters kept
    for a released prisoner are never archived by delivery itself: only this, audited."""
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("say why the letter will not be sent: archiving is for good")
    letter = await _letter(delivery, letter_id)
    if letter.archived:
        return letter
    if letter.state != "held":
        raise Conflict(f"only a held letter can be archived; this one is {letter.state}")
    # Still held, now for good: its own event (the first "held" event's id is taken), so the results can tell.
    archived = LetterDeliveryUpdated(
        event_id=event_id_for(letter_id, f"{LetterDeliveryUpdated.routing_key}:held:archived"), letter_id=letter_id,
        prisoner_id=letter.prisoner_id, state="held", reason=reason, hold_kind="archived")
    if await delivery.letters.archive(letter_id, reason, announcing=[archived]):
        await delivery.outbox.publish(archived)
        await delivery.audit.record(actor.who, "letter.archive", letter_id, role=actor.role, reason=reason)
    return await _letter(delivery, letter_id)

