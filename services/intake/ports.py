"""What intake's use cases need from storage; adapters satisfy these structurally."""

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

from services.intake.domain import Letter, TimelineEntry
from shared.events import LetterEvent, StaffTokenChanged
from shared.facilities import Facility
from shared.outbox import Unpublished


class DuplicateClientRef(Exception):
    """A letter with this client_ref already exists."""


class LetterRepository(Protocol):
    async def insert(self, letter: Letter, announcing: Sequence[LetterEvent]) -> None:
        """Store a new letter and the events announcing it in one write; DuplicateClientRef if its
        client_ref is taken."""
        ...
    async def get(self, letter_id: str) -> Letter | None: ...
    async def by_client_ref(self, client_ref: str) -> Letter | None: ...
    async def record_status(self, letter_id: str, status: str, at: datetime, facts: dict) -> bool: ...
    async def timeline(self, letter_id: str) -> list[TimelineEntry]: ...
    async def link_version(self, previous_id: str, letter_id: str, version: int) -> None: ...
    async def request_withdrawal(self, letter_id: str, at: datetime, announcing: Sequence[LetterEvent]) -> bool:
        """Note a withdrawal request with the event that asks sorting, in one write; False if asked before."""
        ...
    async def sealed_contact(self, letter_id: str) -> str | None: ...
    async def submitted_since(self, since: datetime) -> list[dict[str, Any]]: ...


class PrisonerDirectory(Protocol):
    async def get(self, prisoner_id: str) -> dict[str, Any] | None: ...
    async def list_public(self) -> list[dict[str, Any]]: ...
    async def count_letter(self, prisoner_id: str) -> None: ...
    # A change is written with the events `announce` makes of the prisoner as changed (shared/outbox.py).
    async def update(self, prisoner_id: str, fields: dict[str, Any],
                     announce: Callable[[dict[str, Any]], Sequence[Any]],
                     only_if: dict[str, Any] | None = None) -> dict[str, Any] | None: ...
    async def upsert(self, prisoner: dict[str, Any],
                     announce: Callable[[dict[str, Any]], Sequence[Any]]) -> dict[str, Any]: ...


class StaffTokenLedger(Protocol):
    async def change_staff_token(self, change: StaffTokenChanged) -> None:
        """Store intake's copy of a staff-token change with its signed announcement, in one write."""
        ...


class KioskTokenStore(Protocol):
    async def kiosk(self, token: str) -> dict[str, Any] | None:
        """The kiosk token's record, revoked or not; None if no kiosk was ever paired with it."""
        ...
    async def revoke_kiosk(self, event_id: str, kiosk_id: str) -> int:
        """Mark this kiosk's tokens at this event revoked; how many it has (revoked before or now)."""
        ...


class CampaignEventCatalogue(Protocol):
    async def get(self, event_id: str) -> dict[str, Any] | None: ...


class CampaignEventStore(CampaignEventCatalogue, Protocol):
    async def insert(self, event: dict[str, Any]) -> bool:
        """Add a new event; False if one with its id exists."""
        ...


class StaffTokens(StaffTokenLedger, KioskTokenStore, Protocol):
    async def issue(self, role: str, *, subject: str, event_id: str | None = None, name: str | None = None) -> str:
        """A new kiosk token, stored only as its hash; the token itself is returned once."""
        ...


class AuditTrail(Protocol):
    async def record(self, actor: str, action: str, target: str, *, role: str | None = None,
                     **details: Any) -> None: ...


class PageStore(Protocol):
    async def put(self, key: str, data: bytes, content_type: str) -> Any: ...
    async def delete(self, key: str) -> None: ...


# What the sweeper (sweeper.py) reads and repairs.
class StalledLetters(Protocol):
    async def stalled(self, status: str, before: datetime, limit: int) -> tuple[int, list[tuple[str, datetime]]]:
        """How many letters wait in `status` since before `before`, and the longest-waiting (id, since)."""
        ...


class PlacedPrisoners(Protocol):
    async def placed_at(self, facility_id: str) -> list[dict[str, Any]]: ...
    async def update(self, prisoner_id: str, fields: dict[str, Any],
                     announce: Callable[[dict[str, Any]], Sequence[Any]],
                     only_if: dict[str, Any] | None = None) -> dict[str, Any] | None: ...


class FacilityList(Protocol):
    async def list(self) -> list[Facility]: ...


class UnpublishedEvents(Protocol):
    async def unpublished(self, older_than_s: float, limit: int) -> list[Unpublished]: ...
    async def publish(self, event: Any) -> bool: ...
