"""A writer's contact data: used only for the notices they consented to, erased on request or in time.

Every read of a sealed address and every erasure goes into the audit log (who, what, when),
never the address itself.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

import aiosmtplib
import yaml
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from services.intake.contact import ContactSealer
from shared.audit import AuditLog
from shared.emails import Email, email_templates, render_email
from shared.events import utc_now
from shared.mongo import stored_time, upgrade_times

log = logging.getLogger("intake.privacy")

# Statuses after which nothing more will be said to the writer, so their address has no use.
FINAL_STATUSES = ("handed_over", "answered", "returned", "blocked", "rejected", "withdrawn")
# A held letter is usually waiting (for a route, a release); an archived one an operator decided will
# never be sent, so it is as final as a rejection.
FINAL_HOLD_KINDS = ("archived",)

# The name of a sent notice's time in the schema before dates (epoch seconds), converted at start.
NOTICE_EPOCHS = {"at_epoch": "at"}

# The notices' words (templates/i18n) and their layout (templates/email), found beside this file.
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
EMAILS = email_templates(TEMPLATES_DIR / "email")
# A notice goes in all of these, Ukrainian first: a letter does not record which its writer reads.
NOTICE_LANGUAGES = ("uk", "en")
NOTICES: dict[str, dict[str, dict[str, str]]] = {
    language: yaml.safe_load((TEMPLATES_DIR / "i18n" / f"{language}.yaml").read_text(encoding="utf-8"))["notices"]
    for language in NOTICE_LANGUAGES
}
# The statuses a writer is told of by e-mail: those every language has words for.
NOTICE_STATUSES = frozenset.intersection(*(frozenset(notices) for notices in NOTICES.values()))


def compose_notice(status: str) -> Email:
    return render_email(EMAILS, "notice.txt", notices=[NOTICES[language][status] for language in NOTICE_LANGUAGES])


class Mailer(Protocol):
    async def send(self, to: str, subject: str, text: str) -> None: ...


class SmtpMailer:
    def __init__(self, host: str, port: int, sender: str) -> None:
        self._host, self._port, self._sender = host, port, sender

    async def send(self, to: str, subject: str, text: str) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self._sender, to, subject
        message.set_content(text)
        await aiosmtplib.send(message, hostname=self._host, port=self._port, timeout=15)


class WriterNotices:
    def __init__(self, letters, sealer: ContactSealer, mailer: Mailer | None, sent: AsyncCollection,
                 audit: AuditLog) -> None:
        self._letters, self._sealer, self._mailer = letters, sealer, mailer
        self._sent, self._audit = sent, audit

    async def ensure_indexes(self) -> None:
        await upgrade_times(self._sent, NOTICE_EPOCHS)

    async def __call__(self, letter_id: str, status: str) -> None:
        """Send one notice per letter and status, and only to a writer who consented."""
        if self._mailer is None or status not in NOTICE_STATUSES:
            return
        sealed = await self._letters.sealed_contact(letter_id)
        if not sealed:
            return
        try:
            await self._sent.insert_one({"_id": f"{letter_id}:{status}", "at": stored_time(utc_now())})
        except DuplicateKeyError:
            return
        await self._audit.record("intake.notices", "read contact for notice", letter_id, status=status)
        notice = compose_notice(status)
        try:
            await self._mailer.send(self._sealer.open(sealed, letter_id), notice.subject, notice.text)
        except Exception:
            # Let the message be retried: forget that we sent it.
            await self._sent.delete_one({"_id": f"{letter_id}:{status}"})
            raise


async def erase_contact(letter_id: str, actor: str, letters, audit: AuditLog) -> bool:
    erased = await letters.erase_contact(letter_id)
    if erased:
        await audit.record(actor, "erased contact", letter_id)
    return erased


async def erase_contacts_past_retention(letters, audit: AuditLog, retention_days: float) -> int:
    before = utc_now() - timedelta(days=retention_days)
    erased = 0
    for letter_id in await letters.contacts_past_retention(FINAL_STATUSES, FINAL_HOLD_KINDS, before):
        erased += await erase_contact(letter_id, "intake.retention", letters, audit)
    return erased


# How often writers' contact data past its retention is looked for: hourly is soon enough for days.
RETENTION_PASS_S = 3600.0


async def retention_pass(letters, audit: AuditLog, retention_days: float) -> None:
    erased = await erase_contacts_past_retention(letters, audit, retention_days)
    if erased:
        log.info("contact data erased after retention period", extra={"letters": erased})


async def reseal_contacts(letters, sealer: ContactSealer, audit: AuditLog) -> int:
    """After a key rotation: seal every stored address with the newest key."""
    resealed = 0
    for letter_id, stored in await letters.sealed_contacts():
        if sealer.is_current(stored):
            continue
        address = sealer.open(stored, letter_id)
        resealed += await letters.reseal_contact(letter_id, stored, sealer.seal(address, letter_id),
                                                 sealer.lookup(address))
    if resealed:
        await audit.record("intake.keys", "re-sealed contacts with the newest key", "letters", count=resealed)
    return resealed
