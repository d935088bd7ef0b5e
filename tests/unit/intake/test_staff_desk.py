"""The staff's use cases (services/intake/staff.py) each record their own audit entry, and only what they
did: a refused change leaves no entry, no event and no change; a token's entry never holds the token."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from services.intake.staff import (
    AlreadyExists,
    CampaignEvent,
    EventEndsBeforeItStarts,
    NotFound,
    StaffDesk,
    StatusChange,
    add_kiosk,
    add_prisoner,
    create_event,
    edit_prisoner,
    grant_staff_token,
    set_prisoner_status,
    unpair_kiosk,
    withdraw_staff_token,
)
from shared.auth import Principal, hash_token
from tests.unit.intake.test_one_write import (
    SIGNER,
    MemoryPrisoners,
    MemoryTokenLedger,
    PublishingOutbox,
    record,
)

OPERATOR = Principal("olena.operator", "operator")
ADMIN = Principal("anna.admin", "admin")


class MemoryAudit:
    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    async def record(self, actor: str, action: str, target: str, *, role: str | None = None, **details: Any) -> None:
        self.entries.append({"actor": actor, "action": action, "target": target, "role": role, **details})


class Directory(MemoryPrisoners):
    async def get(self, prisoner_id: str) -> dict[str, Any] | None:
        return self.prisoners.get(prisoner_id)


class MemoryEvents:
    def __init__(self) -> None:
        self.events: dict[str, dict[str, Any]] = {}

    async def get(self, event_id: str) -> dict[str, Any] | None:
        return self.events.get(event_id)

    async def insert(self, event: dict[str, Any]) -> bool:
        if event["id"] in self.events:
            return False
        self.events[event["id"]] = event
        return True


class MemoryTokens(MemoryTokenLedger):
    def __init__(self) -> None:
        super().__init__()
        self.kiosks: list[dict[str, Any]] = []

    async def issue(self, role: str, *, subject: str, event_id: str | None = None, name: str | None = None) -> str:
        token = f"kiosk-token-{len(self.kiosks)}"
        self.kiosks.append({"subject": subject, "event_id": event_id, "revoked": False})
        return token

    async def revoke_kiosk(self, event_id: str, kiosk_id: str) -> int:
        mine = [k for k in self.kiosks if (k["event_id"], k["subject"]) == (event_id, kiosk_id)]
        for kiosk in mine:
            kiosk["revoked"] = True
        return len(mine)

    async def kiosk(self, token: str) -> dict[str, Any] | None:
        return None


@pytest.fixture
def desk() -> StaffDesk:
    return StaffDesk(prisoners=Directory(), events=MemoryEvents(), tokens=MemoryTokens(),
                     outbox=PublishingOutbox(), audit=MemoryAudit(), signer=SIGNER)


def berlin(**fields) -> CampaignEvent:
    return CampaignEvent.model_validate({"id": "e_berlin", "name": "Листи в Берліні", "city": "Berlin",
                                         "country": "DE", "starts_on": "2026-12-10", "ends_on": "2026-12-11",
                                         **fields})


async def test_each_prisoner_change_is_recorded_with_who_did_it(desk):
    await add_prisoner(record(), OPERATOR, desk)
    await edit_prisoner("p_1", {"notes": "адвокат просить не писати про суд"}, OPERATOR, desk)
    await set_prisoner_status("p_1", StatusChange(status="released", since=date(2026, 12, 1)), OPERATOR, desk)
    assert [(e["actor"], e["role"], e["action"], e["target"]) for e in desk.audit.entries] == [
        ("olena.operator", "operator", "added prisoner", "p_1"),
        ("olena.operator", "operator", "edited prisoner", "p_1"),
        ("olena.operator", "operator", "changed prisoner status", "p_1")]
    assert desk.audit.entries[1]["fields"] == ["notes"] and desk.audit.entries[2]["status"] == "released"
    assert len(desk.outbox.published) == 3  # each change announced once, with its write


async def test_a_refused_change_leaves_no_entry_event_or_change(desk):
    await add_prisoner(record(), OPERATOR, desk)
    entries, published = list(desk.audit.entries), list(desk.outbox.published)
    with pytest.raises(AlreadyExists):
        await add_prisoner(record(), OPERATOR, desk)
    with pytest.raises(NotFound):
        await edit_prisoner("p_nobody", {"notes": "x"}, OPERATOR, desk)
    with pytest.raises(NotFound):
        await set_prisoner_status("p_nobody", StatusChange(status="released"), OPERATOR, desk)
    with pytest.raises(EventEndsBeforeItStarts):
        await create_event(berlin(ends_on="2026-12-09"), OPERATOR, desk)
    with pytest.raises(NotFound):
        await add_kiosk("e_nowhere", "k_1", "Планшет 1", OPERATOR, desk)
    with pytest.raises(NotFound):
        await unpair_kiosk("e_nowhere", "k_1", OPERATOR, desk)
    assert desk.audit.entries == entries and desk.outbox.published == published
    assert desk.events.events == {} and desk.tokens.kiosks == []


async def test_an_event_and_its_kiosk_are_recorded_and_a_second_event_with_its_id_refused(desk):
    await create_event(berlin(), OPERATOR, desk)
    with pytest.raises(AlreadyExists):
        await create_event(berlin(name="Інша подія"), OPERATOR, desk)
    token = await add_kiosk("e_berlin", "k_1", "Планшет 1", OPERATOR, desk)
    await unpair_kiosk("e_berlin", "k_1", OPERATOR, desk)
    assert [e["action"] for e in desk.audit.entries] == ["created event", "issued kiosk token", "revoked kiosk token"]
    assert all(token not in str(entry) for entry in desk.audit.entries)


async def test_a_staff_token_is_recorded_as_granted_by_an_admin_without_the_token(desk):
    token = await grant_staff_token("mykola.moderator", "moderator", 30, ADMIN, desk)
    await withdraw_staff_token(hash_token(token), ADMIN, desk)
    granted, withdrawn = desk.audit.entries
    assert (granted["actor"], granted["action"], granted["target"], granted["granted_role"]) == (
        "anna.admin", "issued staff token", "mykola.moderator", "moderator")
    assert withdrawn["action"] == "revoked staff token" and withdrawn["target"] == hash_token(token)[:12]
    assert all(token not in str(entry) and hash_token(token) not in str(entry) for entry in desk.audit.entries)
    assert [change.revoked for change in desk.tokens.written] == [False, True]
