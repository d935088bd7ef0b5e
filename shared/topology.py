"""The system's one catalogue of subscriptions: event → consuming queue → owning service → use case.

Everything about the consuming queues is built from `CATALOGUE`: the topology every service
declares at start, the queues' RabbitMQ policies, the broker users' permissions
(deploy/broker_users.py), and each service's subscribers, whose handler modules look their queue
up here (`consumer_queue`) instead of restating its name and events.

A queue is owned by the service that consumes it, but it must exist before the first event for
it is published: otherwise a mandatory publish counts as delivered as soon as *another*
consumer's queue is bound (letter.ready goes to delivery and to intake; staff.token_changed to
sorting and delivery), and the late service silently misses it. Declaring the whole topology at
every start closes that window on a first deployment.

    python -m shared.topology     # the catalogue as a Markdown table (README's architecture section)
"""

from __future__ import annotations

from dataclasses import dataclass

from faststream.rabbit import RabbitBroker

from shared.broker import ConsumerQueue
from shared.events import (
    Event,
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
    OverdueService,
    PrisonerUpdated,
    StaffTokenChanged,
)
from shared.reliability import DELIVERY_LIMIT


@dataclass(frozen=True)
class Subscription:
    """One consuming queue: the events bound to it and the use case its subscriber calls.

    The queue's name begins with its owning service: the broker users' permissions and the
    services' start-up checks read the owner from it. The use case is named, not imported, since
    `shared/` never imports a service; a unit test resolves every name.
    """

    queue: str
    events: tuple[str, ...]
    use_case: str

    @property
    def service(self) -> str:
        return self.queue.split(".", 1)[0]

    def consumer_queue(self, namespace: str = "") -> ConsumerQueue:
        return ConsumerQueue(self.queue, self.events, namespace)


# In the order the generated broker manifests list the queues' policies (deploy/broker_users.py).
CATALOGUE: tuple[Subscription, ...] = (
    # Every step a writer may be told of, from sorting and from delivery.
    Subscription("intake.letter-progress", (
        LetterTranslationNeeded.routing_key,
        LetterReviewNeeded.routing_key,
        LetterRejected.routing_key,
        LetterReady.routing_key,
        LetterQueued.routing_key,
        LetterDeliveryUpdated.routing_key,
        LetterAnswered.routing_key,
        LetterWithdrawn.routing_key,
        LetterWithdrawalRefused.routing_key,
    ), "services.intake.service.follow_letter"),
    Subscription("sorting.letter-received", (LetterReceived.routing_key,), "services.sorting.service.sort_letter"),
    Subscription("sorting.withdrawals", (LetterWithdrawalRequested.routing_key,),
                 "services.sorting.withdrawal.withdraw"),
    Subscription("sorting.staff-tokens", (StaffTokenChanged.routing_key,), "shared.auth.replicate_change"),
    Subscription("delivery.letter-ready", (LetterReady.routing_key,), "services.delivery.service.queue_letter"),
    # A letter starts waiting for a translator, then moves on by any of the other steps.
    Subscription("delivery.translation-backlog", (
        LetterTranslationNeeded.routing_key,
        LetterReviewNeeded.routing_key,
        LetterReady.routing_key,
        LetterRejected.routing_key,
        LetterWithdrawn.routing_key,
    ), "services.delivery.translation_backlog.follow"),
    Subscription("delivery.prisoner-updated", (PrisonerUpdated.routing_key,),
                 "services.delivery.directory.prisoner_updated"),
    Subscription("delivery.staff-tokens", (StaffTokenChanged.routing_key,), "shared.auth.replicate_change"),
    # The monitor is delivery's: intake's and sorting's sweepers report their overdue letters to it.
    Subscription("delivery.overdue-reports", (OverdueReport.routing_key_of("intake"),
                                              OverdueReport.routing_key_of("sorting")),
                 "services.delivery.adapters.MongoOverdueReports.keep"),
)

