"""MongoDB repositories for intake's own collections. Only these build and read documents."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from services.intake.domain import REACHED_STATUSES, STATUS_RANK, Letter, TimelineEntry, phase_of
from services.intake.ports import DuplicateClientRef
from services.intake.results.places import stored_place
from shared.auth import hash_token, staff_token_document
from shared.events import LetterEvent, StaffTokenChanged, utc_now
from shared.mongo import (
    bson_time,
    count_unchanged,
    read_time,
    read_times,
    stored_time,
    stored_times,
    upgrade_times,
)
from shared.outbox import WithEvents

# A letter's points in time. `counted_at` is when the results count it (written_at as clamped at
# receipt, or its submission); `<status>_at` when each status was reported (a withdrawal request's
# is `withdrawal_requested_at`), `status_at` when the headline status happened, `status_changed_at`
# when it was recorded here.
LETTER_TIMES = ("submitted_at", "written_at", "counted_at", "status_at", "status_changed_at", "contact_erased_at",
                *(f"{status}_at" for status in STATUS_RANK))
TOKEN_TIMES = ("created_at", "revoked_at")
# Counts the writes of a letter's status: a report decided on what was read is written only if the
# count is still the one read (`_latest_in_phase`).
STATUS_WRITES = "status_writes"
# The names of the schema before dates (epoch seconds), converted at start by `upgrade_times`.
# `submitted_epoch` was a copy of `submitted_at`: rewriting that from it keeps the instant, and on
# the stand-in gives it the form every other letter's has.
LETTER_EPOCHS = {"submitted_epoch": "submitted_at", "written_epoch": "counted_at",
                 "status_changed_epoch": "status_changed_at", "status_at_epoch": "status_at",
                 "contact_erased_epoch": "contact_erased_at",
                 **{f"{status}_epoch": f"{status}_at" for status in STATUS_RANK}}
REPLY_EPOCHS = {"received_epoch": "received_at"}


class MongoLetters:
    def __init__(self, db: AsyncDatabase) -> None:
        self._letters = db["letters"]
        # A stored letter and its announcement are one write (shared/outbox.py).
        self._announced = WithEvents(self._letters)
        self._timeline = db["letter_timeline"]
        self._replies = db["letter_replies"]

    async def ensure_indexes(self) -> None:
        await upgrade_times(self._letters, LETTER_EPOCHS)
        await upgrade_times(self._replies, REPLY_EPOCHS)
        # The unique client_ref is what makes concurrent retries of one letter store it once.
        await self._letters.create_index([("client_ref", ASCENDING)], unique=True)
        await self._letters.create_index([("prisoner_id", ASCENDING)])
        await self._letters.create_index([("kiosk_id", ASCENDING)])
        await self._letters.create_index([("campaign_event_id", ASCENDING)])
        await self._letters.create_index([("contact_lookup", ASCENDING)])
        await self._letters.create_index([("submitted_at", ASCENDING)])
        # The sweeper asks for letters that wait in one status since before a time (`stalled`).
        await self._letters.create_index([("status", ASCENDING), ("submitted_at", ASCENDING)])
        await self._letters.create_index([("status", ASCENDING), ("status_changed_at", ASCENDING)])
        await self._timeline.create_index([("letter_id", ASCENDING), ("at", ASCENDING)])

    async def insert(self, letter: Letter, announcing: Sequence[LetterEvent]) -> None:
        doc = letter.model_dump(mode="python", exclude={"id"})
        submitted = letter.submitted_at
        counted = letter.written_at or submitted
        iso_year, iso_week, _ = submitted.isocalendar()
        # Period keys fixed at insert: the campaign's results group by them with plain indexes.
        doc.update(
            _id=letter.id,
            status_rank=STATUS_RANK[letter.status],
            submitted_day=submitted.strftime("%Y-%m-%d"),
            submitted_week=f"{iso_year}-W{iso_week:02d}",
            submitted_month=submitted.strftime("%Y-%m"),
            # The results count a letter on the day it was written, at its place as typed (see results/).
            counted_at=counted,
            written_day=counted.astimezone(UTC).strftime("%Y-%m-%d"),
            place=stored_place(letter.writer_city, letter.writer_country, letter.campaign_event_id),
        )
        try:
            await self._announced.insert_one(stored_times(doc), announcing)
        except DuplicateKeyError as error:
            raise DuplicateClientRef(letter.client_ref) from error
        await self._add_timeline(letter.id, letter.status, letter.submitted_at)

    async def get(self, letter_id: str) -> Letter | None:
        return _letter(await self._letters.find_one({"_id": letter_id}))

    async def by_client_ref(self, client_ref: str) -> Letter | None:
        return _letter(await self._letters.find_one({"client_ref": client_ref}))

    async def record_status(self, letter_id: str, status: str, at: datetime, facts: dict | None = None) -> bool:
        """Record a transition once; the letter's status only moves forward.

        Facts that the results need (finding categories, moderation outcome, a reason) are kept
        on the letter under their own names, whatever order the events arrive in.
        """
        added = await self._add_timeline(letter_id, status, at)
        if (facts or {}).get("reply_id"):
            await self._add_reply(letter_id, str(facts["reply_id"]), at)
        known = {"categories": "finding_categories", "moderation": "moderation", "reason": f"{status}_reason",
                 "hold_kind": "held_kind", "printed_text": "printed_text", "translated": "translated",
                 "redacted": "redacted", "source_language": "source_language", "reason_code": "reason_code",
                 "note": "reason_note", "handed_over_to": "handed_over_to"}
        noted = {f"{status}_at": stored_time(at), **{known[k]: v for k, v in (facts or {}).items() if k in known}}
        await self._letters.update_one({"_id": letter_id}, {"$set": noted})
        headline = {"status": status, "status_rank": STATUS_RANK[status], "status_changed_at": stored_time(utc_now()),
                    "status_at": stored_time(at),
                    # Set with the status, so it names the prisoner exactly while the letter has reached them:
                    # the results count prisoners reached from its index alone.
                    "reached_prisoner": await self._prisoner_of(letter_id, facts) if status in REACHED_STATUSES
                    else None}
        moved = await self._letters.update_one(
            {"_id": letter_id, "status_rank": {"$lt": STATUS_RANK[status]}},
            {"$set": headline, "$inc": {STATUS_WRITES: 1}},
        )
        latest = moved.modified_count > 0 or await self._latest_in_phase(letter_id, status, at, headline)
        return added or latest

    async def _latest_in_phase(self, letter_id: str, status: str, at: datetime, headline: dict[str, Any]) -> bool:
        """Delivery moves back and forth (held → queued, failed → bundled → sent), and so does a letter
        between translation and review: within a phase the latest report wins, by the time it happened,
        not by arrival. Which is later is decided on the time read back, and the status written only if
        nothing was written since (`count_unchanged`)."""
        phase = phase_of(status)
        while phase:
            doc = await self._letters.find_one({"_id": letter_id}, {"status": 1, "status_at": 1, STATUS_WRITES: 1})
            if doc is None or doc.get("status") not in phase or doc.get("status_at") is None:
                return False
            if read_time(doc["status_at"]) >= bson_time(at):
                return False
            written = await self._letters.update_one(
                {"_id": letter_id, "status": {"$in": list(phase)}, **count_unchanged(doc, STATUS_WRITES)},
                {"$set": headline, "$inc": {STATUS_WRITES: 1}},
            )
            if written.matched_count == 1:
                return True
        return False

    async def link_version(self, previous_id: str, letter_id: str, version: int) -> None:
        """Link a letter edited and sent again to the version before it; repeating it changes nothing."""
        await self._letters.update_one({"_id": letter_id}, {"$set": {"previous_version": previous_id,
                                                                     "version": version}})
        await self._letters.update_one({"_id": previous_id, "next_version": None}, {"$set": {"next_version": letter_id}})

    async def request_withdrawal(self, letter_id: str, at: datetime, announcing: Sequence[LetterEvent]) -> bool:
        """Note the writer's request and the event that asks sorting, in one write; False if it was
        asked before (asking twice asks once). The timeline entry follows through `record_status`."""
        return await self._announced.update_one(
            {"_id": letter_id, "withdrawal_requested_at": None},
            {"$set": {"withdrawal_requested_at": stored_time(at)}}, announcing)

    async def submitted_since(self, since: datetime) -> list[dict[str, Any]]:
        """What the fair-attention rule reads of each letter submitted since then (an indexed range)."""
        cursor = self._letters.find({"submitted_at": {"$gte": stored_time(since)}},
                                    {"prisoner_id": 1, "status": 1, "handed_over_at": 1, "answered_at": 1})
        return [read_times(doc, LETTER_TIMES) async for doc in cursor]

    async def stalled(self, status: str, before: datetime, limit: int) -> tuple[int, list[tuple[str, datetime]]]:
        """Letters whose status is `status` and has not changed since before `before`: how many, and the
        longest-waiting (letter id, since when) first. An indexed range on status and time."""
        # A received letter has had no news yet: it waits since it was submitted.
        field = "submitted_at" if status == "received" else "status_changed_at"
        query = {"status": status, field: {"$lt": stored_time(before)}}
        total = await self._letters.count_documents(query)
        cursor = self._letters.find(query, {field: 1}).sort(field, ASCENDING).limit(limit)
        return total, [(doc["_id"], read_time(doc[field])) async for doc in cursor]

    async def _prisoner_of(self, letter_id: str, facts: dict | None) -> str | None:
        if (facts or {}).get("prisoner_id"):
            return str(facts["prisoner_id"])
        letter = await self._letters.find_one({"_id": letter_id}, {"prisoner_id": 1})
        return letter.get("prisoner_id") if letter else None

    async def _add_reply(self, letter_id: str, reply_id: str, at: datetime) -> None:
        """One document per reply and letter it answers: the results count replies, not answered letters.

        It carries the letter's day, event and prisoner, so replies are counted for the same letters
        as every other figure.
        """
        letter = await self._letters.find_one({"_id": letter_id}, {"written_day": 1, "submitted_day": 1,
                                                                     "campaign_event_id": 1, "prisoner_id": 1})
        if letter is None:
            return
        doc = {"_id": f"{reply_id}:{letter_id}", "reply_id": reply_id, "letter_id": letter_id,
               "prisoner_id": letter.get("prisoner_id"), "campaign_event_id": letter.get("campaign_event_id"),
               "written_day": letter.get("written_day") or letter.get("submitted_day"), "received_at": stored_time(at)}
        try:
            await self._replies.insert_one(doc)
        except DuplicateKeyError:
            pass  # a redelivered event

    async def live_counts(self, field: str) -> dict[str, int]:
        """Letters per value of one field (campaign event, city, kiosk), counted in MongoDB."""
        pipeline = [{"$match": {field: {"$ne": None}}}, {"$group": {"_id": f"${field}", "letters": {"$sum": 1}}}]
        return {row["_id"]: row["letters"] async for row in await self._letters.aggregate(pipeline)}

    async def sealed_contact(self, letter_id: str) -> str | None:
        doc = await self._letters.find_one({"_id": letter_id}, {"contact_ciphertext": 1})
        return doc.get("contact_ciphertext") if doc else None

    async def sealed_contacts(self) -> list[tuple[str, str]]:
        cursor = self._letters.find({"contact_ciphertext": {"$ne": None}}, {"contact_ciphertext": 1})
        return [(doc["_id"], doc["contact_ciphertext"]) async for doc in cursor]

    async def reseal_contact(self, letter_id: str, old: str, new: str, lookup: str) -> bool:
        result = await self._letters.update_one(
            {"_id": letter_id, "contact_ciphertext": old}, {"$set": {"contact_ciphertext": new, "contact_lookup": lookup}}
        )
        return result.modified_count == 1

    async def erase_contact(self, letter_id: str) -> bool:
        result = await self._letters.update_one(
            {"_id": letter_id, "contact_ciphertext": {"$ne": None}},
            {"$set": {"contact_ciphertext": None, "contact_lookup": None, "contact_erased_at": stored_time(utc_now())}},
        )
        return result.modified_count == 1

    async def letters_of_contact(self, lookup: str) -> list[str]:
        return [doc["_id"] async for doc in self._letters.find({"contact_lookup": lookup}, {"_id": 1})]

    async def contacts_past_retention(self, statuses: tuple[str, ...], hold_kinds: tuple[str, ...],
                                      before: datetime) -> list[str]:
        cursor = self._letters.find(
            {"contact_ciphertext": {"$ne": None},
             "$or": [{"status": {"$in": list(statuses)}},
                     {"status": "held", "held_kind": {"$in": list(hold_kinds)}}],
             "status_changed_at": {"$lt": stored_time(before)}},
            {"_id": 1},
        )
        return [doc["_id"] async for doc in cursor]

    async def count_by_kiosk(self, kiosk_id: str) -> int:
        return await self._letters.count_documents({"kiosk_id": kiosk_id})

    async def timeline(self, letter_id: str) -> list[TimelineEntry]:
        cursor = self._timeline.find({"letter_id": letter_id}).sort("at", ASCENDING)
        return [TimelineEntry(status=doc["status"], at=read_time(doc["at"])) async for doc in cursor]

    async def _add_timeline(self, letter_id: str, status: str, at: datetime) -> bool:
        try:
            await self._timeline.insert_one({"_id": f"{letter_id}:{status}", "letter_id": letter_id, "status": status,
                                          "at": stored_time(at)})
        except DuplicateKeyError:
            return False
        return True


def _letter(doc: dict[str, Any] | None) -> Letter | None:
    if doc is None:
        return None
    return Letter.model_validate({**read_times(doc, LETTER_TIMES), "id": doc["_id"]})


# How often a prisoner's change is tried again when another change of the same prisoner came in
# between reading and writing it (two operators at once): more means something is wrong.
PRISONER_CHANGE_ATTEMPTS = 5
# Counts the changes of a prisoner's document: each change is conditional on the count it read.
PRISONER_REVISION = "revision"

Announce = Callable[[dict[str, Any]], Sequence[Any]]


class ConcurrentPrisonerChange(RuntimeError):
    """The prisoner kept changing under this change; nothing of it was written."""


class MongoPrisoners:
    def __init__(self, db: AsyncDatabase) -> None:
        self._prisoners = db["prisoners"]
        # A prisoner's change and its prisoner.updated are one write (shared/outbox.py).
        self._announced = WithEvents(self._prisoners)

    async def ensure_indexes(self) -> None:
        await self._prisoners.create_index([("letters_received", ASCENDING)])

    async def get(self, prisoner_id: str) -> dict[str, Any] | None:
        return await self._prisoners.find_one({"_id": prisoner_id})

    async def list_public(self) -> list[dict[str, Any]]:
        # In id order; the order writers see is the fair-attention one (service.py `prisoners_by_attention`).
        return [doc async for doc in self._prisoners.find({}).sort([("_id", ASCENDING)])]

    async def update(self, prisoner_id: str, fields: dict[str, Any], announce: Announce,
                     only_if: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """Set top-level `fields` and write the events `announce` makes of the prisoner as changed, in
        one write; the prisoner as stored now, or None if there is no such prisoner (or, with `only_if`,
        the prisoner as read no longer holds those values: a repair that someone else's change overtook).

        The events describe the whole prisoner, so the write is conditional on the revision read:
        a change that came in between is read again, never announced over.
        """
        for _ in range(PRISONER_CHANGE_ATTEMPTS):
            doc = await self._prisoners.find_one({"_id": prisoner_id})
            if doc is None or any(doc.get(name) != value for name, value in (only_if or {}).items()):
                return None
            seen = doc.get(PRISONER_REVISION)
            after = {**doc, **fields, PRISONER_REVISION: (seen or 0) + 1}
            where = {"_id": prisoner_id, PRISONER_REVISION: seen if seen is not None else {"$exists": False}}
            if await self._announced.update_one(where, {"$set": {**fields, PRISONER_REVISION: after[PRISONER_REVISION]}},
                                                announce(after)):
                return after
        raise ConcurrentPrisonerChange(prisoner_id)

    async def placed_at(self, facility_id: str) -> list[dict[str, Any]]:
        """The prisoners held at a facility, with the copy of it each one carries (the `facility_id` index)."""
        cursor = self._prisoners.find({"facility_id": facility_id}, {"facility": 1, "facility_id": 1})
        return [doc async for doc in cursor.sort("_id", ASCENDING)]

    async def count_letter(self, prisoner_id: str) -> None:
        await self._prisoners.update_one({"_id": prisoner_id}, {"$inc": {"letters_received": 1}})

    async def upsert(self, prisoner: dict[str, Any], announce: Announce) -> dict[str, Any]:
        """Add the prisoner or replace their record's fields, with the events `announce` makes of them."""
        fields = {k: v for k, v in prisoner.items() if k != "id"}
        for _ in range(PRISONER_CHANGE_ATTEMPTS):
            stored = await self.update(prisoner["id"], fields, announce)
            if stored is not None:
                return stored
            doc = {"_id": prisoner["id"], **fields, "letters_received": 0, PRISONER_REVISION: 1}
            try:
                await self._announced.insert_one(doc, announce(doc))
            except DuplicateKeyError:
                continue  # added meanwhile by someone else: change it as they stored it
            return doc
        raise ConcurrentPrisonerChange(prisoner["id"])

    async def is_empty(self) -> bool:
        return await self._prisoners.count_documents({}, limit=1) == 0


class MongoTokens:
    """Kiosk and staff tokens, stored only as SHA-256 hashes."""

    def __init__(self, db: AsyncDatabase) -> None:
        self._tokens = db["tokens"]
        # Intake's own copy of the staff tokens, the one shared/auth.py `StaffTokens` reads here. Intake
        # issues them, so each change is written with its signed announcement (shared/outbox.py).
        self._staff = db["staff_tokens"]
        self._staff_announced = WithEvents(self._staff)

    async def issue(self, role: str, *, subject: str, event_id: str | None = None, name: str | None = None) -> str:
        token = secrets.token_urlsafe(32)
        await self._tokens.insert_one(
            {"_id": hash_token(token), "role": role, "subject": subject, "event_id": event_id, "name": name,
             "created_at": stored_time(utc_now()), "revoked": False}
        )
        return token

    async def kiosk(self, token: str) -> dict[str, Any] | None:
        # Revoked ones too: a kiosk unpaired by staff is told so (services/intake/kiosks.py).
        doc = await self._tokens.find_one({"_id": hash_token(token), "role": "kiosk"})
        return None if doc is None else read_times(doc, TOKEN_TIMES)

    async def revoke_kiosk(self, event_id: str, kiosk_id: str) -> int:
        # Marked, never deleted: the hash stays refused, and its kiosk learns it was unpaired.
        done = await self._tokens.update_many({"role": "kiosk", "event_id": event_id, "subject": kiosk_id},
                                              {"$set": {"revoked": True}, "$min": {"revoked_at": stored_time(utc_now())}})
        return done.matched_count

    async def change_staff_token(self, change: StaffTokenChanged) -> None:
        """A staff token issued or revoked, and its announcement, in one write.

        A revocation marks the token revoked (it is never deleted: a revoked hash stays refused, here
        and wherever the announcement arrives late), so both changes touch one document.
        """
        if not change.revoked:
            await self._staff_announced.insert_one({"_id": change.token_hash, **staff_token_document(change)}, [change])
            return
        for _ in range(2):
            if await self._staff_announced.update_one({"_id": change.token_hash}, {"$set": {"revoked": True}},
                                                      [change]):
                return
            try:
                # Unknown here (issued elsewhere, or never): its revocation is kept and announced all the same.
                await self._staff_announced.insert_one({"_id": change.token_hash, **staff_token_document(change)}, [change])
            except DuplicateKeyError:
                continue  # issued meanwhile: revoke that
            return


class MongoCampaignEvents:
    def __init__(self, db: AsyncDatabase) -> None:
        self._events = db["campaign_events"]

    async def upsert(self, event: dict[str, Any]) -> None:
        await self._events.update_one({"_id": event["id"]}, {"$set": {k: v for k, v in event.items() if k != "id"}}, upsert=True)

    async def get(self, event_id: str) -> dict[str, Any] | None:
        return await self._events.find_one({"_id": event_id})

    async def insert(self, event: dict[str, Any]) -> bool:
        try:
            await self._events.insert_one({"_id": event["id"], **{k: v for k, v in event.items() if k != "id"}})
        except DuplicateKeyError:
            return False
        return True

    async def list(self) -> list[dict[str, Any]]:
        return [doc async for doc in self._events.find({}).sort("starts_on", ASCENDING)]


