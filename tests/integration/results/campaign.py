"""A campaign for the results tests: its own intake process, seeded through the real APIs.

Intake runs alone under its own namespace (`<session namespace>r`), so no sorting or delivery
moves its letters: the progress events published here are the only ones. Every letter is also
written down in a `Ledger`, from which the tests count what the results must show.
"""

from __future__ import annotations

import asyncio
import io
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import aio_pika
import httpx
from PIL import Image

from deploy.local import free_port, service_env, service_process, wait_ready
from shared.events import (
    LetterAnswered,
    LetterDeliveryUpdated,
    LetterReady,
    LetterRejected,
    LetterReviewNeeded,
)
from shared.mongo import make_client
from tests.infra import remove_namespace
from tests.support import eventually

PRIVATE_NOTE = "PRIVATE-NOTE: lawyer visits on Tuesdays"
WRITER_NAME = "Zoryslava-Unique"
WRITER_EMAIL = "zoryslava.unique@example.org"
QUIET_PRISONER = "p_res_quiet"
KIND_BODY = "Здравствуйте! У нас выпал первый снег. Желаю вам здоровья и сил."
FLAGGED_BODY = "Слава Украине! Держитесь, мы с вами."


@dataclass
class RunningIntake:
    url: str
    namespace: str
    env: dict[str, str]
    tokens_file: Path

    def token(self, prefix: str) -> str:
        for line in self.tokens_file.read_text().splitlines():
            if line.startswith(prefix):
                return line.rsplit(": ", 1)[1]
        raise KeyError(prefix)


@asynccontextmanager
async def results_intake(infra, name: str = "r") -> AsyncIterator[RunningIntake]:
    """Intake alone, with the demo campaign, under its own namespace; removed afterwards."""
    namespace = f"{infra.namespace}{name}"
    log_dir = infra.log_dir / f"results-{name}"
    log_dir.mkdir(parents=True, exist_ok=True)
    tokens_file = log_dir / "demo-tokens.txt"
    env = {**infra.env(), "NAMESPACE": namespace, "S3_BUCKET": f"letters-{namespace}", "DEMO_CAMPAIGN": "true",
           "DEMO_TOKENS_FILE": str(tokens_file), "LOG_LEVEL": "INFO",
           "INTAKE_SUBMIT_RATE_LIMIT": "100000/minute", "INTAKE_CHECK_RATE_LIMIT": "100000/minute",
           "STAFF_SIGN_IN_LIMIT": "100000/minute"}
    port = free_port()
    process = service_process("intake", service_env("intake", env, port), log_dir).start()
    url = f"http://127.0.0.1:{port}"
    try:
        await asyncio.to_thread(wait_ready, url)
        yield RunningIntake(url, namespace, env, tokens_file)
    finally:
        process.terminate()
        await _remove(infra, namespace)


async def _remove(infra, namespace: str) -> None:
    with suppress(Exception):
        await remove_namespace(infra.amqp_url, namespace)
    client = make_client(infra.mongodb_url)
    with suppress(Exception):
        await client.drop_database(f"{namespace}-intake")
    await client.close()


@dataclass
class Written:
    """One letter as the test sent it, and what happened to it afterwards."""

    id: str
    prisoner_id: str
    channel: str  # web, kiosk or paper (as the results count it)
    event_id: str | None
    city: str | None
    country: str | None
    verdict: str
    submitted_at: datetime | None = None
    categories: list[str] = field(default_factory=list)
    moderation: str | None = None
    final: str = "received"
    reason: str | None = None
    delay_days: float | None = None


@dataclass
class Ledger:
    letters: list[Written] = field(default_factory=list)
    events: dict[str, dict] = field(default_factory=dict)

    def by(self, attribute: str) -> dict:
        counts: dict = {}
        for letter in self.letters:
            key = getattr(letter, attribute)
            counts[key] = counts.get(key, 0) + 1
        return counts


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def page_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (60, 80), "white").save(out, "PNG")
    return out.getvalue()


