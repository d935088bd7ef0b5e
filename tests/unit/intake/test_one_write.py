"""Intake's staff changes are written with their events (shared/outbox.py): a prisoner's change with
its prisoner.updated, a staff token with its signed announcement; the use case then publishes exactly
the events written, nothing added apart."""

from __future__ import annotations

from typing import Any

from services.intake.staff import (
    PrisonerRecord,
    StatusChange,
    change_status,
    issue_staff_token,
    revoke_staff_token,
    save_prisoner,
)
from shared.events import PrisonerUpdated, StaffTokenChanged
from shared.signing import (
    DEV_STAFF_EVENTS_PRIVATE_KEY,
    DEV_STAFF_EVENTS_PUBLIC_KEY,
    EventSigner,
    EventVerifier,
)

SIGNER = EventSigner(DEV_STAFF_EVENTS_PRIVATE_KEY)


class PublishingOutbox:
    """Only the inline publish of events already written; storing one apart is a failure here."""

    def __init__(self) -> None:
        self.published: list[Any] = []

    async def publish(self, event) -> bool:
        self.published.append(event)
        return True

    async def add_and_publish(self, event) -> bool:
        raise AssertionError(f"{event.routing_key} stored apart from its change")


class MemoryPrisoners:
    """Writes each change with the events `announce` makes; `conflicts` first attempts lose a race."""

    def __init__(self, conflicts: int = 0) -> None:
        self.prisoners: dict[str, dict[str, Any]] = {}
        self.written: list[Any] = []
        self._conflicts = conflicts

    async def update(self, prisoner_id: str, fields: dict[str, Any], announce) -> dict[str, Any] | None:
        if prisoner_id not in self.prisoners:
            return None
        while True:
            after = {**self.prisoners[prisoner_id], **fields}
            events = announce(after)
            if self._conflicts:
                self._conflicts -= 1  # another change came in between: read again, ask again
                continue
            self.prisoners[prisoner_id] = after
            self.written.extend(events)
            return after

    async def upsert(self, prisoner: dict[str, Any], announce) -> dict[str, Any]:
        fields = {k: v for k, v in prisoner.items() if k != "id"}
        if (stored := await self.update(prisoner["id"], fields, announce)) is not None:
            return stored
        doc = {"_id": prisoner["id"], **fields}
        self.prisoners[prisoner["id"]] = doc
        self.written.extend(announce(doc))
        return doc


class MemoryTokenLedger:
    def __init__(self) -> None:
        self.written: list[StaffTokenChanged] = []

    async def change_staff_token(self, change: StaffTokenChanged) -> None:
        self.written.append(change)


def record(prisoner_id: str = "p_1") -> PrisonerRecord:
    return PrisonerRecord.model_validate({"id": prisoner_id, "names": {"uk": "Ремзі", "ru": "Ремзи", "en": "Remzi"}})


async def test_a_saved_prisoner_publishes_the_event_written_with_them():
    prisoners, outbox = MemoryPrisoners(), PublishingOutbox()

    await save_prisoner(record(), prisoners, outbox)

    (written,) = prisoners.written
    assert outbox.published == [written] and isinstance(written, PrisonerUpdated)


async def test_a_status_change_that_lost_a_race_publishes_only_the_event_finally_written():
    prisoners, outbox = MemoryPrisoners(), PublishingOutbox()
    await save_prisoner(record(), prisoners, outbox)
    prisoners._conflicts = 2

    await change_status("p_1", StatusChange(status="released"), prisoners, outbox)

    written = prisoners.written[-1]
    assert outbox.published[-1] is written and len(outbox.published) == 2
    assert written.status == "released"


async def test_a_change_of_nobody_announces_nothing():
    prisoners, outbox = MemoryPrisoners(), PublishingOutbox()
    assert await change_status("p_nobody", StatusChange(status="released"), prisoners, outbox) is None
    assert outbox.published == []


async def test_a_staff_token_is_written_and_published_with_its_signature():
    ledger, outbox = MemoryTokenLedger(), PublishingOutbox()

    await issue_staff_token("anna.moderator", "moderator", 30, ledger, outbox, SIGNER)
    await revoke_staff_token(ledger.written[0].token_hash, ledger, outbox, SIGNER)

    issued, revoked = ledger.written
    assert outbox.published == [issued, revoked] and revoked.revoked
    verifier = EventVerifier(DEV_STAFF_EVENTS_PUBLIC_KEY)
    assert all(verifier.verify(StaffTokenChanged.routing_key, change.model_dump(mode="json")) is None
               for change in ledger.written), "the written announcement is the signed one"
