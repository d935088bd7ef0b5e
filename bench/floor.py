"""The I/O floor: the pipeline's per-letter I/O with nothing else around it.

One asyncio process, no FastAPI, FastStream, pydantic or business logic: PyMongo's async client,
aio-pika and boto3 used directly against the same MongoDB, RabbitMQ and S3 servers as the
benchmarked stack, under its own namespace (databases `<ns>-intake|sorting|delivery`, exchange
`<ns>.letters`, quorum queues `<ns>.*`, bucket `letters-<ns>`). Per letter it does exactly what
the three services do (read from services/*/service.py, adapters.py and shared/outbox.py of the
measured tree: commit b7e6496 with the working-tree changes of 2026-11-29 12:28 UTC; when a service
adds or drops an operation per letter, change it here too):

  intake request   find prisoner; find letter by client_ref; insert letter; insert timeline;
                   $inc prisoner counter; insert outbox; confirmed publish letter.received;
                   mark outbox published
  sorting          insert letter (find it only when it was there already); S3 put of a PDF of the letter's scan size (bytes
                   prepared before timing, not rendered); conditional $set state=ready; find it
                   again; insert decision "screened"; insert decision "approved"; insert outbox;
                   confirmed publish letter.ready; mark outbox; ack
  delivery         find outgoing letter; find prisoner; find its intermediaries; count the queued
                   letters of each active one when there are two or more (routing by load; the
                   demo campaign has one per prisoner: no count); insert outgoing; insert outbox;
                   confirmed publish letter.queued; mark outbox; ack
  intake progress  for letter.ready and letter.queued: insert timeline; conditional $set status; ack

= 26 MongoDB operations (6 reads, 20 writes; 28 and 8 until 2026-12-02), 3 confirmed persistent publishes, 4 consumes from
quorum queues (with the same dead-letter arguments and prefetch), 1 S3 put. Requests are issued by
`concurrency` workers like the HTTP clients; consumers run their callbacks concurrently up to the
prefetch, as FastStream does over aio-pika. The indexes are the services' too: each is paid for on
every write.

Standalone: `python -m bench.floor --letters 500 --concurrency 16` against the servers named by
AMQP_URL, MONGODB_URL, S3_ENDPOINT_URL (as the services read them).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import secrets
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import aio_pika
import boto3
from botocore.client import Config
from pymongo import ASCENDING, AsyncMongoClient
from pymongo.errors import DuplicateKeyError

from bench.report import per_second, percentiles
from deploy.local import remove_topology
from shared.mongo import learn_server, stored_time

# The services' values (shared/broker.py): same prefetch and queue arguments.
PREFETCH = 50
DELIVERY_LIMIT = 10
PUBLISH_TIMEOUT_S = 5.0
STATUS_RANK = {"received": 0, "review_needed": 1, "rejected": 2, "ready": 2, "queued": 3}
QUEUES = {
    "intake.letter-progress": ("letter.review_needed", "letter.rejected", "letter.ready", "letter.queued"),
    "sorting.letter-received": ("letter.received",),
    "delivery.letter-ready": ("letter.ready",),
}


@dataclass(frozen=True)
class Servers:
    amqp_url: str
    mongodb_url: str
    s3_endpoint_url: str
    s3_access_key_id: str = "letters"
    s3_secret_access_key: str = "letters-secret"
    s3_region: str = "us-east-1"

    @classmethod
    def from_env(cls) -> Servers:
        return cls(
            os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"),
            os.environ.get("MONGODB_URL", "mongodb://127.0.0.1:27017"),
            os.environ.get("S3_ENDPOINT_URL", "http://127.0.0.1:9000"),
            os.environ.get("S3_ACCESS_KEY_ID", "letters"),
            os.environ.get("S3_SECRET_ACCESS_KEY", "letters-secret"),
        )


def queue_names(namespace: str) -> list[str]:
    return [f"{namespace}.{name}{suffix}" for name in QUEUES for suffix in ("", ".parking")]


def exchange_names(namespace: str) -> list[str]:
    return [f"{namespace}.letters", f"{namespace}.letters.dead"]


def now() -> datetime:
    return datetime.now(UTC)


def event_id() -> str:
    return str(uuid.uuid4())


class Floor:
    """One run of the floor under one namespace."""

    def __init__(
        self,
        servers: Servers,
        namespace: str,
        letters: list[dict],
        pdfs: list[bytes],
        concurrency: int,
        prefetch: int = PREFETCH,
    ) -> None:
        self.servers, self.ns, self.letters, self.pdfs = servers, namespace, letters, pdfs
        self.concurrency, self.prefetch = concurrency, prefetch
        self.request_started: dict[str, float] = {}
        self.request_ms: list[float] = []
        self.request_done: list[float] = []
        self.ready_at: dict[str, float] = {}
        self.queued_at: dict[str, float] = {}
        self.progress_done = 0
        self.errors: list[str] = []
        self._done = asyncio.Event()

    # --- set-up and tear-down -------------------------------------------------------------
    async def open(self) -> None:
        s = self.servers
        # One client, connection and channel set per service, as three processes would have.
        self.mongo = {
            role: AsyncMongoClient(s.mongodb_url, tz_aware=True) for role in ("intake", "sorting", "delivery")
        }
        self.db = {role: client[f"{self.ns}-{role}"] for role, client in self.mongo.items()}
        await learn_server(self.mongo["intake"])  # times written in the form the services write them
        self.bucket = f"letters-{self.ns}"
        self.s3 = boto3.client(
            "s3",
            endpoint_url=s.s3_endpoint_url,
            aws_access_key_id=s.s3_access_key_id,
            aws_secret_access_key=s.s3_secret_access_key,
            region_name=s.s3_region,
            config=Config(
                s3={"addressing_style": "path"},
                connect_timeout=2,
                read_timeout=10,
                retries={"max_attempts": 2, "mode": "standard"},
            ),
        )
        await asyncio.to_thread(self._ensure_bucket)
        intake, sorting, delivery = self.db["intake"], self.db["sorting"], self.db["delivery"]
        indexes = {
            intake["letters"]: [
                ["client_ref"],
                ["prisoner_id"],
                ["kiosk_id"],
                ["campaign_event_id"],
                ["contact_lookup"],
            ],
            intake["letter_timeline"]: [["letter_id", "at"]],
            intake["prisoners"]: [["letters_received"]],
            sorting["letters"]: [["state", "received_at"], ["state", "prisoner_id"]],
            sorting["decisions"]: [["letter_id", "seq"]],
            delivery["outgoing"]: [
                ["state", "queued_at"],
                ["prisoner_id", "state"],
                ["intermediary_id", "state", "queued_at"],
                ["bundle_id"],
                ["sent_at"],
                ["handed_over_at"],
            ],
            delivery["intermediaries"]: [["prisoner_id"]],
            **{db["outbox"]: [["published", "created_at"]] for db in self.db.values()},
        }
        for collection, keys in indexes.items():
            for fields in keys:
                await collection.create_index(
                    [(f, ASCENDING) for f in fields], unique=fields == ["client_ref"]
                )
        for prisoner_id in sorted({letter["prisoner_id"] for letter in self.letters}):
            name = {"ru": "Заключённый " + prisoner_id}
            await intake["prisoners"].update_one(
                {"_id": prisoner_id},
                {"$set": {"names": name, "status": "detained"}, "$setOnInsert": {"letters_received": 0}},
                upsert=True,
            )
            await delivery["prisoners"].update_one(
                {"_id": prisoner_id}, {"$set": {"name_ru": name["ru"], "status": "detained"}}, upsert=True
            )
            await delivery["intermediaries"].update_one(
                {"_id": f"i_{prisoner_id}"},
                {
                    "$set": {
                        "prisoner_id": prisoner_id,
                        "active": True,
                        "primary": True,
                        "capacity_per_bundle": 20,
                    }
                },
                upsert=True,
            )

        self.connections = {
            role: await aio_pika.connect_robust(s.amqp_url) for role in ("intake", "sorting", "delivery")
        }
        self.channels, self.exchanges = {}, {}
        for role, connection in self.connections.items():
            channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
            await channel.set_qos(prefetch_count=self.prefetch)
            self.channels[role] = channel
            self.exchanges[role] = await channel.declare_exchange(
                f"{self.ns}.letters", aio_pika.ExchangeType.TOPIC, durable=True
            )
        channel = self.channels["intake"]
        dead = await channel.declare_exchange(
            f"{self.ns}.letters.dead", aio_pika.ExchangeType.DIRECT, durable=True
        )
        for name, keys in QUEUES.items():
            full = f"{self.ns}.{name}"
            parking = await channel.declare_queue(
                f"{full}.parking", durable=True, arguments={"x-queue-type": "quorum"}
            )
            await parking.bind(dead, routing_key=full)
            queue = await channel.declare_queue(
                full,
                durable=True,
                arguments={
                    "x-queue-type": "quorum",
                    "x-dead-letter-exchange": dead.name,
                    "x-dead-letter-routing-key": full,
                    "x-delivery-limit": DELIVERY_LIMIT,
                },
            )
            for key in keys:
                await queue.bind(self.exchanges["intake"], routing_key=key)
        consumers = {
            "sorting.letter-received": ("sorting", self.on_received),
            "delivery.letter-ready": ("delivery", self.on_ready),
            "intake.letter-progress": ("intake", self.on_progress),
        }
        for name, (role, callback) in consumers.items():
            queue = await self.channels[role].get_queue(f"{self.ns}.{name}", ensure=False)
            await queue.consume(callback)

    def _ensure_bucket(self) -> None:
        with contextlib.suppress(Exception):
            self.s3.create_bucket(Bucket=self.bucket)

    async def close(self, *, remove: bool = True) -> None:
        for connection in getattr(self, "connections", {}).values():
            with contextlib.suppress(Exception):
                await connection.close()
        if remove:
            await remove_topology(self.servers.amqp_url, queue_names(self.ns), exchange_names(self.ns))
            for role, client in getattr(self, "mongo", {}).items():
                with contextlib.suppress(Exception):
                    await client.drop_database(f"{self.ns}-{role}")
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self._empty_bucket)
        for client in getattr(self, "mongo", {}).values():
            await client.close()

    def _empty_bucket(self) -> None:
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            for item in page.get("Contents", []):
                self.s3.delete_object(Bucket=self.bucket, Key=item["Key"])
        self.s3.delete_bucket(Bucket=self.bucket)

    # --- the per-letter I/O ---------------------------------------------------------------
    async def _publish(self, role: str, routing_key: str, event: dict, outbox) -> None:
        """Outbox insert, confirmed persistent publish, outbox mark: shared/outbox.py's add_and_publish."""
        await outbox.insert_one(
            {
                "_id": event["event_id"],
                "routing_key": routing_key,
                "body": event,
                "created_at": stored_time(now()),
                "published": False,
            }
        )
        message = aio_pika.Message(
            json.dumps(event).encode(),
            content_type="application/json",
            message_id=event["event_id"],
            type=routing_key,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )
        await self.exchanges[role].publish(
            message, routing_key=routing_key, mandatory=True, timeout=PUBLISH_TIMEOUT_S
        )
        await outbox.update_one(
            {"_id": event["event_id"]}, {"$set": {"published": True, "published_at": stored_time(now())}}
        )

    async def submit(self, number: int, submission: dict) -> None:
        db = self.db["intake"]
        started = time.perf_counter()
        prisoner = await db["prisoners"].find_one({"_id": submission["prisoner_id"]})
        await db["letters"].find_one({"client_ref": submission["client_ref"]})  # a retried submission?
        letter_id = "l_" + secrets.token_hex(10)
        self.request_started[letter_id] = time.time()
        submitted_at = now()
        body = submission["body"]
        await db["letters"].insert_one(
            {
                "_id": letter_id,
                "client_ref": submission["client_ref"],
                "fingerprint": hashlib.sha256(f"{submission['prisoner_id']}\x00{body}".encode()).hexdigest(),
                "prisoner_id": submission["prisoner_id"],
                "body": body,
                "channel": "web",
                "campaign_event_id": None,
                "kiosk_id": None,
                "writer_display_name": submission["author"]["display_name"],
                "writer_city": submission["author"]["city"],
                "writer_country": None,
                "contact_ciphertext": None,
                "contact_lookup": None,
                "page_keys": [],
                "status": "received",
                "submitted_at": stored_time(submitted_at),
                "status_rank": 0,
            }
        )
        await db["letter_timeline"].insert_one(
            {"_id": f"{letter_id}:received", "letter_id": letter_id, "status": "received", "at": stored_time(submitted_at)}
        )
        await db["prisoners"].update_one(
            {"_id": submission["prisoner_id"]}, {"$inc": {"letters_received": 1}}
        )
        event = {
            "event_id": event_id(),
            "occurred_at": submitted_at.isoformat(),
            "schema_version": 1,
            "letter_id": letter_id,
            "prisoner_id": submission["prisoner_id"],
            "prisoner_name_ru": prisoner["names"]["ru"],
            "body": body,
            "page_keys": [],
            "channel": "web",
            "campaign_event_id": None,
            "writer_first_name": submission["author"]["display_name"],
            "writer_city": submission["author"]["city"],
            "submitted_at": submitted_at.isoformat(),
            "bench_number": number,
        }
        await self._publish("intake", "letter.received", event, db["outbox"])
        self.request_ms.append((time.perf_counter() - started) * 1000)
        self.request_done.append(time.time())

    async def on_received(self, message: aio_pika.abc.AbstractIncomingMessage) -> None:
        await self._handle(message, self._sort)

    async def _sort(self, event: dict) -> None:
        db = self.db["sorting"]
        letters = db["letters"]
        letter_id = event["letter_id"]
        facts = {
            k: v
            for k, v in event.items()
            if k not in ("event_id", "occurred_at", "schema_version", "letter_id")
        }
        letter = {
            **facts,
            "_id": letter_id,
            "text": event["body"],
            "handwritten": False,
            "review_reasons": [],
            "categories": [],
            "state": "received",
            "revision": 0,
            "scan_key": f"scans/{secrets.token_urlsafe(24)}.pdf",
            "received_at": stored_time(now()),
        }
        try:
            await letters.insert_one(letter)
        except DuplicateKeyError:
            # Sorting reads the letter back only when it was there already (a redelivery).
            letter = await letters.find_one({"_id": letter_id})
        pdf = self.pdfs[event["bench_number"] % len(self.pdfs)]
        digest = hashlib.sha256(pdf).hexdigest()
        await asyncio.to_thread(
            self.s3.put_object,
            Bucket=self.bucket,
            Key=letter["scan_key"],
            Body=pdf,
            ContentType="application/pdf",
            Metadata={"sha256": digest},
        )
        await letters.update_one(
            {"_id": letter_id, "state": "received"},
            {
                "$set": {
                    "scan_sha256": digest,
                    "scan_bytes": len(pdf),
                    "pages": 1,
                    "state": "ready",
                    "ready_at": stored_time(now()),
                }
            },
        )
        self.ready_at[letter_id] = time.time()
        letter = await letters.find_one({"_id": letter_id})
        for decision, facts in (
            ("screened", {"review_reasons": [], "categories": []}),
            ("approved", {"revision": 0, "text": letter["text"]}),
        ):
            with contextlib.suppress(DuplicateKeyError):
                await db["decisions"].insert_one(
                    {
                        "_id": f"{letter_id}:{decision}",
                        "letter_id": letter_id,
                        "decision": decision,
                        "at": stored_time(now()),
                        "seq": time.time(),
                        "by": "sorting",
                        **facts,
                    }
                )
        ready = {
            "event_id": event_id(),
            "occurred_at": now().isoformat(),
            "schema_version": 1,
            "letter_id": letter_id,
            "prisoner_id": event["prisoner_id"],
            "scan_key": letter["scan_key"],
            "scan_sha256": digest,
            "scan_bytes": len(pdf),
            "pages": 1,
        }
        await self._publish("sorting", "letter.ready", ready, db["outbox"])

    async def on_ready(self, message: aio_pika.abc.AbstractIncomingMessage) -> None:
        await self._handle(message, self._queue)

    async def _queue(self, event: dict) -> None:
        db = self.db["delivery"]
        letter_id = event["letter_id"]
        if await db["outgoing"].find_one({"_id": letter_id}) is None:
            # Routing: the prisoner, their intermediaries, and how many letters each one already has.
            await db["prisoners"].find_one({"_id": event["prisoner_id"]})
            people = [
                doc
                async for doc in db["intermediaries"].find({"prisoner_id": event["prisoner_id"]}).sort("_id")
            ]
            active = [p["_id"] for p in people if p.get("active")]
            # Delivery counts the queues only when there is more than one active intermediary to choose from.
            load = (
                {i: await db["outgoing"].count_documents({"intermediary_id": i, "state": "queued"}) for i in active}
                if len(active) > 1
                else dict.fromkeys(active, 0)
            )
            chosen = min(load, key=load.get) if load else None
            queued_at = stored_time(now())
            with contextlib.suppress(DuplicateKeyError):
                await db["outgoing"].insert_one(
                    {
                        "_id": letter_id,
                        "prisoner_id": event["prisoner_id"],
                        "scan_key": event["scan_key"],
                        "scan_sha256": event["scan_sha256"],
                        "pages": event["pages"],
                        "state": "queued",
                        "intermediary_id": chosen,
                        "queued_at": queued_at,
                        "changed_at": queued_at,
                        "bundle_id": None,
                        "archived": False,
                    }
                )
        queued = {
            "event_id": event_id(),
            "occurred_at": now().isoformat(),
            "schema_version": 1,
            "letter_id": letter_id,
            "prisoner_id": event["prisoner_id"],
        }
        await self._publish("delivery", "letter.queued", queued, db["outbox"])
        self.queued_at[letter_id] = time.time()

    async def on_progress(self, message: aio_pika.abc.AbstractIncomingMessage) -> None:
        status = message.routing_key.removeprefix("letter.")
        await self._handle(message, lambda event: self._follow(event, status))

    async def _follow(self, event: dict, status: str) -> None:
        db = self.db["intake"]
        letter_id = event["letter_id"]
        with contextlib.suppress(DuplicateKeyError):
            await db["letter_timeline"].insert_one(
                {"_id": f"{letter_id}:{status}", "letter_id": letter_id, "status": status, "at": stored_time(now())}
            )
        await db["letters"].update_one(
            {"_id": letter_id, "status_rank": {"$lt": STATUS_RANK[status]}},
            {
                "$set": {
                    "status": status,
                    "status_rank": STATUS_RANK[status],
                    "status_changed_at": stored_time(now()),
                }
            },
        )
        self.progress_done += 1
        if self.progress_done >= 2 * len(self.letters):
            self._done.set()

    async def _handle(self, message, work) -> None:
        try:
            await work(json.loads(message.body))
        except Exception as error:  # noqa: BLE001 - like NACK_ON_ERROR: requeue; the delivery limit parks it
            self.errors.append(repr(error))
            await message.nack(requeue=True)
        else:
            await message.ack()

    # --- the run ----------------------------------------------------------------------------
    async def run(self, timeout: float, progress: bool = True) -> dict:
        from tqdm import tqdm

        numbers = iter(range(len(self.letters)))
        bar = tqdm(
            total=len(self.letters),
            desc="floor queued",
            unit="letter",
            file=sys.stderr,
            disable=not progress,
            dynamic_ncols=True,
        )

        async def worker() -> None:
            for number in numbers:
                try:
                    await self.submit(number, self.letters[number])
                except Exception as error:  # noqa: BLE001 - counted and reported, the run goes on
                    self.errors.append(repr(error))

        async def watch() -> None:
            while not self._done.is_set():
                bar.n = len(self.queued_at)
                bar.refresh()
                await asyncio.sleep(0.5)

        started = time.time()
        watcher = asyncio.create_task(watch())
        try:
            await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(self.concurrency))), timeout)
            submitted = time.time()
            await asyncio.wait_for(self._done.wait(), max(1.0, timeout - (submitted - started)))
            timed_out = False
        except TimeoutError:
            timed_out = True
        finally:
            watcher.cancel()
            bar.n = len(self.queued_at)
            bar.close()
        settled = time.time()
        return summarise_floor(self, started, settled, timed_out)


