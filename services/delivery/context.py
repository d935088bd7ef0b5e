"""What every delivery use case works through: the ports, and the policy taken from the settings.

One `Delivery` is built by the composition root (main.py); tests build theirs on in-memory ports.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from services.delivery.config import DeliverySettings
from services.delivery.ports import (
    AuditLog,
    Bundles,
    Confirmations,
    DeliveryChannel,
    EventOutbox,
    Intermediaries,
    ObjectStorePort,
    OutgoingQueue,
    Prisoners,
    Replies,
    TranslationWaits,
)
from shared.events import utc_now


@dataclass(frozen=True)
class Policy:
    """The settings use cases act on. Their defaults and limits are DeliverySettings' (config.py), the
    one home of each: a policy is always made from settings."""

    public_url: str
    font_path: str
    send_max_attempts: int
    retry_base_s: float
    retry_max_s: float
    attachment_max_bytes: int
    email_link_ttl_s: int
    manual_link_ttl_s: int
    confirm_ttl_days: int
    undo_window_s: float

    @classmethod
    def of(cls, settings: DeliverySettings) -> Policy:
        return cls(**{name: getattr(settings, name) for name in cls.__dataclass_fields__})


@dataclass
class Delivery:
    """The ports every use case works through: one object built by the composition root."""

    letters: OutgoingQueue
    intermediaries: Intermediaries
    prisoners: Prisoners
    bundles: Bundles
    confirmations: Confirmations
    replies: Replies
    audit: AuditLog
    store: ObjectStorePort
    outbox: EventOutbox
    channels: dict[str, DeliveryChannel]
    policy: Policy
    clock: Callable[[], datetime] = utc_now
    # Letters waiting for a volunteer translator (translation_backlog.py), for the monitor only.
    translation_waits: TranslationWaits | None = None


