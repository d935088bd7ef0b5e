"""Staff use cases in intake: the prisoner directory, campaign events and their kiosks, staff tokens."""

from __future__ import annotations

import csv
import io
import re
import secrets
from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.auth import StaffTokens, hash_token
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


class PrisonerRecord(BaseModel):
    """A prisoner as staff enter them. `notes` are for operators and admins only, never public."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=ID_PATTERN)
    names: Names
    description: dict[str, str] = Field(default_factory=dict, description="Short public text in uk, ru, en")
    status: PrisonerStatus = "detained"
    status_since: date | None = None
    birthday: date | None = Field(None, description="Only if public")
    notes: str | None = Field(None, max_length=5000, description="Not public")


class PrisonerChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    names: Names | None = None
    description: dict[str, str] | None = None
    birthday: date | None = None
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


async def save_prisoner(record: PrisonerRecord, prisoners, outbox: Outbox) -> None:
    doc = prisoner_document(record)
    await prisoners.upsert(doc)
    await outbox.add_and_publish(prisoner_announcement(doc))


async def change_status(prisoner_id: str, change: StatusChange, prisoners, outbox: Outbox) -> dict[str, Any] | None:
    updated = await prisoners.update(prisoner_id, {"status": change.status, "status_since": change.since.isoformat()})
    if updated is not None:
        await outbox.add_and_publish(prisoner_announcement(updated))
    return updated


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


async def issue_staff_token(
    subject: str, role: str, days: int, staff_tokens: StaffTokens, outbox: Outbox, signer: EventSigner
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
    await staff_tokens.apply(change)
    await outbox.add_and_publish(change)
    return token


async def revoke_staff_token(token_hash: str, staff_tokens: StaffTokens, outbox: Outbox,
                             signer: EventSigner) -> None:
    change = signer.sign(StaffTokenChanged(
        token_hash=token_hash, subject="revoked", role="moderator", expires_at=utc_now(), revoked=True
    ))
    await staff_tokens.apply(change)
    await outbox.add_and_publish(change)
