"""A private pipeline for one fault scenario: its own namespace, processes, and optionally servers.

It submits letters as a careful client would (retrying a 503 after Retry-After with the same
client_ref), waits for them to reach delivery, and counts the way a Jepsen-style checker does:
lost (accepted but never delivered), duplicated (a second scan, queue entry or status change),
unexpected (delivered but never accepted).
"""

from __future__ import annotations

import asyncio
import random
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from aiormq.exceptions import ChannelNotFoundEntity
from pymongo import AsyncMongoClient

from deploy.local import (
    SORTING_STRAIGHT_THROUGH,
    ManagedProcess,
    free_port,
    mongo_server,
    port_answers,
    s3_server,
    service_env,
    service_process,
    wait_ready,
    wait_until,
)
from shared.s3 import ObjectStore
from shared.topology import CONSUMER_QUEUES
from tests.infra import Infra, remove_namespace

NEWS = ["У нас выпал снег.", "Зацвели абрикосы.", "Мама сварила варенье из айвы.", "Я прочитал книгу о птицах."]


def letter_body(number: int) -> str:
    return (f"Здравствуйте! Это письмо номер {number}. {random.choice(NEWS)} "
            "Желаю вам здоровья, терпения и тёплых дней. Мы помним о вас.")


@dataclass
class Tally:
    accepted: int
    delivered: int
    lost: int
    duplicated: int
    unexpected: int
    details: dict = field(default_factory=dict)
    # Of the delivered: held visibly (an operator sees why), and letters left in a parking lot.
    held: int = 0
    parked: int = 0
    # Of the accepted: settled by a moderator's rejection (neither delivered nor lost).
    rejected: int = 0

    def line(self, scenario: str) -> str:
        return (f"{scenario}: accepted {self.accepted}, delivered {self.delivered} (held {self.held}), "
                f"rejected {self.rejected}, lost {self.lost}, duplicated {self.duplicated}, parked {self.parked}, "
                f"unexpected {self.unexpected} {self.details}")


