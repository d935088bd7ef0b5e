"""A campaign for the results tests: its own intake process, seeded through the real APIs.

Intake runs alone under its own namespace (`<session namespace>r`), so no sorting or delivery
moves its letters: the progress events published here are the only ones. Every letter is also
written down in a `Ledger`, from which the tests count what the results must show; where a letter
counts (its city and country after the gazetteer) is written into the plan by hand, not computed.

The campaign's prisoners are its own (`p_res_…`); the demo campaign is loaded too, and its
fictional prisoners get letters that no figure may count unless asked for.
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
    event_id_for,
)
from shared.mongo import make_client
from tests.infra import remove_namespace
from tests.support import eventually

PRIVATE_NOTE = "PRIVATE-NOTE: lawyer visits on Tuesdays"
WRITER_NAME = "Zoryslava-Unique"
WRITER_EMAIL = "zoryslava.unique@example.org"
QUIET_PRISONER = "p_res_quiet"
PRISONERS = {f"p_res_0{n}": name for n, name in enumerate(("Ремзі Перший", "Сервер Другий", "Нариман Третій",
                                                            "Ескендер Четвертий"), start=1)}
RELEASED = "p_res_04"
NOT_A_PLACE = "(not a place)"
FAILURE = "mail server unavailable: 421"
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
    place_city: str | None = None  # where the results must count it
    place_country: str | None = None
    written_at: datetime | None = None  # what the client sent, if anything
    submitted_at: datetime | None = None
    categories: list[str] = field(default_factory=list)
    moderation: str | None = None
    final: str = "received"
    reason: str | None = None
    hold_kind: str | None = None
    delay_days: float | None = None
    replies: list[str] = field(default_factory=list)

    @property
    def written(self) -> datetime:
        return self.written_at or self.submitted_at


@dataclass
class Ledger:
    letters: list[Written] = field(default_factory=list)
    demo: list[Written] = field(default_factory=list)  # to the demo's fictional prisoners: never counted
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
R1, R2, R3, R4 = PRISONERS
KY, LV, OD, BE, PR, WA = ("Kyiv", "UA"), ("Lviv", "UA"), ("Odesa", "UA"), ("Berlin", "DE"), ("Prague", "CZ"), \
    ("Warsaw", "PL")
# (channel, event, paper, city typed, country typed, prisoner, how many, counted as (city, country))
PLAN = [
    ("web", None, False, "Kyiv", "UA", R1, 4, KY),
    ("web", None, False, "Київ", "Україна", R1, 2, KY),
    ("web", None, False, "Киев", None, R2, 2, KY),  # the country comes from the city
    ("web", None, False, "kyiv ", "Ukraine", R2, 2, KY),
    ("web", None, False, "Lviv", "UA", R3, 3, LV),
    ("web", None, False, "Львів", "ua", R3, 2, LV),
    ("web", None, False, "Odesa", "UA", R2, 1, OD),  # Odesa: 2 letters, a small city (not public)
    ("web", None, False, "Одеса", None, R2, 1, OD),
    ("web", None, True, "Kyiv", "UA", R1, 2, KY),
    ("web", None, False, None, None, R3, 1, (None, None)),
    ("web", None, False, "+380 67 123 45 67", None, R3, 1, (NOT_A_PLACE, None)),
    ("web", None, False, "Kyiv", "UA", R4, 1, KY),  # to the released prisoner
    ("kiosk", DEMO_EVENT, False, "Kyiv", "UA", R1, 2, KY),
    ("kiosk", DEMO_EVENT, False, None, None, R2, 2, KY),  # blank city at a kiosk in Kyiv
    ("kiosk", DEMO_EVENT, True, "Kyiv", "UA", R3, 2, KY),
    ("kiosk", "e_r_lviv", False, "Lviv", "UA", R3, 5, LV),
    ("kiosk", "e_r_berlin", False, None, None, R1, 3, BE),  # blank city at an event abroad
    ("kiosk", "e_r_berlin", False, "Берлін", None, R1, 2, BE),
    ("kiosk", "e_r_prague", False, None, None, R2, 2, PR),  # a small event: "<5" in public
    ("kiosk", "e_r_prague", False, "Praha", "CZ", R2, 1, PR),
    ("kiosk", "e_r_warsaw", False, "Варшава", None, R3, 1, WA),
    ("kiosk", "e_r_warsaw", False, None, None, R3, 1, WA),  # written offline yesterday, synced today
]
OFFLINE = len([None for *_, count, _ in PLAN for _ in range(count)]) - 1
DEMO_PLAN = [("web", None, False, "Demo-Stadt", "DE", "p_demo_01", 3, ("Demo-Stadt", "DE"))]


async def seed_campaign(intake: RunningIntake, amqp_url: str) -> Ledger:
    """Events, kiosks, prisoners and letters through the API; then their progress through the broker."""
    ledger = Ledger()
    admin = bearer(intake.token("staff token (admin)"))
    async with httpx.AsyncClient(base_url=intake.url, timeout=30) as http:
        kiosks = {DEMO_EVENT: intake.token("kiosk token for k_demo_01")}
        for event in EVENTS:
            # Still on today: their kiosks' tokens are accepted only around their events' days.
            event = {**event, "ends_on": datetime.now(UTC).date().isoformat()}
            assert (await http.post("/api/v1/events", json=event, headers=admin)).status_code == 201
            made = await http.post(f"/api/v1/events/{event['id']}/kiosks",
                                   json={"kiosk_id": f"k_{event['id']}", "name": "Stand"}, headers=admin)
            kiosks[event["id"]] = made.json()["token"]
            ledger.events[event["id"]] = event
        ledger.events[DEMO_EVENT] = {"id": DEMO_EVENT, "city": "Kyiv", "country": "UA"}
        quiet = {"id": QUIET_PRISONER, "names": {"uk": "Тихий Приклад", "ru": "Тихий Пример", "en": "Quiet Example"},
                 "notes": PRIVATE_NOTE, "birthday": _birthday_in(days=5)}
        assert (await http.post("/api/v1/prisoners", json=quiet, headers=admin)).status_code == 201
        for pid, name in PRISONERS.items():
            made = await http.post("/api/v1/prisoners", json={"id": pid, "names": {"uk": name, "ru": name, "en": pid}},
                                   headers=admin)
            assert made.status_code == 201, made.text
        number = 0
        for plan, letters in ((PLAN, ledger.letters), (DEMO_PLAN, ledger.demo)):
            for channel, event_id, paper, city, country, prisoner, count, counted in plan:
                for _ in range(count):
                    number += 1
                    flagged = number % 4 == 0 and not paper
                    written_at = datetime.now(UTC) - timedelta(days=1) if number - 1 == OFFLINE else None
                    letter = await _write(http, kiosks, channel, event_id, paper, city, country, prisoner, flagged,
                                          number, written_at)
                    letter.place_city, letter.place_country = counted
                    letters.append(letter)
        # Released after their letter was written: the web page refuses letters to a released prisoner.
        released = await http.post(f"/api/v1/prisoners/{RELEASED}/status", json={"status": "released"}, headers=admin)
        assert released.status_code == 200, released.text
        await _submitted_times(http, admin, ledger)
    await _progress(intake, amqp_url, intake.env["MONGODB_URL"], ledger)
    return ledger


def _birthday_in(days: int) -> str:
    coming = datetime.now(UTC).date() + timedelta(days=days)
    return date(1980, coming.month, min(coming.day, 28)).isoformat()


async def _write(http, kiosks, channel, event_id, paper, city, country, prisoner, flagged, number,
                 written_at: datetime | None = None) -> Written:
    author = {"display_name": WRITER_NAME if number == 1 else f"Writer {number}", "city": city, "country": country}
    if number == 1:
        author |= {"email": WRITER_EMAIL, "contact_consent": True}
    letter = {"prisoner_id": prisoner, "client_ref": str(uuid.uuid4()), "author": author,
              "body": "" if paper else (FLAGGED_BODY if flagged else KIND_BODY), "source": {"channel": channel}}
    if written_at is not None:
        letter["written_at"] = written_at.isoformat()
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
                   city=city, country=country, verdict=body["verdict"], categories=categories, written_at=written_at)


async def _submitted_times(http, admin, ledger: Ledger) -> None:
    for letter in ledger.letters + ledger.demo:
        status = (await http.get(f"/api/v1/letters/{letter.id}", headers=admin)).json()
        letter.submitted_at = datetime.fromisoformat(status["timeline"][0]["at"])


async def _progress(intake: RunningIntake, amqp_url: str, mongodb_url: str, ledger: Ledger) -> None:
    """Moderation first, then delivery, then hand-over and replies: each wave lands before the next.

    The last wave repeats a status a letter already has (a second reply, an archived held letter):
    it has landed when intake's database holds what it carries.
    """
    *plan, repeats = _outcomes(ledger)
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(f"{intake.namespace}.letters")
        for wave in [*plan, repeats]:
            for event in wave:
                await exchange.publish(
                    aio_pika.Message(json.dumps(event.model_dump(mode="json")).encode(), type=event.routing_key,
                                     content_type="application/json", message_id=str(event.event_id)),
                    routing_key=event.routing_key)
            if wave is not repeats:
                await _landed(intake, wave)
    await _repeats_landed(intake, mongodb_url, ledger)


def _answered(letter: Written, reply_id: str) -> LetterAnswered:
    # As delivery makes it: one event per letter and reply.
    return LetterAnswered(event_id=event_id_for(letter.id, f"{LetterAnswered.routing_key}:{reply_id}"),
                          letter_id=letter.id, prisoner_id=letter.prisoner_id, reply_id=reply_id)


# Letters by their place in the plan (0-based) and what happens to them.
NOT_REPORTED, AWAITING, REJECTED, READY_ONLY = (3, 17, 30), (7,), (11, 23), (5, 25)
HELD = {21: "prisoner_released", 9: "no_route", 13: "archived"}  # 21 is the released prisoner's letter
FAILED, BLOCKED, RETURNED = (16, 34), (12, 27), (20,)
# One reply thanks for three letters; a second reply answers one of them again; a third answers another.
REPLIES = {"r_thanks": (2, 4, 8), "r_again": (2,), "r_other": (14,)}


def _outcomes(ledger: Ledger) -> list[list]:
    """Decide each letter's fate (kept in the ledger) and the events that tell intake about it."""
    review, moderation, delivery, ends, replies, repeats = [], [], [], [], [], []
    for number, letter in enumerate(ledger.letters):
        facts = {"prisoner_id": letter.prisoner_id}
        if number in NOT_REPORTED:
            continue  # still "received": nothing reported yet
        if letter.categories:
            review.append(LetterReviewNeeded.for_letter(letter.id, categories=letter.categories, **facts))
            letter.final = "review_needed"
            if number in AWAITING:
                continue  # awaiting a moderator
            if number in REJECTED:
                moderation.append(LetterRejected.for_letter(letter.id, reason="slogans", **facts))
                letter.final = "rejected"
                continue
        letter.moderation = ("redacted" if number % 3 == 0 else "approved") if letter.categories else "auto"
        moderation.append(LetterReady.for_letter(letter.id, scan_key=f"scans/{letter.id}.pdf", scan_sha256="0" * 64,
                                                 scan_bytes=1000, pages=1, moderation=letter.moderation, **facts))
        letter.final = "ready"
        if number in READY_ONLY:
            continue  # approved, waiting to be sent
        if number in HELD:
            kind = HELD[number]
            first = "no_route" if kind == "archived" else kind
            delivery.append(LetterDeliveryUpdated.for_state(letter.id, "held", reason=f"held: {first}",
                                                            hold_kind=first, **facts))
            if kind == "archived":
                repeats.append(LetterDeliveryUpdated(
                    event_id=event_id_for(letter.id, "letter.delivery_updated:held:archived"), letter_id=letter.id,
                    state="held", reason="the prisoner's family asked us to stop", hold_kind="archived", **facts))
            letter.final, letter.hold_kind = "held", kind
            continue
        if number in FAILED:
            delivery.append(LetterDeliveryUpdated.for_state(letter.id, "failed", reason=FAILURE, **facts))
            letter.final, letter.reason = "failed", FAILURE
            continue
        delivery.append(LetterDeliveryUpdated.for_state(letter.id, "sent", **facts))
        letter.final = "sent"
        if number in BLOCKED:
            ends.append(LetterDeliveryUpdated.for_state(letter.id, "blocked", reason="censor: content", **facts))
            letter.final, letter.reason = "blocked", "censor: content"
        elif number in RETURNED:
            ends.append(LetterDeliveryUpdated.for_state(letter.id, "returned", reason="addressee moved", **facts))
            letter.final, letter.reason = "returned", "addressee moved"
        elif number % 5 != 1:
            letter.delay_days = 2.0 + (number % 7) * 1.5
            at = letter.written + timedelta(days=letter.delay_days)
            ends.append(LetterDeliveryUpdated.for_state(letter.id, "handed_over", occurred_at=at, **facts))
            letter.final = "handed_over"
    for reply_id, numbers in REPLIES.items():
        for number in numbers:
            letter = ledger.letters[number]
            assert letter.final in ("handed_over", "answered"), (number, letter.final)
            (replies if reply_id != "r_again" else repeats).append(_answered(letter, reply_id))
            letter.final = "answered"
            letter.replies.append(reply_id)
    # The demo's letters are handed over and answered too: none of it may count.
    for letter in ledger.demo:
        facts = {"prisoner_id": letter.prisoner_id}
        moderation.append(LetterReady.for_letter(letter.id, scan_key="k", scan_sha256="0" * 64, scan_bytes=1, pages=1,
                                                 **facts))
        delivery.append(LetterDeliveryUpdated.for_state(letter.id, "sent", **facts))
        ends.append(LetterDeliveryUpdated.for_state(letter.id, "handed_over", **facts))
        replies.append(_answered(letter, "r_demo"))
    return [wave for wave in (review, moderation, delivery, ends, replies) if wave] + [repeats]


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


async def _repeats_landed(intake: RunningIntake, mongodb_url: str, ledger: Ledger) -> None:
    client = make_client(mongodb_url)
    db = client[f"{intake.namespace}-intake"]
    replies = sum(len(letter.replies) for letter in ledger.letters) + len(ledger.demo)
    archived = [letter.id for letter in ledger.letters if letter.hold_kind == "archived"]
    try:
        async def stored() -> bool:
            kinds = [doc.get("held_kind") async for doc in db["letters"].find({"_id": {"$in": archived}})]
            return (await db["letter_replies"].count_documents({}) == replies
                    and kinds == ["archived"] * len(archived))

        await eventually(stored, 60, "the second reply and the archived letter to land in intake")
    finally:
        await client.close()
