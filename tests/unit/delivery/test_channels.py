"""The e-mail an intermediary receives: the bundle attached (or a link), the manifest, their personal link."""

from __future__ import annotations

import aiosmtplib
import pytest

from services.delivery.channels import compose_email, smtp_trouble
from services.delivery.config import DeliverySettings
from services.delivery.ports import Parcel

pytestmark = pytest.mark.unit


def make_parcel(**overrides) -> Parcel:
    facts = {"bundle_id": "b_1", "recipient_name": "Эльвира", "address": "relative@example.test",
             "prisoner_name_ru": "Ремзи Демо", "letters": 3, "pages": 4, "pdf": b"%PDF-1.7 bundle",
             "download_url": None, "manifest": b'{"letters": []}', "confirm_url": "https://d.test/confirm/t0k"}
    return Parcel(**{**facts, **overrides})


def test_the_email_attaches_the_bundle_and_its_manifest_and_carries_the_personal_link():
    message = compose_email(make_parcel(), "Letters <letters@example.test>")

    assert message["To"] == "relative@example.test" and message["Subject"] == "Письма для Ремзи Демо: 3"
    attachments = {part.get_filename(): part for part in message.iter_attachments()}
    assert attachments["pisma-b_1.pdf"].get_content() == b"%PDF-1.7 bundle"
    assert attachments["pisma-b_1.pdf"].get_content_type() == "application/pdf"
    assert "manifest-b_1.json" in attachments
    text = message.get_body(("plain",)).get_content()
    assert "https://d.test/confirm/t0k" in text and "Эльвира" in text and "3 письма (4 стр.)" in text


def test_a_bundle_too_large_to_attach_is_offered_as_a_link_instead():
    message = compose_email(make_parcel(pdf=None, download_url="https://s3.test/b?X-Amz-Expires=604800"), "l@x.test")
    names = [part.get_filename() for part in message.iter_attachments()]
    assert names == ["manifest-b_1.json"]
    assert "https://s3.test/b?X-Amz-Expires=604800" in message.get_body(("plain",)).get_content()


@pytest.mark.parametrize(("error", "reason"), [
    (aiosmtplib.SMTPConnectError("Error connecting to 127.0.0.1 on port 2525: [Errno 111]"),
     "could not reach the mail server mail.test:2525"),
    (ConnectionRefusedError(111, "Connection refused"), "could not reach the mail server mail.test:2525"),
    (aiosmtplib.SMTPTimeoutError("Timed out"), "the mail server mail.test:2525 did not answer in time"),
    (TimeoutError(), "the mail server mail.test:2525 did not answer in time"),
    (aiosmtplib.SMTPAuthenticationError(535, "5.7.8 bad credentials"),
     "the mail server mail.test:2525 refused our sign-in (535)"),
    (aiosmtplib.SMTPDataError(552, "message too big"), "the mail server mail.test:2525 answered 552: message too big"),
    (aiosmtplib.SMTPException("odd"), "the mail server mail.test:2525 could not take the message"),
])
def test_a_failed_send_is_explained_in_an_operators_words(error, reason):
    # Operators read this on the monitor; exception class names belong in the log only.
    assert smtp_trouble(error, DeliverySettings(smtp_host="mail.test", smtp_port=2525)) == reason
