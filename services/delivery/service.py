"""Delivery's use cases."""

from services.delivery.ports import OutgoingQueue
from shared.events import LetterQueued, LetterReady
from shared.outbox import Outbox


async def queue_letter(event: LetterReady, *, outgoing: OutgoingQueue, outbox: Outbox) -> bool:
    """Put a ready letter on the outgoing queue; returns False when it was already there."""
    added = await outgoing.enqueue(
        {
            "letter_id": event.letter_id,
            "prisoner_id": event.prisoner_id,
            "scan_key": event.scan_key,
            "scan_sha256": event.scan_sha256,
            "pages": event.pages,
            "ready_at": event.occurred_at,
        }
    )
    # Announce even on a redelivery: the first attempt may have stopped before announcing.
    await outbox.add_and_publish(LetterQueued.for_letter(event.letter_id, prisoner_id=event.prisoner_id))
    return added