# What each service publishes through its outbox: its AsyncAPI document lists these
# (shared/broker.py `document_publications`) and its broker user may publish only these and its
# overdue report (deploy/broker_users.py).
PUBLICATIONS: dict[str, tuple[type[Event], ...]] = {
    "intake": (LetterReceived, PrisonerUpdated, StaffTokenChanged, LetterWithdrawalRequested),
    "sorting": (LetterReady, LetterReviewNeeded, LetterRejected, LetterTranslationNeeded, LetterWithdrawn,
                LetterWithdrawalRefused),
    "delivery": (LetterQueued, LetterDeliveryUpdated, LetterAnswered),
}
# The services whose sweepers send the monitor (delivery's) their overdue letters.
REPORTING_OVERDUE: tuple[OverdueService, ...] = ("intake", "sorting")


def published_keys(service: str) -> tuple[str, ...]:
    """Every routing key `service` publishes: its events and, if it reports to the monitor, its report."""
    report = (OverdueReport.routing_key_of(service),) if service in REPORTING_OVERDUE else ()
    return tuple(event.routing_key for event in PUBLICATIONS[service]) + report


SUBSCRIPTIONS: dict[str, Subscription] = {entry.queue: entry for entry in CATALOGUE}
# Queue name → the events bound to it: the view the tests' and benches' clean-up read.
CONSUMER_QUEUES: dict[str, tuple[str, ...]] = {entry.queue: entry.events for entry in CATALOGUE}


def consumer_queue(name: str, namespace: str = "") -> ConsumerQueue:
    """A catalogued queue, as a subscriber declares it."""
    try:
        return SUBSCRIPTIONS[name].consumer_queue(namespace)
    except KeyError:
        raise KeyError(f"queue {name!r} is not in the catalogue (shared/topology.py)") from None


def owners() -> list[str]:
    """The services that consume from the letters exchange."""
    return sorted({entry.service for entry in CATALOGUE})


def service_queues(service: str, namespace: str = "") -> list[ConsumerQueue]:
    return [entry.consumer_queue(namespace) for entry in CATALOGUE if entry.service == service]


def system_queues(namespace: str = "") -> list[ConsumerQueue]:
    return [entry.consumer_queue(namespace) for entry in CATALOGUE]


def queue_policies(namespace: str = "", *, delivery_limit: int = DELIVERY_LIMIT) -> list[dict]:
    """The RabbitMQ policies that give every consuming queue its delivery limit and its parking lot.

    A policy, not a queue argument: the limit can change on a live broker (a new policy
    definition applies at once) without deleting queues. One policy per queue, matching its name
    exactly, since each parks into its own lot (`dead-letter-routing-key`); the parking lots
    themselves match no policy. Loaded with the definitions (deploy/broker_users.py) or put by the
    services at start through the management API (shared/broker.py `apply_policies`).
    """
    return [spec.policy(delivery_limit) for spec in system_queues(namespace)]


def require_subscribers(broker: RabbitBroker, service: str, namespace: str = "") -> None:
    """Refuse to start a service whose subscribers are not exactly its catalogued queues, one each.

    A catalogued queue without a subscriber fills up unseen; a subscriber on a queue nobody
    declares (subscribers only check that their queue exists) fails at start less clearly.
    """
    expected = sorted(queue.full_name for queue in service_queues(service, namespace))
    subscribed = sorted(subscriber.queue.name for subscriber in broker.subscribers)
    if subscribed != expected:
        raise RuntimeError(f"{service}'s subscribers {subscribed} are not its catalogued queues {expected} "
                           "(shared/topology.py)")


def markdown_table() -> str:
    """The catalogue as README shows it: one row per event and queue, events in the order they first
    appear in the catalogue (the letter's way), so an event's fan-out reads as one block."""
    events = list(dict.fromkeys(event for entry in CATALOGUE for event in entry.events))
    rows = ["| event | queue | service | use case |", "| --- | --- | --- | --- |"]
    for event in events:
        for entry in (entry for entry in CATALOGUE if event in entry.events):
            rows.append(f"| `{event}` | `{entry.queue}` | {entry.service} | `{entry.use_case}` |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(markdown_table(), end="")
