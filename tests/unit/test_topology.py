"""Each service's own queue definitions match the system-wide topology every service declares."""

from services.delivery.main import create_app as delivery_app
from services.intake.main import create_app as intake_app
from services.sorting.main import create_app as sorting_app
from shared.topology import CONSUMER_QUEUES


def test_every_consumed_queue_is_in_the_system_topology_with_the_same_events():
    consumed = {}
    for app in (intake_app(), sorting_app(), delivery_app()):
        for queue in app.state.runtime.queues:
            consumed[queue.name] = set(queue.routing_keys)
    assert consumed == {name: set(keys) for name, keys in CONSUMER_QUEUES.items()}
