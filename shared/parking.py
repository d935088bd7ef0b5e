"""Operators' command for parking lots: see why messages were parked, and replay them.

    python -m shared.parking list sorting.letter-received
    python -m shared.parking replay sorting.letter-received [--limit 10]

Uses AMQP_URL and NAMESPACE like the services. Replaying publishes a message back to where it was
first sent (exchange and routing key), with publisher confirms, and only then removes it from the
parking lot: a replay that fails halfway leaves the message parked, never lost.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aio_pika
import typer

from shared.broker import dead_letter_exchange
from shared.settings import InfraSettings

app = typer.Typer(help="Inspect and replay parked messages.", no_args_is_help=True)


def _parking_name(queue: str, namespace: str) -> str:
    full = f"{namespace}.{queue}" if namespace and not queue.startswith(f"{namespace}.") else queue
    return full if full.endswith(".parking") else f"{full}.parking"


def origin(message: aio_pika.abc.AbstractIncomingMessage) -> tuple[str, str]:
    """Where the message was first published: our parking headers, or RabbitMQ's x-death record."""
    headers = message.headers or {}
    if "x-original-routing-key" in headers:
        return str(headers.get("x-original-exchange", "")), str(headers["x-original-routing-key"])
    deaths = headers.get("x-death") or []
    if deaths:
        first = deaths[-1]
        keys = first.get("routing-keys") or [""]
        return str(first.get("exchange", "")), str(keys[0])
    raise ValueError("the message does not say where it came from")


def describe(message: aio_pika.abc.AbstractIncomingMessage) -> dict[str, Any]:
    headers = message.headers or {}
    deaths = headers.get("x-death") or []
    reason = headers.get("x-parked-reason") or (f"RabbitMQ: {deaths[0].get('reason')}" if deaths else "unknown")
    try:
        body: Any = json.loads(message.body)
    except ValueError:
        body = message.body[:200].decode("utf-8", "replace")
    exchange, routing_key = ("?", "?")
    try:
        exchange, routing_key = origin(message)
    except ValueError:
        pass
    return {"message_id": message.message_id, "type": message.type, "reason": str(reason),
            "parked_at": headers.get("x-parked-at"), "exchange": exchange, "routing_key": routing_key, "body": body}


async def _list(queue: str, limit: int) -> list[dict[str, Any]]:
    """Read parked messages without spending their deliveries.

    A parking lot is a quorum queue, and a quorum queue counts every message given back to it
    (RabbitMQ 3.13 and 4.0-4.2 count a requeue, 4.3+ a reject); RabbitMQ 4 also limits a quorum
    queue to 20 deliveries by default and drops, without a dead-letter exchange, what exceeds it.
    So a read message is not given back: a fresh copy (same body and headers) is published to the
    lot, with publisher confirms, and only then the one read is acknowledged. A crash in between
    leaves a copy too many, never none; replay is idempotent downstream. The order in the lot
    rotates; each message is read once per listing (the count of the lot bounds the pass).
    """
    settings = InfraSettings()
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        name = _parking_name(queue, settings.namespace)
        parking = await channel.declare_queue(name, passive=True)
        # The way parked messages come in: the dead-letter exchange, keyed by the consuming queue.
        dead = await channel.get_exchange(dead_letter_exchange(settings.namespace).name, ensure=True)
        seen = []
        for _ in range(min(limit, parking.declaration_result.message_count)):
            message = await parking.get(no_ack=False, fail=False, timeout=5)
            if message is None:
                break
            seen.append(describe(message))
            await dead.publish(_copy(message), routing_key=name.removesuffix(".parking"), mandatory=True)
            await message.ack()
        return seen


def _copy(message: aio_pika.abc.AbstractIncomingMessage) -> aio_pika.Message:
    # RabbitMQ's own count stays behind: the copy is a new message to the queue.
    headers = {k: v for k, v in (message.headers or {}).items() if not k.startswith("x-delivery-count")}
    return aio_pika.Message(message.body, headers=headers, message_id=message.message_id, type=message.type,
                            content_type=message.content_type, delivery_mode=aio_pika.DeliveryMode.PERSISTENT)


async def _replay(queue: str, limit: int) -> int:
    settings = InfraSettings()
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        parking = await channel.get_queue(_parking_name(queue, settings.namespace), ensure=True)
        replayed = 0
        for _ in range(limit):
            message = await parking.get(no_ack=False, fail=False, timeout=5)
            if message is None:
                break
            exchange_name, routing_key = origin(message)
            exchange = await channel.get_exchange(exchange_name, ensure=True) if exchange_name else channel.default_exchange
            headers = {k: v for k, v in (message.headers or {}).items() if not k.startswith(("x-parked", "x-original", "x-death", "x-delivery-count"))}
            await exchange.publish(
                aio_pika.Message(message.body, headers=headers, message_id=message.message_id, type=message.type,
                                 content_type=message.content_type, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                routing_key=routing_key,
                mandatory=True,
            )
            await message.ack()
            replayed += 1
        return replayed


@app.command("list")
def list_parked(queue: str = typer.Argument(..., help="The consuming queue, e.g. sorting.letter-received"),
                limit: int = typer.Option(100, min=1)) -> None:
    """Show parked messages with the reason each was parked."""
    for entry in asyncio.run(_list(queue, limit)):
        typer.echo(json.dumps(entry, ensure_ascii=False, default=str))


@app.command("replay")
def replay(queue: str = typer.Argument(...), limit: int = typer.Option(100, min=1)) -> None:
    """Send parked messages back to where they were first published (after a fix)."""
    typer.echo(f"replayed {asyncio.run(_replay(queue, limit))} messages")


if __name__ == "__main__":
    app()
