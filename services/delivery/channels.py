"""The ways a bundle reaches an intermediary, behind one interface (`ports.DeliveryChannel`)."""

from __future__ import annotations

import logging
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import aiosmtplib

from services.delivery.config import DeliverySettings
from services.delivery.ports import ChannelError, Parcel
from shared.emails import email_templates, render_email

log = logging.getLogger("delivery.channels")

# The e-mails' words are in their templates (templates/email), found beside this file from any directory.
EMAILS = email_templates(Path(__file__).resolve().parent / "templates" / "email")
# Intermediaries in Crimea read Russian; the confirmation page behind the link offers Ukrainian too.
EMAIL_LANGUAGE = "ru"


class EmailChannel:
    """E-mail over SMTP: the bundle attached, or a time-limited link when it is too large to attach."""

    name = "email"
    automatic = True

    def __init__(self, settings: DeliverySettings) -> None:
        self._settings = settings

    async def send(self, parcel: Parcel) -> None:
        settings = self._settings
        try:
            await aiosmtplib.send(
                compose_email(parcel, settings.smtp_from),
                hostname=settings.smtp_host,
                port=settings.smtp_port,
                username=settings.smtp_username or None,
                password=settings.smtp_password.get_secret_value() or None,
                use_tls=settings.smtp_security == "tls",
                start_tls=settings.smtp_security == "starttls",
                timeout=settings.smtp_timeout_s,
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            codes = [refusal.code for refusal in error.recipients]
            # 5xx: the server will never take this address; 4xx: try again later.
            raise ChannelError(f"recipient refused ({', '.join(map(str, codes))})",
                               permanent=all(code >= 500 for code in codes)) from error
        except (TimeoutError, aiosmtplib.SMTPException, OSError) as error:
            log.warning("e-mail not sent", extra={"bundle_id": parcel.bundle_id, "error": repr(error)})
            raise ChannelError(f"SMTP: {smtp_trouble(error, settings)}") from error


def smtp_trouble(error: BaseException, settings: DeliverySettings) -> str:
    """What went wrong, in an operator's words: the monitor shows it, so no exception class names."""
    server = f"{settings.smtp_host}:{settings.smtp_port}"
    if isinstance(error, (TimeoutError, aiosmtplib.SMTPTimeoutError)):
        return f"the mail server {server} did not answer in time"
    if isinstance(error, aiosmtplib.SMTPAuthenticationError):
        return f"the mail server {server} refused our sign-in ({error.code})"
    if isinstance(error, aiosmtplib.SMTPConnectError | aiosmtplib.SMTPServerDisconnected | OSError):
        return f"could not reach the mail server {server}"
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return f"the mail server {server} answered {error.code}: {error.message[:200]}"
    return f"the mail server {server} could not take the message"


class ManualChannel:
    """An operator downloads the bundle (a link valid for minutes) and hands it on, e.g. by messenger.

    Nothing is transmitted here: the operator's "sent" is the hand-off, recorded with who did it.
    """

    name = "manual"
    automatic = False

    async def send(self, parcel: Parcel) -> None:
        log.info("bundle handed off by an operator", extra={"bundle_id": parcel.bundle_id})


def compose_email(parcel: Parcel, sender: str) -> EmailMessage:
    """The intermediary's e-mail: the bundle attached (or its link), the manifest, their personal link."""
    email = render_email(
        EMAILS, f"bundle.{EMAIL_LANGUAGE}.txt", lang=EMAIL_LANGUAGE, recipient=parcel.recipient_name,
        prisoner=parcel.prisoner_name_ru, letters=parcel.letters, pages=parcel.pages,
        attached=parcel.pdf is not None, download_url=parcel.download_url, confirm_url=parcel.confirm_url)
    message = EmailMessage()
    message["From"] = sender
    message["To"] = parcel.address
    message["Subject"] = email.subject
    message["Message-ID"] = make_msgid(domain="letters.invalid")
    message.set_content(email.text)
    if parcel.pdf is not None:
        message.add_attachment(parcel.pdf, maintype="application", subtype="pdf",
                               filename=f"pisma-{parcel.bundle_id}.pdf")
    message.add_attachment(parcel.manifest, maintype="application", subtype="json",
                           filename=f"manifest-{parcel.bundle_id}.json")
    return message
