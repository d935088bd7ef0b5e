"""The catalogue of subscriptions (shared/topology.py) is what the services really consume from."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest
from faststream.rabbit import RabbitBroker

from services.delivery.main import create_app as delivery_app
from services.delivery.translation_backlog import EVENTS as TRANSLATION_STEPS
from services.intake.domain import EVENT_TO_STATUS
from services.intake.main import create_app as intake_app
from services.sorting.main import create_app as sorting_app
from shared.broker import letters_exchange, letters_router
from shared.topology import CATALOGUE, SUBSCRIPTIONS, markdown_table, require_subscribers, service_queues

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wired() -> tuple[str, dict[str, list]]:
    """The namespace, and each service's subscribers as its composition root wires them."""
    runtimes = [app.state.runtime for app in (intake_app(), sorting_app(), delivery_app())]
    return runtimes[0].infra.namespace, {runtime.name: runtime.broker.subscribers for runtime in runtimes}


def test_every_catalogued_queue_has_exactly_one_subscriber_and_in_its_owning_service(wired):
    namespace, subscribers = wired
    for entry in CATALOGUE:
        full_name = entry.consumer_queue(namespace).full_name
        owners = [service for service, subs in subscribers.items() for s in subs if s.queue.name == full_name]
        assert owners == [entry.service], entry.queue


def test_every_subscriber_consumes_a_catalogued_queue_of_its_own_service_with_its_parking_lot(wired):
    namespace, subscribers = wired
    catalogued = {entry.consumer_queue(namespace).full_name: entry for entry in CATALOGUE}
    for service, subs in subscribers.items():
        assert subs, service
        for subscriber in subs:
            entry = catalogued[subscriber.queue.name]
            assert entry.service == service, subscriber.queue.name
            assert entry.consumer_queue(namespace).parking_route.items() <= subscriber.queue.arguments.items()
            assert subscriber.queue.routing_key in entry.events


def test_a_service_refuses_to_start_with_a_catalogued_queue_left_without_subscriber():
    broker, router = RabbitBroker(), letters_router()
    ready, *_ = service_queues("delivery", "unit")

    @router.subscriber(ready.queue(), letters_exchange("unit"))
    async def only_one(body: dict) -> None: ...

    broker.include_router(router)
    with pytest.raises(RuntimeError, match="delivery.prisoner-updated"):
        require_subscribers(broker, "delivery", "unit")


def test_every_use_case_the_catalogue_names_exists():
    for entry in CATALOGUE:
        module, _, attribute = entry.use_case.rpartition(".")
        target = None
        while module and target is None:
            try:
                target = importlib.import_module(module)
            except ModuleNotFoundError:
                module, _, outer = module.rpartition(".")
                attribute = f"{outer}.{attribute}"
        for name in attribute.split("."):
            target = getattr(target, name)
        assert callable(target), entry.use_case


def test_the_handlers_that_tell_events_apart_know_every_event_bound_to_their_queue():
    # A bound event the handler cannot read would be parked as unreadable.
    assert set(SUBSCRIPTIONS["intake.letter-progress"].events) <= set(EVENT_TO_STATUS)
    assert set(SUBSCRIPTIONS["delivery.translation-backlog"].events) <= set(TRANSLATION_STEPS)


def test_the_printed_table_lists_every_queue_and_each_of_its_events():
    printed = subprocess.run([sys.executable, "-m", "shared.topology"], cwd=ROOT, capture_output=True, text=True,
                             check=True, timeout=60).stdout
    assert printed == markdown_table()
    rows = [line.split("|")[1:-1] for line in printed.splitlines()[2:]]
    listed = {(event.strip(" `"), queue.strip(" `"), service.strip(), use_case.strip(" `"))
              for event, queue, service, use_case in rows}
    assert listed == {(event, e.queue, e.service, e.use_case) for e in CATALOGUE for event in e.events}
    assert len(rows) == len(listed)
