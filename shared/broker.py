"""RabbitMQ topology and the broker every service uses (FastStream over aio-pika).

One durable topic exchange carries all letter events. Each consuming service owns one durable
quorum queue; a message that keeps failing (or never parses) is dead-lettered to that queue's
parking lot instead of being dropped, so an operator can inspect and replay it.

The delivery limit is a RabbitMQ policy (`ConsumerQueue.policy`, for every queue of shared/topology.py), not a queue
argument, so it can change without deleting queues. RabbitMQ semantics this relies on (3.13 and 4.x):
a quorum queue's effective limit is the lower of the policy's `delivery-limit` and an
`x-delivery-limit` argument; with neither, 3.x has no limit and 4.x a default of 20; the queue's
own `x-dead-letter-*` arguments win over a policy's; and redeclaring a queue with different
arguments fails with PRECONDITION_FAILED. So the parking lot stays a queue argument (it never
changes), and a queue an earlier release declared with `x-delivery-limit` is kept as it is.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from urllib.parse import quote, urlsplit

import httpx
from aio_pika import RobustConnection
from aiormq.exceptions import ChannelPreconditionFailed
from faststream import AckPolicy
from faststream.rabbit import (
    Channel,
    ExchangeType,
    QueueType,
    RabbitBroker,
    RabbitExchange,
    RabbitQueue,
    RabbitRouter,
)
from faststream.rabbit.prometheus import RabbitPrometheusMiddleware
from prometheus_client import REGISTRY
from yarl import URL

from shared.events import OverdueReport, OverdueService
from shared.reliability import DELIVERY_LIMIT, parking_middleware

# Prefetch in the tens: enough to keep a handler busy, few enough that a crash redelivers little.
PREFETCH = 50
# SIGTERM waits this long for handlers in progress before the process exits.
GRACEFUL_TIMEOUT_S = 20.0
# What the reliability design assumes of every subscriber: a failing message goes back to its
# queue (nack with requeue), so the quorum queue counts the delivery and the parking middleware
# parks it on the last allowed one. FastStream's default is REJECT_ON_ERROR, which dead-letters a
# message on its first failure; and a subscriber made through a RabbitRouter resolves its policy
# when it is declared, before the router is included, so the broker's own setting never reaches it.
ACK_POLICY = AckPolicy.NACK_ON_ERROR


def _named(namespace: str, name: str) -> str:
    return f"{namespace}.{name}" if namespace else name


def letters_exchange(namespace: str = "") -> RabbitExchange:
    return RabbitExchange(_named(namespace, "letters"), type=ExchangeType.TOPIC, durable=True)


def dead_letter_exchange(namespace: str = "") -> RabbitExchange:
    return RabbitExchange(_named(namespace, "letters.dead"), type=ExchangeType.DIRECT, durable=True)


@dataclass(frozen=True)
class ConsumerQueue:
    """A service's queue, the events it is bound to, and its parking lot."""

    name: str
    routing_keys: tuple[str, ...]
    namespace: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        return _named(self.namespace, self.name)

    @property
    def parking_name(self) -> str:
        return f"{self.full_name}.parking"

    @property
    def parking_route(self) -> dict[str, str]:
        """Where a message this queue gives up on goes: its own parking lot. Fixed, so an argument."""
        return {"x-dead-letter-exchange": dead_letter_exchange(self.namespace).name,
                "x-dead-letter-routing-key": self.full_name}

    def queue(self) -> RabbitQueue:
        # Declared by declare_topology (which copes with a queue an earlier release declared with
        # other arguments); the subscriber only checks that it is there.
        return RabbitQueue(
            self.full_name,
            queue_type=QueueType.QUORUM,
            durable=True,
            declare=False,
            routing_key=self.routing_keys[0],
            arguments=self.parking_route,
        )

    def policy(self, delivery_limit: int = DELIVERY_LIMIT) -> dict:
        """This queue's RabbitMQ policy: its delivery limit (and its parking lot, for a queue declared
        without the arguments). The pattern matches this queue's name only, never its parking lot."""
        return {
            "name": f"letters-limits.{self.full_name}",
            "pattern": f"^{re.escape(self.full_name)}$",
            # "queues", not "quorum_queues": RabbitMQ before 3.12 knows only queues, exchanges, all.
            "apply-to": "queues",
            # Above an operator's catch-all policies: only one policy applies to a queue.
            "priority": 10,
            "definition": {"delivery-limit": delivery_limit,
                           "dead-letter-exchange": self.parking_route["x-dead-letter-exchange"],
                           "dead-letter-routing-key": self.full_name},
        }

    def parking(self) -> RabbitQueue:
        return RabbitQueue(
            self.parking_name, queue_type=QueueType.QUORUM, durable=True, routing_key=self.full_name
        )


