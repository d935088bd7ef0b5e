"""Delivery states of a letter, and the moves allowed between them."""

from typing import Literal

DeliveryState = Literal[
    "queued", "bundled", "sent", "handed_over", "returned", "blocked", "held", "failed"
]
DELIVERY_STATES: tuple[str, ...] = DeliveryState.__args__  # type: ignore[attr-defined]