def summarise_floor(floor: Floor, started: float, settled: float, timed_out: bool) -> dict:
    queued = sorted(floor.queued_at.values())
    first = min(floor.request_started.values(), default=started)
    last = queued[-1] if queued else settled
    e2e_ready = [
        (floor.ready_at[i] - floor.request_started[i]) * 1000
        for i in floor.ready_at
        if i in floor.request_started
    ]
    e2e_queued = [
        (floor.queued_at[i] - floor.request_started[i]) * 1000
        for i in floor.queued_at
        if i in floor.request_started
    ]
    return {
        "letters": len(floor.letters),
        "queued": len(queued),
        "concurrency": floor.concurrency,
        "letters_per_s": round(len(queued) / (last - first), 2) if queued and last > first else 0.0,
        "request_ms": percentiles(floor.request_ms),
        "request_throughput_per_s": round(len(floor.request_done) / (max(floor.request_done) - first), 2)
        if floor.request_done
        else None,
        "e2e_ready_ms": percentiles(e2e_ready),
        "e2e_queued_ms": percentiles(e2e_queued),
        "duration_s": round(last - first, 2),
        "settled_s": round(settled - first, 2),
        "timed_out": timed_out,
        "errors": len(floor.errors),
        "first_errors": floor.errors[:5],
        "queued_per_s": per_second(queued, first),
    }


