"""The e-mail channel against a real SMTP server on loopback: sent, refused for good, or worth a retry."""

from __future__ import annotations

import pytest

from services.delivery.channels import EmailChannel
from services.delivery.config import DeliverySettings
from services.delivery.ports import ChannelError, Parcel
from tests.integration.delivery.support import Mailbox

pytestmark = pytest.mark.integration

PARCEL = Parcel(bundle_id="b_1", recipient_name="Эльвира", address="relative@example.test",
                prisoner_name_ru="Ремзи Демо", letters=1, pages=2, pdf=b"%PDF-1.7 bundle", download_url=None,
                manifest=b"{}", confirm_url="https://d.test/confirm/t0k")


@pytest.fixture
def mailbox():
    box = Mailbox().start()
    yield box
    box.stop()


def channel(port: int) -> EmailChannel:
    return EmailChannel(DeliverySettings(smtp_port=port, smtp_timeout_s=5))


async def test_a_bundle_is_delivered_to_the_intermediarys_mailbox(mailbox):
    await channel(mailbox.port).send(PARCEL)
    (message,) = mailbox.to("relative@example.test")
    assert [p.get_filename() for p in message.iter_attachments()] == ["pisma-b_1.pdf", "manifest-b_1.json"]


async def test_an_address_the_server_refuses_is_a_permanent_failure(mailbox):
    mailbox.refused.add("relative@example.test")
    with pytest.raises(ChannelError) as refused:
        await channel(mailbox.port).send(PARCEL)
    assert refused.value.permanent and "550" in refused.value.reason


async def test_a_server_that_does_not_answer_is_worth_a_retry(mailbox):
    mailbox.stop()
    with pytest.raises(ChannelError) as down:
        await channel(mailbox.port).send(PARCEL)
    assert not down.value.permanent
    # Operators read this on the monitor: the server and what happened, not an exception's class name.
    assert down.value.reason == f"SMTP: could not reach the mail server 127.0.0.1:{mailbox.port}"
