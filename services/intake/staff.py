"""Staff use cases in intake: the prisoner directory, campaign events and their kiosks, staff tokens."""

from __future__ import annotations

import csv
import io
import re
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from services.intake.attention import campaign_holidays
from services.intake.kiosks import revoke_kiosk
from services.intake.ports import (
    AuditTrail,
    CampaignEventStore,
    PrisonerDirectory,
    StaffTokenLedger,
    StaffTokens,
)
from shared.auth import Principal, hash_token
from shared.events import PrisonerUpdated, StaffTokenChanged, utc_now
from shared.outbox import Outbox
from shared.prisoners import PrisonerStatus
from shared.signing import EventSigner

ID_PATTERN = r"^[a-z0-9_\-]{2,64}$"


class Names(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    uk: str = Field(min_length=1, max_length=120)
    ru: str = Field(min_length=1, max_length=120)
    en: str = Field(min_length=1, max_length=120)


# A short public text on a prisoner's card, in any of the campaign's languages (the pages fall back
# uk → ru → en); longer than a card holds, it is a letter, not a card.
PublicText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=600)]
InLanguages = dict[Literal["uk", "ru", "en"], PublicText]


def known_holidays(ids: list[str] | None) -> list[str] | None:
    """A holiday the campaign's calendar does not list would silently never count: refuse it."""
    unknown = sorted(set(ids or ()) - {holiday.id for holiday in campaign_holidays()})
    if unknown:
        raise ValueError(f"not in services/intake/holidays.yaml: {', '.join(unknown)}")
    return ids


HolidayIds = Annotated[list[str], Field(max_length=20), AfterValidator(known_holidays)]


class PrisonerRecord(BaseModel):
    """A prisoner as staff enter them. `notes` are for operators and admins only, never public."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=ID_PATTERN)
    names: Names
    description: dict[str, str] = Field(default_factory=dict, description="Short public text in uk, ru, en")
    status: PrisonerStatus = "detained"
    status_since: date | None = None
    birthday: date | None = Field(None, description="Only if public")
    story: InLanguages = Field(default_factory=dict,
                               description="A few public sentences about them, in uk, ru, en (any of them)")
    interests: InLanguages = Field(default_factory=dict, description="Public, in uk, ru, en")
    write_about: InLanguages = Field(default_factory=dict, description="What to write about (public), in uk, ru, en")
    holidays: HolidayIds = Field(default_factory=list,
                                 description="Ids of the campaign's holidays they mark (services/intake/holidays.yaml)")
    notes: str | None = Field(None, max_length=5000, description="Not public")


class PrisonerChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    names: Names | None = None
    description: dict[str, str] | None = None
    birthday: date | None = None
    story: InLanguages | None = None
    interests: InLanguages | None = None
    write_about: InLanguages | None = None
    holidays: HolidayIds | None = None
    notes: str | None = Field(None, max_length=5000)


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: PrisonerStatus
    since: date = Field(default_factory=date.today)


class CampaignEvent(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    city: str = Field(min_length=1, max_length=100)
    country: str = Field(min_length=2, max_length=100)
    starts_on: date
    ends_on: date


def prisoner_document(record: PrisonerRecord) -> dict[str, Any]:
    return record.model_dump(mode="json")


def prisoner_announcement(doc: dict[str, Any]) -> PrisonerUpdated:
    return PrisonerUpdated(
        prisoner_id=doc.get("id") or doc["_id"],
        name_ru=doc["names"]["ru"],
        status=doc["status"],
        status_since=doc.get("status_since"),
        facility_id=doc.get("facility_id"),
        facility=doc.get("facility"),
    )


class Announced:
    """What a prisoner's change is written with: the prisoner as changed, announced whole.

    The repository asks for the events as it writes (again if another change came in between), so
    the ones kept here are those it wrote; they are published after the write, the relay publishing
    whatever that misses.
    """

    def __init__(self) -> None:
        self.events: list[PrisonerUpdated] = []

    def __call__(self, prisoner: dict[str, Any]) -> list[PrisonerUpdated]:
        self.events = [prisoner_announcement(prisoner)]
        return self.events

    async def publish(self, outbox: Outbox) -> None:
        for event in self.events:
            await outbox.publish(event)


async def change_prisoner(prisoner_id: str, fields: dict[str, Any], prisoners: PrisonerDirectory,
                          outbox: Outbox) -> dict[str, Any] | None:
    """Change a prisoner's fields with their prisoner.updated in one write; None if there is no such prisoner."""
    announced = Announced()
    updated = await prisoners.update(prisoner_id, fields, announced)
    if updated is not None:
        await announced.publish(outbox)
    return updated


