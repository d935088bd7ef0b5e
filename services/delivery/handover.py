"""After a bundle has left: the intermediary's confirmation link, operators' records, prisoners' replies."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from services.delivery.model import Actor, Bundle
from services.delivery.service import Delivery, Invalid, NotFound, move_letter
from shared.auth import hash_token
from shared.events import LetterAnswered, event_id_for

MAX_REPLY_BYTES = 20 * 1024 * 1024
REPLY_TYPES = {b"%PDF-": ("application/pdf", "pdf"), b"\xff\xd8\xff": ("image/jpeg", "jpg")}


@dataclass(frozen=True)
class LinkView:
    """What the intermediary's page shows: nothing but the prisoner's name and counts."""

    prisoner_name_ru: str
    letters: int
    sent_epoch: float | None
    answered: str | None  # the outcome already recorded through this link, if any


async def open_link(delivery: Delivery, token: str) -> tuple[LinkView, Bundle]:
    link = await delivery.confirmations.find(hash_token(token))
    if link is None or (link.used_epoch is None and link.expires_epoch <= delivery.clock()):
        raise NotFound("this link is not valid or has expired")
    bundle = await delivery.bundles.get(link.bundle_id)
    if bundle is None:
        raise NotFound("this link is not valid or has expired")
    prisoner = await delivery.prisoners.get(bundle.prisoner_id)
    name = prisoner.name_ru if prisoner else ""
    return LinkView(name, len(bundle.letter_ids), bundle.sent_epoch, link.outcome), bundle


async def confirm_by_link(delivery: Delivery, token: str, outcome: str, reason: str | None) -> LinkView:
    """The intermediary says what happened to the whole bundle. A second answer changes nothing."""
    view, bundle = await open_link(delivery, token)
    if view.answered is not None:
        return view
    if outcome != "handed_over" and not reason:
        raise Invalid("please say briefly why the letters could not be handed over")
    if await delivery.confirmations.use(hash_token(token), outcome, delivery.clock()):
        actor = Actor(f"intermediary:{bundle.intermediary_id}", "intermediary")
        await bundle_outcome(delivery, bundle, outcome, reason, actor)
    view, _ = await open_link(delivery, token)
    return view


async def bundle_outcome(delivery: Delivery, bundle: Bundle, outcome: str, reason: str | None, actor: Actor) -> int:
    """Record one outcome for every letter of a bundle that is still out (sent)."""
    if outcome != "handed_over" and not reason:
        raise Invalid("say why the letters were returned or blocked")
    moved = 0
    for letter in await delivery.letters.in_bundle(bundle.id):
        moved += await move_letter(delivery, letter, outcome, sources=("sent",), reason=reason)
    if moved:
        await delivery.audit.record(actor.who, f"bundle.{outcome}", bundle.id, role=actor.role, letters=moved, reason=reason)
    return moved


@dataclass(frozen=True)
class Reply:
    reply_id: str
    prisoner_id: str
    letter_ids: list[str]
    sha256: str
    content_type: str


async def record_reply(delivery: Delivery, prisoner_id: str, letter_ids: list[str], data: bytes,
                       actor: Actor) -> tuple[Reply, bool]:
    """Store a prisoner's scanned reply and tell each letter's writer (`letter.answered`).

    Keyed by the file's checksum: uploading the same scan again returns the same reply.
    """
    kind = next((kind for magic, kind in REPLY_TYPES.items() if data.startswith(magic)), None)
    if kind is None:
        raise Invalid("a reply is a PDF or a JPEG scan")
    if not letter_ids:
        raise Invalid("name the letters this reply answers")
    for letter_id in letter_ids:
        letter = await delivery.letters.get(letter_id)
        if letter is None or letter.prisoner_id != prisoner_id:
            raise Invalid(f"letter {letter_id!r} is not a letter to prisoner {prisoner_id!r}")
    digest = hashlib.sha256(data).hexdigest()
    reply_id = f"r_{digest[:24]}"
    existing = await delivery.replies.get(reply_id)
    created = existing is None
    if created:
        content_type, extension = kind
        key = f"replies/{digest}.{extension}"  # the checksum: unguessable without the scan itself
        await delivery.store.put(key, data, content_type)
        created = await delivery.replies.insert({
            "_id": reply_id, "prisoner_id": prisoner_id, "letter_ids": sorted(set(letter_ids)), "key": key,
            "sha256": digest, "content_type": content_type, "bytes": len(data), "uploaded_by": actor.who,
            "uploaded_epoch": delivery.clock()})
        existing = await delivery.replies.get(reply_id)
    reply = Reply(reply_id, existing["prisoner_id"], list(existing["letter_ids"]), digest, existing["content_type"])
    for letter_id in reply.letter_ids:
        # One event per letter and reply: a re-upload repeats it, a second reply is news.
        await delivery.outbox.add_and_publish(LetterAnswered(
            event_id=event_id_for(letter_id, f"{LetterAnswered.routing_key}:{reply_id}"), letter_id=letter_id,
            prisoner_id=reply.prisoner_id, reply_id=reply_id))
    if created:
        await delivery.audit.record(actor.who, "reply.upload", reply_id, role=actor.role, letters=reply.letter_ids)
    return reply, created