class Pipeline:
    def __init__(self, infra: Infra, name: str, log_dir: Path, *, own_servers: bool = False,
                 env: dict[str, dict[str, str]] | None = None) -> None:
        self.namespace = f"{infra.namespace}{name}"
        self.infra = infra
        self.log_dir = log_dir
        self.own_servers = own_servers
        self.env_overrides = env or {}
        self.mongo: ManagedProcess | None = None
        self.s3: ManagedProcess | None = None
        self.services: dict[str, ManagedProcess] = {}
        self.urls: dict[str, str] = {}
        self.mongodb_url = infra.mongodb_url
        self.s3_url = infra.s3_endpoint_url

    # -- processes -------------------------------------------------------------------------
    def start(self) -> Pipeline:
        if self.own_servers:
            mongo_port, s3_port = free_port(), free_port()
            self.mongo = mongo_server(self.log_dir / "mongo", mongo_port, self.log_dir).start()
            self.s3 = s3_server(s3_port, self.log_dir).start()
            wait_until(lambda: port_answers("127.0.0.1", mongo_port) and port_answers("127.0.0.1", s3_port), 30,
                       "private servers")
            self.mongodb_url, self.s3_url = f"mongodb://127.0.0.1:{mongo_port}", f"http://127.0.0.1:{s3_port}"
        for name in ("delivery", "sorting", "intake"):
            self.start_service(name)
        for url in self.urls.values():
            wait_ready(url, timeout=90)
        return self

    def env(self, name: str) -> dict[str, str]:
        return {
            **self.infra.env(),
            "NAMESPACE": self.namespace,
            "S3_BUCKET": f"letters-{self.namespace}",
            "MONGODB_URL": self.mongodb_url,
            "S3_ENDPOINT_URL": self.s3_url,
            "DEMO_CAMPAIGN": "true",
            "DEMO_TOKENS_FILE": str(self.log_dir / "tokens.txt"),
            "INTAKE_SUBMIT_RATE_LIMIT": "1000000/minute",
            "STAFF_SIGN_IN_LIMIT": "1000000/minute",
            # The counts are about letters flowing through; clean ones need no moderator here.
            **SORTING_STRAIGHT_THROUGH,
            **self.env_overrides.get(name, {}),
        }

    def start_service(self, name: str, extra_env: dict[str, str] | None = None) -> ManagedProcess:
        port = int(self.urls[name].rsplit(":", 1)[1]) if name in self.urls else free_port()
        env = {**self.env(name), **(extra_env or {})}
        process = service_process(name, service_env(name, env, port), self.log_dir).start()
        self.services[name], self.urls[name] = process, f"http://127.0.0.1:{port}"
        return process

    def restart_service(self, name: str, extra_env: dict[str, str] | None = None) -> None:
        self.start_service(name, extra_env)
        wait_ready(self.urls[name], timeout=90)

    async def stop(self) -> None:
        for process in self.services.values():
            process.terminate(timeout=40)
        await remove_namespace(self.infra.amqp_url, self.namespace)
        for server in (self.mongo, self.s3):
            if server is not None:
                server.kill()

    # -- a careful client --------------------------------------------------------------------
    async def submit(self, count: int, *, concurrency: int = 16, deadline_s: float = 180,
                     prisoner_id: str = "p_demo_01") -> tuple[list[dict], list[int]]:
        """Submit `count` letters; every status code seen is returned too (a 500 must never appear)."""
        accepted: list[dict] = []
        seen: list[int] = []
        limiter = asyncio.Semaphore(concurrency)
        async with httpx.AsyncClient(base_url=self.urls["intake"], timeout=30) as client:

            async def one(number: int) -> None:
                payload = {"prisoner_id": prisoner_id, "body": letter_body(number), "client_ref": str(uuid.uuid4()),
                           "source": {"channel": "web"}}
                loop = asyncio.get_running_loop()
                stop_at = loop.time() + deadline_s
                async with limiter:
                    while loop.time() < stop_at:
                        try:
                            answer = await client.post("/api/v1/letters", json=payload)
                        except httpx.HTTPError:
                            seen.append(0)  # connection refused/reset: the server was away
                            await asyncio.sleep(0.5)
                            continue
                        seen.append(answer.status_code)
                        if answer.status_code in (200, 201):
                            accepted.append({**answer.json(), "client_ref": payload["client_ref"]})
                            return
                        if answer.status_code in (429, 503):
                            await asyncio.sleep(min(float(answer.headers.get("Retry-After", "1")), 2.0))
                            continue
                        raise AssertionError(f"unexpected answer {answer.status_code}: {answer.text}")
                    raise AssertionError(f"letter {number} not accepted within {deadline_s}s")

            await asyncio.gather(*(one(n) for n in range(count)))
        return accepted, seen

    async def drained(self, timeout: float = 60) -> None:
        """Wait until no message of this pipeline is ready or unacknowledged anywhere (twice in a row)."""
        import subprocess

        quiet, stop_at = 0, asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < stop_at:
            listed = subprocess.run(["rabbitmqctl", "list_queues", "-q", "--no-table-headers", "name", "messages"],
                                    capture_output=True, text=True, timeout=60).stdout
            busy = [line for line in listed.splitlines()
                    if line.startswith(f"{self.namespace}.") and ".parking" not in line and not line.endswith("\t0")]
            quiet = quiet + 1 if not busy else 0
            if quiet >= 2:
                return
            await asyncio.sleep(0.5)
        raise AssertionError("queues did not drain")

    async def parked(self, queue: str) -> int:
        return await parked_count(self.infra.amqp_url, f"{self.namespace}.{queue}.parking")

    # -- counting ------------------------------------------------------------------------------
    def _db(self, client: AsyncMongoClient, service: str):
        return client[f"{self.namespace}-{service}"]

    async def delivered_ids(self) -> list[str]:
        client = AsyncMongoClient(self.mongodb_url)
        try:
            return [doc["_id"] async for doc in self._db(client, "delivery")["outgoing"].find({}, {"_id": 1})]
        finally:
            await client.close()

    async def wait_delivered(self, ids: set[str], timeout: float = 180) -> None:
        loop = asyncio.get_running_loop()
        stop_at = loop.time() + timeout
        while loop.time() < stop_at:
            try:
                if ids <= set(await self.delivered_ids()):
                    return
            except Exception:  # the database may be the thing that is down
                pass
            await asyncio.sleep(0.5)
        missing = ids - set(await self.delivered_ids())
        raise AssertionError(f"{len(missing)} accepted letters never reached delivery, e.g. {sorted(missing)[:3]}")

    async def tally(self, accepted: list[dict]) -> Tally:
        ids = [a["id"] for a in accepted]
        client = AsyncMongoClient(self.mongodb_url)
        try:
            delivery, sorting, intake = (self._db(client, s) for s in ("delivery", "sorting", "intake"))
            outgoing = [doc["_id"] async for doc in delivery["outgoing"].find({}, {"_id": 1})]
            held = await delivery["outgoing"].count_documents({"state": "held"})
            ready_events = await sorting["outbox"].count_documents({"routing_key": "letter.ready"})
            queued_events = await delivery["outbox"].count_documents({"routing_key": "letter.queued"})
            ready_marks = await intake["letter_timeline"].count_documents({"status": "ready"})
            stored_letters = await intake["letters"].count_documents({})
        finally:
            await client.close()
        store = ObjectStore(self.s3_url, self.infra.s3_access_key_id, self.infra.s3_secret_access_key, "us-east-1",
                            f"letters-{self.namespace}")
        scans = len(await store.list_keys("scans/"))
        accepted_set, delivered_set = set(ids), set(outgoing)
        duplicated = (
            (len(ids) - len(accepted_set))  # two different answers for one letter
            + (len(outgoing) - len(delivered_set))
            + max(0, scans - len(delivered_set))
            + max(0, ready_events - len(accepted_set))
            + max(0, queued_events - len(accepted_set))
            + max(0, ready_marks - len(accepted_set))
        )
        return Tally(
            accepted=len(accepted_set),
            delivered=len(delivered_set & accepted_set),
            lost=len(accepted_set - delivered_set),
            duplicated=duplicated,
            unexpected=len(delivered_set - accepted_set) + max(0, stored_letters - len(accepted_set)),
            details={"scans": scans, "ready_events": ready_events, "queued_events": queued_events,
                     "intake_letters": stored_letters},
            held=held,
            parked=await self.parked_total(),
        )

    async def parked_total(self) -> int:
        """Messages in every parking lot of this pipeline (a queue never declared holds none)."""
        total = 0
        for queue in CONSUMER_QUEUES:
            try:
                total += await self.parked(queue)
            except ChannelNotFoundEntity:  # no such parking lot: nothing parked there
                continue
        return total


async def parked_count(amqp_url: str, queue: str) -> int:
    import aio_pika

    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        return declared.declaration_result.message_count
