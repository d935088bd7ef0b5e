"""Helpers for delivery's process tests: a real SMTP server on loopback, own namespaces, staff tokens."""

from __future__ import annotations

import hashlib
import io
import json
import re
import secrets
import signal
import subprocess
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import httpx
from aiosmtpd.controller import Controller
from fpdf import FPDF
from pypdf import PdfReader

from deploy.local import ManagedProcess, free_port, service_env, service_process, wait_ready
from shared.auth import hash_token
from shared.broker import letters_exchange, make_broker
from shared.events import LetterReady, StaffTokenChanged, utc_now
from shared.mongo import make_client
from shared.s3 import ObjectStore
from shared.signing import DEV_STAFF_EVENTS_PRIVATE_KEY, EventSigner
from tests.infra import remove_namespace
from tests.support import eventually, squash

CONFIRM_LINK = re.compile(r"https?://\S+/confirm/[\w\-]+")


class Mailbox:
    """aiosmtpd on 127.0.0.1: keeps what it receives; can refuse addresses; can be stopped and started."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self.refused: set[str] = set()
        self._controller: Controller | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"

    def start(self) -> Mailbox:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


@dataclass
class Bundle:
    """What an e-mail brought: the PDF, the manifest, the confirmation link."""

    pdf: bytes | None
    manifest: dict
    confirm_url: str
    text: str

    @property
    def pages(self) -> int:
        return len(PdfReader(io.BytesIO(self.pdf)).pages)

    def page_text(self, number: int) -> str:
        return squash(PdfReader(io.BytesIO(self.pdf)).pages[number - 1].extract_text() or "")


def read_bundle(message: EmailMessage) -> Bundle:
    pdf, manifest = None, {}
    for part in message.iter_attachments():
        if part.get_content_type() == "application/pdf":
            pdf = part.get_content()
        elif part.get_filename("").endswith(".json"):
            content = part.get_content()
            manifest = json.loads(content if isinstance(content, (str, bytes)) else bytes(content))
    text = message.get_body(("plain",)).get_content()
    link = CONFIRM_LINK.search(text)
    return Bundle(pdf, manifest, link.group(0) if link else "", text)


@dataclass
class OwnNamespace:
    """Exchanges and queues of this test module alone, removed afterwards."""

    amqp_url: str
    name: str

    async def remove(self) -> None:
        await remove_namespace(self.amqp_url, self.name)


def stop_all(processes: list[ManagedProcess], timeout: float = 30.0) -> list[int | None]:
    """SIGTERM to all at once, then wait for each: services stop in parallel, each cleanly."""
    for process in processes:
        if process.running:
            process.process.send_signal(signal.SIGTERM)
    codes = []
    for process in processes:
        try:
            codes.append(process.process.wait(timeout) if process.process else None)
        except subprocess.TimeoutExpired:
            process.kill()
            codes.append(None)
    return codes


def start_services(names: tuple[str, ...], env: dict[str, str], log_dir: Path,
                   ports: dict[str, int] | None = None) -> dict[str, tuple[str, ManagedProcess]]:
    """Start services as processes and wait until each is ready; `ports` fixes some ports in advance."""
    running: dict[str, tuple[str, ManagedProcess]] = {}
    for name in names:
        port = (ports or {}).get(name) or free_port()
        process = service_process(name, service_env(name, env, port), log_dir).start()
        running[name] = (f"http://127.0.0.1:{port}", process)
    try:
        for url, _ in running.values():
            wait_ready(url, timeout=90)
    except TimeoutError:
        for name in running:
            print(f"--- {name} log ---\n" + (log_dir / f"{name}.log").read_text(errors="replace")[-3000:])
        for _, process in running.values():
            process.kill()
        raise
    return running


async def announce_staff_token(amqp_url: str, namespace: str, role: str, subject: str) -> str:
    """Issue a staff token the way intake does: only its hash travels, on `staff.token_changed`,
    signed with (here) the development key."""
    token = secrets.token_urlsafe(32)
    change = EventSigner(DEV_STAFF_EVENTS_PRIVATE_KEY).sign(StaffTokenChanged(
        token_hash=hash_token(token), subject=subject, role=role, expires_at=utc_now() + timedelta(days=1)))
    await publish(amqp_url, namespace, change.routing_key, change.model_dump(mode="json"))
    return token


async def publish(amqp_url: str, namespace: str, routing_key: str, body: dict) -> None:
    broker = make_broker(amqp_url)
    await broker.connect()
    try:
        await broker.publish(body, exchange=letters_exchange(namespace), routing_key=routing_key,
                             message_type=routing_key, persist=True)
    finally:
        await broker.stop()


@dataclass
class RunningPipeline:
    """Intake, sorting and delivery in a namespace of their own, with clients and the demo's staff headers."""

    intake: httpx.AsyncClient
    delivery: httpx.AsyncClient
    delivery_url: str
    mailbox: Mailbox
    admin: dict[str, str]
    operator: dict[str, str]
    namespace: str


