"""Letters follow a transferred prisoner: the queue, unsent bundles and each letter's history.

When intake's directory says a prisoner is held at another facility (a transfer, or the facility
learnt for the first time), every letter routed for the old one follows them:
* queued: it keeps its intermediary while they still reach the prisoner (a relative posts it to the
  new address), else it goes to one who does, else it waits held as `prisoner_moving` ("waiting
  while the prisoner is moved") until an intermediary for the new facility is added or an operator
  redirects it;
* in a bundle not sent yet (ready or failed): the bundle stays if its intermediary still reaches
  the prisoner, else it is cancelled and its letters take the new route as above;
* sent already: it is not recalled; its history says so.
Each step is one conditional write of the letter with its event and its line of history, marked
with the facility it now follows (`facility_id`): a redelivered `prisoner.updated` finds nothing
left to do, and one that stopped half-way is finished by the next.
"""

from __future__ import annotations

import logging

from services.delivery.bundling import LEASE_S
from services.delivery.context import Delivery
from services.delivery.domain import Held, Routed, change_of, follow_route, follows_prisoner, reaches
from services.delivery.model import LONG_AGO, Bundle, Intermediary, OutgoingLetter, Prisoner, RouteStep
from services.delivery.service import move_letter

log = logging.getLogger("delivery.transfers")


async def follow_prisoner(delivery: Delivery, prisoner: Prisoner) -> int:
    """Move this prisoner's letters routed for another facility to where they are held now."""
    if not follows_prisoner(None, prisoner):  # not held anywhere known (released, or the facility not known)
        return 0
    people = {person.id: person for person in await delivery.intermediaries.of_prisoner(prisoner.id)}
    followed = 0
    for bundle in await delivery.bundles.of_prisoner(prisoner.id, ("ready", "failed")):
        # A bundle being sent right now is left alone: the check just before sending stops it.
        if not reaches(people.get(bundle.intermediary_id or ""), prisoner) and await delivery.bundles.claim(
                bundle.id, ["ready", "failed"], delivery.clock(), LEASE_S):
            followed += await reroute_bundle(delivery, bundle, prisoner)
    # A letter already sent is noted only on a transfer: a facility learnt for the first time moved nobody.
    states = ("queued", "bundled", "failed", "sent") if prisoner.status == "transferred" else ("queued", "bundled",
                                                                                                "failed")
    for letter in await delivery.letters.of_prisoner(prisoner.id, states):
        if follows_prisoner(letter.facility_id, prisoner):
            followed += await _follow(delivery, letter, prisoner, people)
    if followed:
        log.info("letters follow the prisoner", extra={"prisoner_id": prisoner.id, "facility_id": prisoner.facility_id,
                                                       "letters": followed})
    return followed


def _step(delivery: Delivery, letter: OutgoingLetter, prisoner: Prisoner, state: str, to: str | None,
          note: str, change: str | None = None) -> RouteStep:
    return RouteStep(at=delivery.clock(), change=change or change_of(prisoner), state=state,  # type: ignore[arg-type]
                     from_facility_id=letter.facility_id, to_facility_id=prisoner.facility_id,
                     from_intermediary_id=letter.intermediary_id, to_intermediary_id=to,
                     bundle_id=letter.bundle_id if letter.state in ("bundled", "failed", "sent") else None, note=note)


def _where(prisoner: Prisoner) -> str:
    return prisoner.facility_name or prisoner.facility_id or "another facility"


async def _follow(delivery: Delivery, letter: OutgoingLetter, prisoner: Prisoner,
                  people: dict[str, Intermediary]) -> bool:
    """One letter routed for another facility: note it (sent, or its route still reaches) or route it anew."""
    current = people.get(letter.intermediary_id or "")
    unchanged = {"facility_id": {"$ne": prisoner.facility_id}, "state": letter.state}
    if letter.state == "sent":
        # Out with the intermediary already: nobody can call it back. Said once, for this facility.
        note = f"sent before the prisoner was moved to {_where(prisoner)}: not recalled"
        step = _step(delivery, letter, prisoner, "sent", letter.intermediary_id, note, "not_recalled")
        return await delivery.letters.note(letter.id, only_if=unchanged, history=step, facility_id=prisoner.facility_id)
    if letter.redirected or reaches(current, prisoner):
        # Its intermediary still reaches the prisoner (or an operator chose them on purpose): same route.
        note = f"the prisoner was moved to {_where(prisoner)}; the same intermediary carries the letter there"
        step = _step(delivery, letter, prisoner, letter.state, letter.intermediary_id, note)
        return await delivery.letters.note(letter.id, only_if=unchanged, history=step, facility_id=prisoner.facility_id)
    if letter.state == "queued":
        return await _reroute(delivery, letter, prisoner, list(people.values()), sources=("queued",))
    return False  # in a bundle being built right now: the check just before sending moves it (`off_route`)


async def _reroute(delivery: Delivery, letter: OutgoingLetter, prisoner: Prisoner, people: list[Intermediary],
                   sources: tuple[str, ...]) -> bool:
    """Give the letter the new route (announced as queued again) or hold it while the prisoner is moved."""
    active = [person.id for person in people if person.active]
    load = await delivery.letters.load(active) if len(active) > 1 else {}
    decision = follow_route(None, prisoner, people, load)
    occasion = f"follow:{prisoner.facility_id}"
    only_if = {"facility_id": {"$ne": prisoner.facility_id}}
    if isinstance(decision, Routed):
        reason = f"the prisoner was moved to {_where(prisoner)}; the letter follows them"
        step = _step(delivery, letter, prisoner, "queued", decision.intermediary_id, reason)
        return await move_letter(delivery, letter, "queued", sources=sources, only_if=only_if, reason=reason,
                                 history=step, occasion=occasion, intermediary_id=decision.intermediary_id,
                                 bundle_id=None, facility_id=prisoner.facility_id)
    hold: Held = decision
    step = _step(delivery, letter, prisoner, "held", None, hold.reason)
    return await move_letter(delivery, letter, "held", sources=sources, only_if=only_if, reason=hold.reason,
                             hold_kind=hold.kind, history=step, occasion=occasion, bundle_id=None,
                             facility_id=prisoner.facility_id)


async def reroute_bundle(delivery: Delivery, bundle: Bundle, prisoner: Prisoner) -> int:
    """A claimed bundle whose intermediary no longer reaches the prisoner: cancelled, its letters routed anew."""
    where = _where(prisoner)
    await delivery.bundles.update(bundle.id, ["building", "ready", "failed"], state="cancelled", leased_until=LONG_AGO,
                                  last_error=f"the prisoner was moved to {where}: the letters follow them")
    people = await delivery.intermediaries.of_prisoner(prisoner.id)
    moved = 0
    for letter in await delivery.letters.in_bundle(bundle.id):
        if letter.state in ("bundled", "failed"):
            moved += await _reroute(delivery, letter, prisoner, people, sources=("bundled", "failed"))
    log.info("bundle cancelled: the prisoner was moved", extra={"bundle_id": bundle.id, "letters": moved})
    return moved


async def off_route(delivery: Delivery, bundle: Bundle) -> bool:
    """Just before sending: a bundle whose intermediary no longer reaches the prisoner follows them instead."""
    prisoner = await delivery.prisoners.get(bundle.prisoner_id)
    if prisoner is None or not follows_prisoner(None, prisoner):
        return False
    person = await delivery.intermediaries.get(bundle.intermediary_id or "")
    if reaches(person, prisoner):
        return False
    await reroute_bundle(delivery, bundle, prisoner)
    return True
