"""On a real RabbitMQ: each service's own user may declare the topology, consume and publish its
own events, and publish nothing else; only intake's user can announce a staff-token change.

Needs the machine's own broker and its `rabbitmqctl` (the users are made and removed with it);
skipped where the broker is a container or a remote URL.
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
import subprocess
from urllib.parse import urlsplit

import aio_pika
import aiormq
import pytest

from deploy.broker_users import rabbitmqctl_commands
from shared.broker import declare_topology, make_broker
from shared.topology import system_queues
from tests.infra import remove_namespace

pytestmark = [pytest.mark.integration]


def rabbitmqctl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["rabbitmqctl", *args], check=False, capture_output=True, text=True, timeout=60)


@pytest.fixture
def broker_users(infra):
    url = urlsplit(infra.amqp_url.split(",")[0])
    if not shutil.which("rabbitmqctl") or url.hostname not in ("127.0.0.1", "localhost") \
            or rabbitmqctl("list_users").returncode != 0:
        pytest.skip("needs the machine's own RabbitMQ and rabbitmqctl")
    namespace = f"{infra.namespace}u"
    prefix = f"{namespace}-"
    # Hex: a URL-safe token may start with "-", which rabbitmqctl reads as an option.
    passwords = {service: secrets.token_hex(16) for service in ("intake", "sorting", "delivery")}
    for command in rabbitmqctl_commands(passwords, namespace, user_prefix=prefix):
        done = rabbitmqctl(*command)
        assert done.returncode == 0, done.stderr
    urls = {service: f"amqp://{prefix}{service}:{password}@{url.hostname}:{url.port or 5672}/"
            for service, password in passwords.items()}
    yield namespace, urls
    for service in passwords:
        rabbitmqctl("delete_user", f"{prefix}{service}")
    asyncio.run(remove_namespace(infra.amqp_url, namespace))


async def publish(url: str, exchange: str, routing_key: str) -> None:
    """Publish with confirms; a refused publish closes the channel and raises."""
    connection = await aio_pika.connect(url, timeout=10)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        target = await channel.get_exchange(exchange, ensure=False)
        await target.publish(aio_pika.Message(b"{}", content_type="application/json"), routing_key=routing_key,
                             timeout=10)


async def consume_one(url: str, queue: str) -> None:
    connection = await aio_pika.connect(url, timeout=10)
    async with connection:
        channel = await connection.channel()
        found = await channel.get_queue(queue, ensure=False)
        await found.get(no_ack=False, fail=False)


async def test_each_service_user_may_do_its_own_work_and_only_that(broker_users):
    namespace, urls = broker_users
    letters = f"{namespace}.letters"
    # Every service declares the whole topology at start: each user can.
    for url in urls.values():
        broker = make_broker(url)
        await broker.connect()
        try:
            await declare_topology(broker, system_queues(namespace))
        finally:
            await broker.stop()
    await publish(urls["intake"], letters, "staff.token_changed")
    await publish(urls["sorting"], letters, "letter.ready")
    await publish(urls["delivery"], letters, "letter.queued")
    await consume_one(urls["sorting"], f"{namespace}.sorting.staff-tokens")
    await consume_one(urls["delivery"], f"{namespace}.delivery.staff-tokens")

    for service in ("sorting", "delivery"):
        with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
            await publish(urls[service], letters, "staff.token_changed")
    with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
        await publish(urls["sorting"], letters, "letter.received")  # intake's event
    with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
        await publish(urls["sorting"], "", f"{namespace}.delivery.staff-tokens")  # around the exchange