EVENTS = [
    {"id": "e_r_lviv", "name": "Letters evening", "city": "Lviv", "country": "UA", "starts_on": "2026-03-01"},
    {"id": "e_r_berlin", "name": "Briefe nach Krim", "city": "Berlin", "country": "DE", "starts_on": "2026-04-01"},
    {"id": "e_r_prague", "name": "Dopisy", "city": "Praha", "country": "CZ", "starts_on": "2026-05-01"},
    {"id": "e_r_warsaw", "name": "Listy", "city": "Warszawa", "country": "PL", "starts_on": "2026-06-01"},
]
DEMO_EVENT = "e_demo_kyiv_book_fair"
# (channel, event, paper, city, country, prisoner, how many)
PLAN = [
    ("web", None, False, "Kyiv", "UA", "p_demo_01", 6),
    ("web", None, False, "kyiv ", "UA", "p_demo_02", 2),  # another spelling of Kyiv
    ("web", None, False, "Lviv", "UA", "p_demo_03", 5),
    ("web", None, False, "Odesa", "UA", "p_demo_02", 2),  # a small city: not public
    ("web", None, True, "Kyiv", "UA", "p_demo_01", 2),
    ("web", None, False, None, None, "p_demo_03", 1),
    ("web", None, False, "Kyiv", "UA", "p_demo_04", 1),  # released prisoner
    ("kiosk", DEMO_EVENT, False, "Kyiv", "UA", "p_demo_01", 2),
    ("kiosk", DEMO_EVENT, False, "Kyiv", "UA", "p_demo_02", 2),
    ("kiosk", DEMO_EVENT, True, "Kyiv", "UA", "p_demo_03", 2),
    ("kiosk", "e_r_lviv", False, "Lviv", "UA", "p_demo_03", 5),
    ("kiosk", "e_r_berlin", False, "Berlin", "DE", "p_demo_01", 5),
    ("kiosk", "e_r_prague", False, "Praha", "CZ", "p_demo_02", 3),  # a small event: "<5" in public
    ("kiosk", "e_r_warsaw", False, "Warszawa", "PL", "p_demo_03", 2),
]


async def seed_campaign(intake: RunningIntake, amqp_url: str) -> Ledger:
    """Events, kiosks, a quiet prisoner and letters through the API; then their progress through the broker."""
    ledger = Ledger()
    admin = bearer(intake.token("staff token (admin)"))
    async with httpx.AsyncClient(base_url=intake.url, timeout=30) as http:
        kiosks = {DEMO_EVENT: intake.token("kiosk token for k_demo_01")}
        for event in EVENTS:
            event = {**event, "ends_on": event["starts_on"]}
            assert (await http.post("/api/v1/events", json=event, headers=admin)).status_code == 201
            made = await http.post(f"/api/v1/events/{event['id']}/kiosks",
                                   json={"kiosk_id": f"k_{event['id']}", "name": "Stand"}, headers=admin)
            kiosks[event["id"]] = made.json()["token"]
            ledger.events[event["id"]] = event
        ledger.events[DEMO_EVENT] = {"id": DEMO_EVENT, "city": "Kyiv", "country": "UA"}
        quiet = {"id": QUIET_PRISONER, "names": {"uk": "Тихий Приклад", "ru": "Тихий Пример", "en": "Quiet Example"},
                 "notes": PRIVATE_NOTE, "birthday": _birthday_in(days=5)}
        assert (await http.post("/api/v1/prisoners", json=quiet, headers=admin)).status_code == 201
        number = 0
        for channel, event_id, paper, city, country, prisoner, count in PLAN:
            for _ in range(count):
                number += 1
                flagged = number % 4 == 0 and not paper
                ledger.letters.append(await _write(http, kiosks, channel, event_id, paper, city, country, prisoner,
                                                   flagged, number))
        await _submitted_times(http, admin, ledger)
    await _progress(intake, amqp_url, ledger)
    return ledger


def _birthday_in(days: int) -> str:
    coming = datetime.now(UTC).date() + timedelta(days=days)
    return date(1980, coming.month, min(coming.day, 28)).isoformat()


async def _write(http, kiosks, channel, event_id, paper, city, country, prisoner, flagged, number) -> Written:
    author = {"display_name": WRITER_NAME if number == 1 else f"Writer {number}", "city": city, "country": country}
    if number == 1:
        author |= {"email": WRITER_EMAIL, "contact_consent": True}
    letter = {"prisoner_id": prisoner, "client_ref": str(uuid.uuid4()), "author": author,
              "body": "" if paper else (FLAGGED_BODY if flagged else KIND_BODY), "source": {"channel": channel}}
    headers = bearer(kiosks[event_id]) if channel == "kiosk" else {}
    if paper:
        answer = await http.post("/api/v1/letters", data={"letter": json.dumps(letter)}, headers=headers,
                                 files=[("pages", ("page.png", page_png(), "image/png"))])
    else:
        answer = await http.post("/api/v1/letters", json=letter, headers=headers)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    categories = sorted({f["category"] for f in body["findings"]}) or (["handwritten"] if paper else [])
    return Written(id=body["id"], prisoner_id=prisoner, channel="paper" if paper else channel, event_id=event_id,
                   city=city, country=country, verdict=body["verdict"], categories=categories)