async def save_prisoner(record: PrisonerRecord, prisoners: PrisonerDirectory, outbox: Outbox) -> None:
    announced = Announced()
    await prisoners.upsert(prisoner_document(record), announced)
    await announced.publish(outbox)


async def change_status(prisoner_id: str, change: StatusChange, prisoners: PrisonerDirectory,
                        outbox: Outbox) -> dict[str, Any] | None:
    return await change_prisoner(prisoner_id, {"status": change.status, "status_since": change.since.isoformat()},
                                 prisoners, outbox)


def read_directory_csv(text: str) -> list[PrisonerRecord]:
    """Columns: id,name_uk,name_ru,name_en,status,status_since,birthday,description_uk,description_ru,description_en."""
    records = []
    for line, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        try:
            records.append(
                PrisonerRecord(
                    id=row["id"].strip(),
                    names=Names(uk=row["name_uk"], ru=row["name_ru"], en=row["name_en"]),
                    status=(row.get("status") or "detained").strip(),
                    status_since=(row.get("status_since") or None),
                    birthday=(row.get("birthday") or None),
                    description={k: row[f"description_{k}"] for k in ("uk", "ru", "en") if row.get(f"description_{k}")},
                )
            )
        except Exception as error:
            raise ValueError(f"line {line}: {error}") from error
    return records


@dataclass(frozen=True)
class StaffDesk:
    """What the staff's use cases touch. Each of them records its own audit entry (who, in which
    role, did what to which object), so no route or command can change something unrecorded."""

    prisoners: PrisonerDirectory
    events: CampaignEventStore
    tokens: StaffTokens
    outbox: Outbox
    audit: AuditTrail
    signer: EventSigner


class AlreadyExists(Exception):
    """Something with this id exists: adding it again would overwrite it."""


class NotFound(Exception):
    """No such prisoner, event or kiosk."""


async def add_prisoner(record: PrisonerRecord, by: Principal, desk: StaffDesk) -> None:
    if await desk.prisoners.get(record.id) is not None:
        raise AlreadyExists(f"a prisoner with id {record.id!r} already exists")
    await save_prisoner(record, desk.prisoners, desk.outbox)
    await desk.audit.record(by.subject, "added prisoner", record.id, role=by.role)


async def edit_prisoner(prisoner_id: str, fields: dict[str, Any], by: Principal, desk: StaffDesk) -> dict[str, Any]:
    """The prisoner as edited. The edit and its prisoner.updated are one write; an empty edit changes
    and announces nothing (and is still recorded: someone looked and saved)."""
    updated = (await change_prisoner(prisoner_id, fields, desk.prisoners, desk.outbox) if fields
               else await desk.prisoners.get(prisoner_id))
    if updated is None:
        raise NotFound("no such prisoner")
    await desk.audit.record(by.subject, "edited prisoner", prisoner_id, role=by.role, fields=sorted(fields))
    return updated


