"""Every consuming queue of the system, declared by every service at start.

A queue is owned by the service that consumes it, but it must exist before the first event for
it is published: otherwise a mandatory publish counts as delivered as soon as *another*
consumer's queue is bound (letter.ready goes to delivery and to intake; staff.token_changed to
sorting and delivery), and the late service silently misses it. Declaring the whole topology at
every start closes that window on a first deployment. The services' own queue definitions are
checked against this list by a test, so the two cannot drift apart.
"""

from __future__ import annotations

from shared.broker import DELIVERY_LIMIT, ConsumerQueue
from shared.events import (
    LetterAnswered,
    LetterDeliveryUpdated,
    LetterQueued,
    LetterReady,
    LetterReceived,
    LetterRejected,
    LetterReviewNeeded,
    LetterTranslationNeeded,
    LetterWithdrawalRefused,
    LetterWithdrawalRequested,
    LetterWithdrawn,
    OverdueReport,
    PrisonerUpdated,
    StaffTokenChanged,
)

CONSUMER_QUEUES: dict[str, tuple[str, ...]] = {
    "intake.letter-progress": (
        LetterTranslationNeeded.routing_key,
        LetterReviewNeeded.routing_key,
        LetterRejected.routing_key,
        LetterReady.routing_key,
        LetterQueued.routing_key,
        LetterDeliveryUpdated.routing_key,
        LetterAnswered.routing_key,
        LetterWithdrawn.routing_key,
        LetterWithdrawalRefused.routing_key,
    ),
    "sorting.letter-received": (LetterReceived.routing_key,),
    "sorting.withdrawals": (LetterWithdrawalRequested.routing_key,),
    "sorting.staff-tokens": (StaffTokenChanged.routing_key,),
    "delivery.letter-ready": (LetterReady.routing_key,),
    "delivery.translation-backlog": (
        LetterTranslationNeeded.routing_key,
        LetterReviewNeeded.routing_key,
        LetterReady.routing_key,
        LetterRejected.routing_key,
        LetterWithdrawn.routing_key,
    ),
    "delivery.prisoner-updated": (PrisonerUpdated.routing_key,),
    "delivery.staff-tokens": (StaffTokenChanged.routing_key,),
    # The monitor is delivery's: intake's and sorting's sweepers report their overdue letters to it.
    "delivery.overdue-reports": (OverdueReport.routing_key_of("intake"), OverdueReport.routing_key_of("sorting")),
}


def system_queues(namespace: str) -> list[ConsumerQueue]:
    return [ConsumerQueue(name, keys, namespace) for name, keys in CONSUMER_QUEUES.items()]


def queue_policies(namespace: str = "", *, delivery_limit: int = DELIVERY_LIMIT) -> list[dict]:
    """The RabbitMQ policies that give every consuming queue its delivery limit and its parking lot.

    A policy, not a queue argument: the limit can change on a live broker (a new policy
    definition applies at once) without deleting queues. One policy per queue, matching its name
    exactly, since each parks into its own lot (`dead-letter-routing-key`); the parking lots
    themselves match no policy. Loaded with the definitions (deploy/broker_users.py) or put by the
    services at start through the management API (shared/broker.py `apply_policies`).
    """
    return [spec.policy(delivery_limit) for spec in system_queues(namespace)]