def letters_router() -> RabbitRouter:
    """The router every service's subscribers are declared on: it carries the acknowledgement policy."""
    return RabbitRouter(ack_policy=ACK_POLICY)


def require_ack_policy(broker: RabbitBroker) -> None:
    """Refuse to consume with a subscriber that would drop or park a message on its first failure."""
    wrong = sorted(s.queue.name for s in broker.subscribers if s.ack_policy is not ACK_POLICY)
    if wrong:
        raise RuntimeError(f"subscribers without the {ACK_POLICY.value} policy (use letters_router()): {wrong}")


def broker_nodes(amqp_url: str) -> list[str]:
    """AMQP_URL may list a cluster's nodes, comma-separated: `amqp://u:p@n1:5672/,amqp://u:p@n2:5672/`."""
    return [url.strip() for url in amqp_url.split(",") if url.strip()]


class FailoverConnection(RobustConnection):
    """A robust connection that moves to the next node of the cluster whenever a connection
    attempt fails or an established connection drops, instead of waiting for the same node."""

    nodes: tuple[str, ...] = ()
    # Kept on the class: a fresh connection (after a failed first attempt) starts at the next node.
    turn = 0

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.nodes:
            self.url = URL(self.nodes[type(self).turn])

    def _next_node(self) -> None:
        if self.nodes:
            type(self).turn = (type(self).turn + 1) % len(self.nodes)
            self.url = URL(self.nodes[type(self).turn])

    # aio-pika's reconnection loop calls this (name-mangled) method for every attempt.
    async def _RobustConnection__connect_transport(self) -> None:  # noqa: N802
        try:
            await super()._RobustConnection__connect_transport()  # type: ignore[misc]
        except BaseException:
            self._next_node()
            raise

    async def _on_connection_close(self, closing) -> None:
        # Only a live connection that drops moves on here; failed attempts moved on above.
        was_connected = self.connected.is_set()
        await super()._on_connection_close(closing)
        if was_connected:
            self._next_node()


def _reconnected(connection) -> None:
    logging.getLogger("broker").info("broker connection restored", extra={"broker": str(connection)})


def make_broker(amqp_url: str, *, logger: logging.Logger | None = None, timeout_s: float = 5.0) -> RabbitBroker:
    """`timeout_s` bounds connecting (each attempt) and the parking lot's confirmed publish."""
    nodes = broker_nodes(amqp_url)
    broker = RabbitBroker(
        nodes[0],
        timeout=timeout_s,
        # Publisher confirms are on by default; returned (unroutable) mandatory messages raise.
        default_channel=Channel(prefetch_count=PREFETCH, on_return_raises=True),
        graceful_timeout=GRACEFUL_TIMEOUT_S,
        # For subscribers declared on the broker itself; a router's carry their own (letters_router).
        ack_policy=ACK_POLICY,
        fail_fast=True,
        reconnect_interval=1.0,
        # The libraries say when the connection is lost (as warnings, shared/logs.py); we say when it is back.
        on_reconnected=[_reconnected],
        # Through the root logger, so FastStream's lines are JSON like everything else.
        logger=logger or logging.getLogger("faststream.broker"),
        # "Received"/"Processed" for every message is debugging detail, not an operator's log.
        log_level=logging.DEBUG,
    )
    broker.add_middleware(parking_middleware(broker, publish_timeout_s=timeout_s))
    # Messages received, processed (by outcome), their size and handling time per queue, and
    # publishes per exchange: every service's /metrics shows its own consumers.
    broker.add_middleware(RabbitPrometheusMiddleware(registry=REGISTRY))
    if len(nodes) > 1:
        # FastStream takes one URL; the connection class is where aio-pika lets us add failover.
        broker._connection_kwargs["connection_class"] = type(
            "ClusterConnection", (FailoverConnection,), {"nodes": tuple(nodes)}
        )
    return broker