async def _submitted_times(http, admin, ledger: Ledger) -> None:
    for letter in ledger.letters:
        status = (await http.get(f"/api/v1/letters/{letter.id}", headers=admin)).json()
        letter.submitted_at = datetime.fromisoformat(status["timeline"][0]["at"])


async def _progress(intake: RunningIntake, amqp_url: str, ledger: Ledger) -> None:
    """Moderation first, then delivery, then hand-over and replies: each wave lands before the next."""
    plan = _outcomes(ledger)
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(f"{intake.namespace}.letters")
        for wave in plan:
            for event in wave:
                await exchange.publish(
                    aio_pika.Message(json.dumps(event.model_dump(mode="json")).encode(), type=event.routing_key,
                                     content_type="application/json", message_id=str(event.event_id)),
                    routing_key=event.routing_key)
            await _landed(intake, wave)


def _outcomes(ledger: Ledger) -> list[list]:
    """Decide each letter's fate (kept in the ledger) and the events that tell intake about it."""
    review, moderation, delivery, ends, replies = [], [], [], [], []
    for number, letter in enumerate(ledger.letters):
        facts = {"prisoner_id": letter.prisoner_id}
        if number in (3, 17, 30):
            continue  # still "received": nothing reported yet
        if letter.categories:
            review.append(LetterReviewNeeded.for_letter(letter.id, categories=letter.categories, **facts))
            letter.final = "review_needed"
            if number == 7:
                continue  # awaiting a moderator
            if number in (11, 23):
                moderation.append(LetterRejected.for_letter(letter.id, reason="slogans", **facts))
                letter.final = "rejected"
                continue
        letter.moderation = ("redacted" if number % 3 == 0 else "approved") if letter.categories else "auto"
        moderation.append(LetterReady.for_letter(letter.id, scan_key=f"scans/{letter.id}.pdf", scan_sha256="0" * 64,
                                                 scan_bytes=1000, pages=1, moderation=letter.moderation, **facts))
        letter.final = "ready"
        if number in (5, 25):
            continue  # approved, waiting to be sent
        if number == 9:
            delivery.append(LetterDeliveryUpdated.for_state(letter.id, "held", reason="prisoner released", **facts))
            letter.final, letter.reason = "held", "prisoner released"
            continue
        delivery.append(LetterDeliveryUpdated.for_state(letter.id, "sent", **facts))
        letter.final = "sent"
        if number in (12, 27):
            ends.append(LetterDeliveryUpdated.for_state(letter.id, "blocked", reason="censor: content", **facts))
            letter.final, letter.reason = "blocked", "censor: content"
        elif number == 20:
            ends.append(LetterDeliveryUpdated.for_state(letter.id, "returned", reason="addressee moved", **facts))
            letter.final, letter.reason = "returned", "addressee moved"
        elif number % 5 != 1:
            letter.delay_days = 2.0 + (number % 7) * 1.5
            at = letter.submitted_at + timedelta(days=letter.delay_days)
            ends.append(LetterDeliveryUpdated.for_state(letter.id, "handed_over", occurred_at=at, **facts))
            letter.final = "handed_over"
            if number in (2, 14):
                replies.append(LetterAnswered.for_letter(letter.id, reply_id=f"r_{number}", **facts))
                letter.final = "answered"
    return [wave for wave in (review, moderation, delivery, ends, replies) if wave]


def _status(event) -> str:
    return getattr(event, "state", None) or event.routing_key.removeprefix("letter.")


async def _landed(intake: RunningIntake, wave: list) -> None:
    """Wait until intake recorded every event of the wave (each lands in the letter's timeline)."""
    expected = {event.letter_id: _status(event) for event in wave}
    admin = bearer(intake.token("staff token (admin)"))
    async with httpx.AsyncClient(base_url=intake.url, timeout=30) as http:
        async def all_there() -> bool:
            for letter_id, status in expected.items():
                timeline = (await http.get(f"/api/v1/letters/{letter_id}", headers=admin)).json()["timeline"]
                if status not in {entry["status"] for entry in timeline}:
                    return False
            return True

        await eventually(all_there, 60, f"{len(wave)} progress events to land in intake")