async def set_prisoner_status(prisoner_id: str, change: StatusChange, by: Principal,
                              desk: StaffDesk) -> dict[str, Any]:
    """Released, transferred, deceased…: delivery holds or re-routes the letters in flight on the news."""
    updated = await change_status(prisoner_id, change, desk.prisoners, desk.outbox)
    if updated is None:
        raise NotFound("no such prisoner")
    await desk.audit.record(by.subject, "changed prisoner status", prisoner_id, role=by.role, status=change.status)
    return updated


class EventEndsBeforeItStarts(ValueError):
    pass


async def create_event(event: CampaignEvent, by: Principal, desk: StaffDesk) -> None:
    if event.ends_on < event.starts_on:
        raise EventEndsBeforeItStarts("an event cannot end before it starts")
    if not await desk.events.insert(event.model_dump(mode="json")):
        raise AlreadyExists(f"an event with id {event.id!r} already exists")
    await desk.audit.record(by.subject, "created event", event.id, role=by.role)


async def add_kiosk(event_id: str, kiosk_id: str, name: str, by: Principal, desk: StaffDesk) -> str:
    """A kiosk token bound to the event, shown once (only its hash is kept)."""
    if await desk.events.get(event_id) is None:
        raise NotFound("no such event")
    token = await desk.tokens.issue("kiosk", subject=kiosk_id, event_id=event_id, name=name)
    await desk.audit.record(by.subject, "issued kiosk token", kiosk_id, role=by.role, event_id=event_id)
    return token


async def unpair_kiosk(event_id: str, kiosk_id: str, by: Principal, desk: StaffDesk) -> None:
    if not await revoke_kiosk(event_id, kiosk_id, desk.tokens):
        raise NotFound("no such kiosk at this event")
    await desk.audit.record(by.subject, "revoked kiosk token", kiosk_id, role=by.role, event_id=event_id)


async def grant_staff_token(subject: str, role: str, days: int, by: Principal, desk: StaffDesk) -> str:
    """A new staff token for `subject`, shown once; recorded as granted by `by`."""
    token = await issue_staff_token(subject, role, days, desk.tokens, desk.outbox, desk.signer)
    await desk.audit.record(by.subject, "issued staff token", subject, role=by.role, granted_role=role)
    return token


async def withdraw_staff_token(token_hash: str, by: Principal, desk: StaffDesk) -> None:
    """Revoke a staff token in every service; revoking one never issued (or revoked) is harmless."""
    await revoke_staff_token(token_hash, desk.tokens, desk.outbox, desk.signer)
    await desk.audit.record(by.subject, "revoked staff token", token_hash[:12], role=by.role)


async def issue_staff_token(
    subject: str, role: str, days: int, staff_tokens: StaffTokenLedger, outbox: Outbox,
    signer: EventSigner,
) -> str:
    """A new staff token; only its hash is kept, here and (through the broker) in every service.

    The announcement is signed: the other services apply no staff-token change intake did not sign.
    """
    if not re.fullmatch(r"[\w.\-@]{1,64}", subject):
        raise ValueError("a subject is 1–64 letters, digits, dots, dashes or @")
    token = secrets.token_urlsafe(32)
    change = signer.sign(StaffTokenChanged(
        token_hash=hash_token(token), subject=subject, role=role, expires_at=utc_now() + timedelta(days=days)
    ))
    await _record_token_change(change, staff_tokens, outbox)
    return token


async def revoke_staff_token(token_hash: str, staff_tokens: StaffTokenLedger, outbox: Outbox,
                             signer: EventSigner) -> None:
    change = signer.sign(StaffTokenChanged(
        token_hash=token_hash, subject="revoked", role="moderator", expires_at=utc_now(), revoked=True
    ))
    await _record_token_change(change, staff_tokens, outbox)


async def _record_token_change(change: StaffTokenChanged, staff_tokens: StaffTokenLedger,
                               outbox: Outbox) -> None:
    # The change and its signed announcement are one write (services/intake/adapters.py `MongoTokens`).
    await staff_tokens.change_staff_token(change)
    await outbox.publish(change)