async def declare_topology(broker: RabbitBroker, queues: list[ConsumerQueue], *,
                           management_url: str | None = None) -> None:
    """Declare what FastStream does not: parking lots and the extra bindings of multi-event queues;
    with a management API URL (`InfraSettings.rabbitmq_management_url`), the queues' policies too."""
    if not queues:
        return
    namespace = queues[0].namespace
    exchange = await broker.declare_exchange(letters_exchange(namespace))
    dead = await broker.declare_exchange(dead_letter_exchange(namespace))
    for spec in queues:
        parking = await broker.declare_queue(spec.parking())
        await parking.bind(dead, routing_key=spec.full_name)
        await _declare_consuming_queue(broker, spec)
        queue = await broker.declare_queue(spec.queue())
        for key in spec.routing_keys:
            await queue.bind(exchange, routing_key=key)
    if management_url:
        await apply_policies(management_url, [spec.policy() for spec in queues])


async def _declare_consuming_queue(broker: RabbitBroker, spec: ConsumerQueue) -> None:
    """Declare the queue with its parking lot only; a queue declared before with other arguments
    (an `x-delivery-limit` of an earlier release) is kept as it is, and said so.

    On its own channel: the broker answers a differing declaration by closing the channel.
    """
    channel = await broker._connection.channel()
    try:
        await channel.declare_queue(spec.full_name, durable=True,
                                    arguments={"x-queue-type": "quorum", **spec.parking_route})
    except ChannelPreconditionFailed as error:
        # It still parks where it should (the same x-dead-letter arguments) and its old limit stays
        # in force: RabbitMQ takes the lower of the argument and the policy, so a policy can lower
        # the limit but not raise it until the queue is re-created (drained) without the argument.
        logging.getLogger("broker").warning(
            "queue keeps the arguments it was declared with", extra={
                "queue": spec.full_name, "detail": str(error.args[0] if error.args else error)[:300]})
    finally:
        # Closed by us even when the broker closed it: a robust channel would otherwise reopen itself.
        with contextlib.suppress(Exception):
            await channel.close()


async def apply_policies(management_url: str, policies: list[dict], *, vhost: str = "/",
                         timeout_s: float = 10.0) -> None:
    """Put the policies through RabbitMQ's management API (PUT /api/policies/{vhost}/{name})."""
    url = urlsplit(management_url)
    base = f"{url.scheme}://{url.hostname}{f':{url.port}' if url.port else ''}{url.path.rstrip('/')}"
    auth = (url.username or "", url.password or "") if url.username else None
    async with httpx.AsyncClient(base_url=base, auth=auth, timeout=timeout_s) as client:
        for policy in policies:
            body = {key: value for key, value in policy.items() if key != "name"}
            answer = await client.put(f"/api/policies/{quote(vhost, safe='')}/{quote(policy['name'], safe='')}",
                                      json=body)
            answer.raise_for_status()


def document_publications(broker: RabbitBroker, exchange: RabbitExchange, events: list[type]) -> None:
    """Declare what a service publishes, so its AsyncAPI document shows outgoing events too.

    The outbox does the publishing; these publisher objects describe it.
    """
    for event in events:
        broker.publisher(
            exchange=exchange,
            routing_key=event.routing_key,
            schema=event,
            title=f"{event.routing_key}:publish",
            description=(event.__doc__ or "").strip(),
        )


def overdue_publisher(broker: RabbitBroker, exchange: RabbitExchange, service: OverdueService,
                      timeout_s: float) -> Callable[[OverdueReport], Awaitable[object]]:
    """How a service's sweeper sends its overdue report to the monitor (delivery's): a named publisher,
    so the service's AsyncAPI document shows it; confirmed and mandatory, like every publish here.

    Not through the outbox: a report lost with the broker away is replaced by the next sweep's."""
    key = OverdueReport.routing_key_of(service)
    publisher = broker.publisher(exchange=exchange, routing_key=key, schema=OverdueReport, title=f"{key}:publish",
                                 description=(OverdueReport.__doc__ or "").strip())
    return partial(publisher.publish, message_type=key, mandatory=True, timeout=timeout_s)


def overdue_reporting(sweep: Callable[[], Awaitable[OverdueReport]],
                      publish: Callable[[OverdueReport], Awaitable[object]]) -> Callable[[], Awaitable[None]]:
    """One sweep and its report to the monitor: a service's background job (shared/service.py `every`)."""
    async def sweep_and_report() -> None:
        report = await sweep()
        if report.overdue:
            logging.getLogger("sweeper").warning("letters overdue", extra={"service": report.service,
                                                                          "counts": report.counts})
        await publish(report)

    return sweep_and_report