async def run_floor(
    servers: Servers,
    namespace: str,
    letters: list[dict],
    pdfs: list[bytes],
    *,
    concurrency: int,
    timeout: float = 900.0,
    prefetch: int = PREFETCH,
    progress: bool = True,
) -> dict:
    """Run the floor for these letters; always removes its namespace afterwards."""
    floor = Floor(servers, namespace, letters, pdfs, concurrency, prefetch)
    try:
        await floor.open()
        return await floor.run(timeout, progress)
    finally:
        await floor.close()


def sample_pdf(body: str) -> bytes:
    """A real scan of one letter, rendered once before timing (standalone use)."""
    from services.sorting.scan import TypedLetter, render_typed_letter

    typed = TypedLetter("Ремзи Демо", body, "Оксана", "Полтава", datetime(2026, 1, 1, tzinfo=UTC))
    return render_typed_letter(typed, "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf").pdf


def main() -> int:
    from bench.letters import DEMO_PRISONERS, make_letters

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--letters", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()
    letters = make_letters(args.letters, DEMO_PRISONERS)
    pdfs = [sample_pdf(letters[0]["body"])]
    result = asyncio.run(
        run_floor(
            Servers.from_env(),
            "floor" + secrets.token_hex(4),
            letters,
            pdfs,
            concurrency=args.concurrency,
            timeout=args.timeout,
        )
    )
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
