"""What keeps a letter from being lost when something fails: retries, and the parking lot.

Two kinds of failure:
* transient (the database, the object store or the broker briefly away): retried in the handler
  with exponential backoff while the message stays unacknowledged; if the outage outlasts the
  retries the message is requeued and RabbitMQ counts the delivery;
* permanent (a message that does not parse or does not fit its schema), or a message that kept
  failing until its last allowed delivery: moved to the queue's parking lot with the reason in its
  headers, then acknowledged — never silently dropped. `python -m shared.parking` inspects and replays.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import botocore.exceptions
import pymongo.errors
from faststream import BaseMiddleware
from faststream.exceptions import AckMessage, HandlerException, RejectMessage
from faststream.rabbit import RabbitBroker
from prometheus_client import Counter
from pydantic import ValidationError
from tenacity import AsyncRetrying, retry_if_exception, stop_after_delay, wait_exponential

log = logging.getLogger("reliability")

# Quorum queues count redeliveries; after this many the message goes to the parking lot. The
# parking middleware counts it and the queue policy (shared/broker.py `ConsumerQueue.policy`) backs
# it up for a message that kills its consumer before it can be counted. Here, not in shared/broker.py,
# which builds the broker with this middleware: so neither module needs the other at import time.
DELIVERY_LIMIT = 10

# Long enough to ride out a restart of MongoDB, MinIO or RabbitMQ; short enough that a handler
# stuck on a real fault gives its message back. Ten deliveries × this = the patience per letter.
TRANSIENT_RETRY_S = 45.0

PARKED = Counter(
    "letters_messages_parked", "Messages moved to their queue's parking lot",
    ["queue", "cause"],  # cause: unreadable, delivery_limit, rejected
)
REQUEUED = Counter("letters_messages_requeued", "Failed deliveries given back to their queue to be tried again",
                   ["queue"])

P = ParamSpec("P")
T = TypeVar("T")


def is_transient(error: BaseException) -> bool:
    if isinstance(error, pymongo.errors.DuplicateKeyError):
        return False
    if isinstance(error, pymongo.errors.PyMongoError) and error.timeout:
        return True  # an operation that ran out of MONGODB_TIMEOUT_MS, on the client or the server
    if isinstance(error, (pymongo.errors.AutoReconnect, pymongo.errors.ConnectionFailure,
                          pymongo.errors.NetworkTimeout, pymongo.errors.WaitQueueTimeoutError)):
        return True
    if isinstance(error, pymongo.errors.OperationFailure):
        return error.has_error_label("RetryableWriteError") or error.code in (91, 189, 10107, 11600, 11602, 13435)
    if isinstance(error, (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectionError,
                          botocore.exceptions.ReadTimeoutError, botocore.exceptions.ConnectTimeoutError)):
        return True
    if isinstance(error, botocore.exceptions.ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return status >= 500 or error.response.get("Error", {}).get("Code") in ("SlowDown", "RequestTimeout")
    return isinstance(error, (ConnectionError, TimeoutError))


def retry_transient(fn: Callable[P, Awaitable[T]], *, deadline_s: float = TRANSIENT_RETRY_S) -> Callable[P, Awaitable[T]]:
    """Wrap a use case: transient failures are retried with backoff, anything else passes through."""

    @wraps(fn)
    async def retrying(*args: P.args, **kwargs: P.kwargs) -> T:
        async for attempt in AsyncRetrying(
            retry=retry_if_exception(is_transient),
            wait=wait_exponential(multiplier=0.2, max=5),
            stop=stop_after_delay(deadline_s),
            reraise=True,
            before_sleep=lambda state: log.warning(
                "transient failure, retrying",
                extra={"attempt": state.attempt_number, "error": repr(state.outcome.exception())},
            ),
        ):
            with attempt:
                return await fn(*args, **kwargs)
        raise AssertionError("unreachable")

    return retrying


def is_permanent(error: BaseException) -> bool:
    """A message that can never succeed, however often it is redelivered."""
    return isinstance(error, (ValidationError, json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError))


def parking_middleware(broker: RabbitBroker, *, publish_timeout_s: float = 5.0) -> type[BaseMiddleware]:
    class ParkingLot(BaseMiddleware):
        """Retries a handler through transient failures; parks a message that cannot succeed, with the reason.

        Handlers are idempotent, so running one again after a partial failure repeats nothing.
        """

        async def consume_scope(self, call_next: Callable[[Any], Awaitable[Any]], msg: Any) -> Any:
            raw = msg.raw_message
            try:
                return await retry_transient(call_next)(msg)
            except RejectMessage as error:
                # The handler itself says the message can never succeed: parked, with that said.
                await _park(broker, raw, error, _deliveries(raw), cause="rejected", timeout_s=publish_timeout_s)
                raise AckMessage() from error
            except HandlerException:
                raise
            except Exception as error:
                deliveries = _deliveries(raw)
                if is_permanent(error):
                    cause = "unreadable"
                elif deliveries >= DELIVERY_LIMIT:
                    cause = "delivery_limit"
                else:
                    _requeued(broker, raw, error, deliveries)
                    # A reject with requeue, not a nack: RabbitMQ 4.3+ counts a delivery as failed
                    # (x-delivery-count) only for basic.reject; 3.x and 4.0-4.2 count both.
                    raise RejectMessage(requeue=True) from error
                await _park(broker, raw, error, deliveries, cause=cause, timeout_s=publish_timeout_s)
                raise AckMessage() from error

    return ParkingLot


def _deliveries(raw) -> int:
    """This delivery's number: RabbitMQ's quorum queues count the earlier failed ones in x-delivery-count."""
    return int((raw.headers or {}).get("x-delivery-count", 0)) + 1


def _requeued(broker: RabbitBroker, raw, error: BaseException, deliveries: int) -> None:
    """Give the message back to its queue (the nack), with one line that says why and how often already."""
    queue = _consuming_queue(broker, raw)[0]
    REQUEUED.labels(queue).inc()
    log.warning(
        "handler failed, message goes back to its queue",
        exc_info=error,
        extra={"queue": queue, "message_id": raw.message_id, "delivery": deliveries, "limit": DELIVERY_LIMIT,
               "reason": _reason(error)},
    )


def _reason(error: BaseException) -> str:
    return (f"{type(error).__name__}: {error}" if str(error) else type(error).__name__)[:1000]


async def _park(broker: RabbitBroker, raw, error: BaseException, deliveries: int, *, cause: str,
                timeout_s: float = 5.0) -> None:
    queue, dead_exchange, parking_key = _consuming_queue(broker, raw)
    if not dead_exchange:
        raise RuntimeError(f"queue {queue} has no parking lot; the message stays in the queue") from error
    headers = {
        # RabbitMQ's own counts stay behind: a replayed message starts with ten fresh deliveries.
        **{k: v for k, v in (raw.headers or {}).items() if not k.startswith(("x-death", "x-delivery-count"))},
        "x-parked-reason": (f"rejected by the handler: message type {raw.type!r}"
                            if isinstance(error, RejectMessage) else _reason(error)),
        "x-parked-cause": cause,
        "x-parked-at": datetime.now(UTC).isoformat(),
        "x-parked-after-deliveries": deliveries,
        "x-original-queue": queue,
        "x-original-exchange": raw.exchange or "",
        "x-original-routing-key": raw.routing_key or "",
    }
    # Where RabbitMQ itself would dead-letter it: the queue's own dead-letter exchange and key.
    await broker.publish(
        raw.body,
        exchange=dead_exchange,
        routing_key=parking_key,
        headers=headers,
        message_id=raw.message_id,
        message_type=raw.type,
        content_type=raw.content_type,
        persist=True,
        mandatory=True,
        timeout=timeout_s,
    )
    PARKED.labels(queue, cause).inc()
    log.error("message parked", extra={"queue": queue, "reason": headers["x-parked-reason"], "cause": cause,
                                        "message_id": raw.message_id, "deliveries": deliveries})


def _consuming_queue(broker: RabbitBroker, raw) -> tuple[str, str, str]:
    """The queue a message came from (the subscriber holding its consumer tag) and its dead-letter route.

    If none matches, the route leads nowhere, the mandatory publish fails, and the message is
    requeued rather than lost.
    """
    for subscriber in broker.subscribers:
        if getattr(subscriber, "_consumer_tag", None) == raw.consumer_tag:
            arguments = subscriber.queue.arguments or {}
            return (
                subscriber.queue.name,
                arguments.get("x-dead-letter-exchange", ""),
                arguments.get("x-dead-letter-routing-key", subscriber.queue.name),
            )
    return "unknown-queue", "", "unknown-queue"