@asynccontextmanager
async def own_pipeline(infra, suffix: str, log_name: str, env: dict[str, str], *,
                       writer_notices: bool = False) -> AsyncIterator[RunningPipeline]:
    """The three services as processes for one module's tests, delivery sending to a loopback mailbox
    (and intake's notices to writers too, with `writer_notices`); `env` adds the module's settings.
    Everything is stopped and removed afterwards."""
    namespace = OwnNamespace(infra.amqp_url, f"{infra.namespace}{suffix}")
    mailbox = Mailbox().start()
    log_dir = infra.log_dir / log_name
    log_dir.mkdir(exist_ok=True)
    ports = {"delivery": free_port()}
    services = start_services(("intake", "sorting", "delivery"), {
        **infra.env(), "NAMESPACE": namespace.name, "S3_BUCKET": f"letters-{namespace.name}",
        "DEMO_CAMPAIGN": "true", "DEMO_TOKENS_FILE": str(log_dir / "demo-tokens.txt"), "LOG_LEVEL": "INFO",
        "INTAKE_SUBMIT_RATE_LIMIT": "100000/minute", "INTAKE_CHECK_RATE_LIMIT": "100000/minute",
        "DELIVERY_SMTP_HOST": "127.0.0.1", "DELIVERY_SMTP_PORT": str(mailbox.port),
        "DELIVERY_PUBLIC_URL": f"http://127.0.0.1:{ports['delivery']}",
        **({"INTAKE_SMTP_HOST": "127.0.0.1", "INTAKE_SMTP_PORT": str(mailbox.port)} if writer_notices else {}),
        **env,
    }, log_dir, ports)
    tokens = dict(line.rsplit(": ", 1) for line in (log_dir / "demo-tokens.txt").read_text().splitlines())
    admin = {"Authorization": f"Bearer {tokens['staff token (admin)']}"}
    operator = {"Authorization": f"Bearer {tokens['staff token (operator)']}"}
    intake = httpx.AsyncClient(base_url=services["intake"][0], timeout=30)
    delivery = httpx.AsyncClient(base_url=services["delivery"][0], timeout=30)

    async def operator_known() -> bool:
        return (await delivery.get("/api/v1/monitor", headers=operator)).status_code == 200

    try:
        await eventually(operator_known, 30, "delivery to learn the operator's token")
        yield RunningPipeline(intake, delivery, services["delivery"][0], mailbox, admin, operator, namespace.name)
    finally:
        await intake.aclose()
        await delivery.aclose()
        stop_all([process for _, process in services.values()])
        mailbox.stop()
        await namespace.remove()
        mongo = make_client(infra.mongodb_url)
        for service in ("intake", "sorting", "delivery"):
            await mongo.drop_database(f"{namespace.name}-{service}")
        await mongo.close()


FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def scan(text: str) -> bytes:
    pdf = FPDF(format="A4")
    pdf.add_font("letter", fname=FONT)
    pdf.add_page()
    pdf.set_font("letter", size=12)
    pdf.multi_cell(0, 7, text)
    return bytes(pdf.output())


class Running:
    """Delivery alone as a process: its URL, namespace, object store, mailbox and an operator's headers."""

    def __init__(self, url: str, namespace: str, amqp_url: str, store: ObjectStore, mailbox: Mailbox) -> None:
        self.url, self.namespace, self.amqp_url, self.store, self.mailbox = url, namespace, amqp_url, store, mailbox
        self.headers: dict[str, str] = {}

    async def letter_ready(self, prisoner_id: str, text: str) -> str:
        letter_id = f"l_{uuid.uuid4().hex[:12]}"
        data = scan(text)
        key = f"scans/{uuid.uuid4().hex}.pdf"
        await self.store.put(key, data, "application/pdf")
        event = LetterReady.for_letter(letter_id, prisoner_id=prisoner_id, scan_key=key,
                                       scan_sha256=hashlib.sha256(data).hexdigest(), scan_bytes=len(data), pages=1)
        await publish(self.amqp_url, self.namespace, event.routing_key, event.model_dump(mode="json"))
        return letter_id


@asynccontextmanager
async def delivery_alone(infra, suffix: str, log_name: str, env: dict[str, str]) -> AsyncIterator[Running]:
    """Delivery as a process in a namespace of its own for one module's tests, e-mailing a loopback
    mailbox, with an operator's token announced; `env` adds the module's settings. Stopped (cleanly,
    on SIGTERM) and removed afterwards."""
    namespace = OwnNamespace(infra.amqp_url, f"{infra.namespace}{suffix}")
    mailbox = Mailbox().start()
    log_dir = infra.log_dir / log_name
    log_dir.mkdir(exist_ok=True)
    url, process = start_services(("delivery",), {
        **infra.env(), "NAMESPACE": namespace.name, "S3_BUCKET": f"letters-{namespace.name}",
        "DELIVERY_SMTP_PORT": str(mailbox.port), **env,
    }, log_dir)["delivery"]
    store = ObjectStore(infra.s3_endpoint_url, infra.s3_access_key_id, infra.s3_secret_access_key, "us-east-1",
                        f"letters-{namespace.name}")
    running = Running(url, namespace.name, infra.amqp_url, store, mailbox)
    token = await announce_staff_token(infra.amqp_url, namespace.name, "operator", "test.operator")
    running.headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, timeout=30, headers=running.headers) as api:
        async def token_known() -> bool:
            return (await api.get("/api/v1/prisoners")).status_code == 200

        await eventually(token_known, 20, "the operator's token to arrive")
    try:
        yield running
    finally:
        assert process.terminate() == 0, "delivery did not stop cleanly on SIGTERM"
        mailbox.stop()
        await namespace.remove()
        mongo = make_client(infra.mongodb_url)
        await mongo.drop_database(f"{namespace.name}-delivery")
        await mongo.close()
