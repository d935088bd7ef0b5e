"""Benchmark of the whole pipeline against its I/O floor: `python -m bench.run` (see bench/README.md).

Starts the real stack like the test session does (nx-27017, moto, the machine's RabbitMQ, the three
services as processes, a fresh namespace), submits typed Russian letters over HTTP with C concurrent
clients, reads the stages' timestamps from MongoDB afterwards (no polling of letters during the run),
runs the I/O floor against the same servers, writes result.json and result.png, and removes
everything it started, on success, error or Ctrl-C alike.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from deploy.local import (
    ROOT,
    SORTING_STRAIGHT_THROUGH,
    ManagedProcess,
    free_port,
    infra_env,
    mongo_server,
    port_answers,
    remove_topology,
    s3_server,
    service_env,
    wait_ready,
    wait_until,
)
from shared.mongo import read_time

LOCAL_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
CONSUMER_QUEUES = ("intake.letter-progress", "sorting.letter-received", "delivery.letter-ready")
SERVICE_NAMES = ("intake", "sorting", "delivery")
# The benchmark's clients all come from 127.0.0.1: intake's per-address limit for anonymous
# writers (20/minute by default) would refuse them, so the run lifts it through its setting.
NO_RATE_LIMIT = "1000000/minute"
POLL_S = 0.5
MACHINE_BUSY = "machine busy"
# CPU the machine spent outside this run (another test suite, a build): a run with much of it is noisy.
OTHER = "other processes (not this run)"
RSS_SAMPLE_S = 0.2


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--letters", type=int, default=3000, help="letters to measure (default 3000)")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent HTTP clients (default 16)")
    parser.add_argument(
        "--rate",
        type=float,
        default=None,
        help="open-loop pacing: submit at this many letters/s (the C clients must keep up)",
    )
    parser.add_argument("--sorting-processes", type=int, default=1, help="sorting processes on one queue")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out", help="where result.json/png go")
    parser.add_argument(
        "--use-running",
        metavar="INTAKE_URL",
        default=None,
        help="measure an already running stack (servers from AMQP_URL, MONGODB_URL, "
        "S3_ENDPOINT_URL, NAMESPACE); nothing of it is started or stopped",
    )
    parser.add_argument("--warmup", type=int, default=20, help="letters sent and awaited before measuring")
    parser.add_argument("--min-chars", type=int, default=300, help="shortest letter (default 300)")
    parser.add_argument("--max-chars", type=int, default=2000, help="longest letter (default 2000)")
    parser.add_argument(
        "--hold-sorting",
        action="store_true",
        help="sorting-bound workload: pause sorting (SIGSTOP) while submitting, then time "
        "how fast it drains the full queue",
    )
    parser.add_argument(
        "--profile",
        action="append",
        choices=SERVICE_NAMES,
        default=[],
        help="run this service under a profiler (repeatable); reports go to OUT/profile-*",
    )
    parser.add_argument(
        "--profiler",
        choices=("pyinstrument", "sampler"),
        default="pyinstrument",
        help="pyinstrument (event-loop thread only) or sampler (all threads, incl. to_thread)",
    )
    parser.add_argument("--no-floor", action="store_true", help="skip the I/O floor")
    parser.add_argument("--timeout", type=float, default=900.0, help="give up on a phase after this many s")
    parser.add_argument(
        "--stall",
        type=float,
        default=60.0,
        help="give up waiting when no letter reached delivery for this many s (default 60)",
    )
    parser.add_argument("--seed", type=int, default=1, help="letter generator seed")
    parser.add_argument("--log-level", default="INFO", help="the services' LOG_LEVEL (production: INFO)")
    parser.add_argument("--keep", action="store_true", help="keep the MongoDB data directory")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    # Internal: how a service is started under the all-threads sampler.
    parser.add_argument("--serve-profiled", metavar="SERVICE", help=argparse.SUPPRESS)
    parser.add_argument("--profile-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.letters < 1 or args.concurrency < 1 or args.sorting_processes < 1:
        parser.error("--letters, --concurrency and --sorting-processes must be at least 1")
    if not 1 <= args.min_chars <= args.max_chars:
        parser.error("need 1 <= --min-chars <= --max-chars")
    return args


# --- the stack ------------------------------------------------------------------------------------


@dataclass
class Stack:
    """Servers and service processes of one run; `stop` undoes what `start` did."""

    args: argparse.Namespace
    namespace: str
    log_dir: Path
    amqp_url: str = field(default_factory=lambda: os.environ.get("AMQP_URL", LOCAL_AMQP_URL))
    mongodb_url: str = ""
    s3_endpoint_url: str = ""
    s3_access_key_id: str = "letters"
    s3_secret_access_key: str = "letters-secret"
    intake_url: str = ""
    data_dir: Path | None = None
    servers: list[ManagedProcess] = field(default_factory=list)
    services: dict[str, ManagedProcess] = field(default_factory=dict)
    service_urls: dict[str, str] = field(default_factory=dict)
    external_pids: dict[str, int] = field(default_factory=dict)
    owns_topology: bool = True

    @property
    def s3_bucket(self) -> str:
        if self.args.use_running and os.environ.get("S3_BUCKET"):
            return os.environ["S3_BUCKET"]
        return f"letters-{self.namespace}" if self.namespace else "letters"

    def db_name(self, service: str) -> str:
        return f"{self.namespace}-{service}" if self.namespace else service

    def start(self) -> None:
        if self.args.use_running:
            self._attach()
            return
        if self.amqp_url == LOCAL_AMQP_URL and not port_answers("127.0.0.1", 5672):
            raise RuntimeError(
                "RabbitMQ does not answer on 127.0.0.1:5672: start it with `rabbitmq-server -detached`"
            )
        self.data_dir = Path(tempfile.mkdtemp(prefix=f"bench-{self.namespace}-"))
        mongo_port, s3_port = free_port(), free_port()
        mongo = mongo_server(self.data_dir / "mongo-data", mongo_port, self.log_dir)
        s3 = s3_server(s3_port, self.log_dir)
        self.servers = [mongo.start(), s3.start()]
        wait_until(lambda: port_answers("127.0.0.1", mongo_port), 30, "nx-27017")
        wait_until(lambda: port_answers("127.0.0.1", s3_port), 30, "moto S3 server")
        self.mongodb_url = f"mongodb://127.0.0.1:{mongo_port}"
        self.s3_endpoint_url = f"http://127.0.0.1:{s3_port}"
        common = {
            **infra_env(self),
            "DEMO_CAMPAIGN": "true",
            "DEMO_TOKENS_FILE": str(self.log_dir / "demo-tokens.txt"),
            "LOG_LEVEL": self.args.log_level,
            "INTAKE_SUBMIT_RATE_LIMIT": NO_RATE_LIMIT,
            "INTAKE_CHECK_RATE_LIMIT": NO_RATE_LIMIT,
            # The benchmark measures the pipeline: clean letters go straight on, as before.
            **SORTING_STRAIGHT_THROUGH,
        }
        sortings = ["sorting"] + [f"sorting-{k}" for k in range(2, self.args.sorting_processes + 1)]
        # Intake's start already publishes (the demo campaign's prisoners) before it declares the
        # exchange: declared here first, as shared/broker.py does, all three can start at once.
        # Further sorting processes start after the first (same database, same indexes).
        asyncio.run(declare_exchanges(self.amqp_url, self.namespace))
        for group in (["delivery", sortings[0], "intake"], *([name] for name in sortings[1:])):
            for name in group:
                kind = name.split("-")[0]
                port = free_port()
                self.services[name] = self._service(name, kind, service_env(kind, common, port)).start()
                self.service_urls[name] = f"http://127.0.0.1:{port}"
            for name in group:
                self._wait_ready(name)
        self.intake_url = self.service_urls["intake"]

    def _wait_ready(self, name: str, timeout: float = 120.0) -> None:
        process, url = self.services[name], self.service_urls[name]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and process.running:
            with contextlib.suppress(TimeoutError):
                wait_ready(url, timeout=1.0)
                return
        log_tail = (self.log_dir / f"{name}.log").read_text(errors="replace")[-3000:]
        state = "exited" if not process.running else f"was not ready within {timeout:.0f}s"
        raise RuntimeError(f"{name} {state}; its log ends:\n{log_tail}")

    def _service(self, name: str, kind: str, env: dict[str, str]) -> ManagedProcess:
        argv = [sys.executable, "-m", f"services.{kind}"]
        if kind in self.args.profile:
            suffix = "" if self.args.profiler == "pyinstrument" else "-sampler"
            argv = [
                sys.executable,
                "-m",
                "bench.run",
                "--serve-profiled",
                kind,
                "--profiler",
                self.args.profiler,
                "--profile-out",
                str(self.args.out.resolve() / f"profile-{name}{suffix}.txt"),
            ]
        return ManagedProcess(name, argv, env=env, log_path=self.log_dir / f"{name}.log")

    def _attach(self) -> None:
        import psutil

        self.owns_topology = False
        self.intake_url = self.args.use_running.rstrip("/")
        self.namespace = os.environ.get("NAMESPACE", "")
        self.amqp_url = os.environ.get("AMQP_URL", LOCAL_AMQP_URL)
        self.mongodb_url = os.environ.get("MONGODB_URL", "mongodb://127.0.0.1:27017")
        self.s3_endpoint_url = os.environ.get("S3_ENDPOINT_URL", "http://127.0.0.1:9000")
        self.s3_access_key_id = os.environ.get("S3_ACCESS_KEY_ID", "letters")
        self.s3_secret_access_key = os.environ.get("S3_SECRET_ACCESS_KEY", "letters-secret")
        wait_ready(self.intake_url, timeout=30)
        # The running stack's own processes: same namespace and database, not another session's.
        counts: dict[str, int] = {}
        for process in psutil.process_iter(["pid", "cmdline"]):
            cmdline = " ".join(process.info["cmdline"] or [])
            kind = next(
                (k for k in SERVICE_NAMES if f"services.{k}" in cmdline and "bench.run" not in cmdline), None
            )
            if kind is None:
                continue
            try:
                environ = process.environ()
            except psutil.Error:
                continue
            if environ.get("NAMESPACE", "") != self.namespace or environ.get(
                "MONGODB_URL", self.mongodb_url
            ) != (self.mongodb_url):
                continue
            counts[kind] = counts.get(kind, 0) + 1
            self.external_pids[kind if counts[kind] == 1 else f"{kind}-{counts[kind]}"] = process.info["pid"]

    def pids(self) -> dict[str, int]:
        found = {name: p.process.pid for name, p in self.services.items() if p.running}
        return found or dict(self.external_pids)

    def server_pids(self) -> dict[str, int]:
        return {p.name: p.process.pid for p in self.servers if p.running}

    def stop(self) -> None:
        # Services first (they drain their handlers, all at once), then the servers they were using.
        for process in self.services.values():
            if process.running:
                with contextlib.suppress(Exception):
                    process.process.send_signal(signal.SIGTERM)
        for process in self.services.values():
            with contextlib.suppress(Exception):
                process.terminate(timeout=40)
        for process in self.servers:
            with contextlib.suppress(Exception):
                process.terminate(timeout=10)
        if self.owns_topology and self.services:
            queues = [
                f"{self.namespace}.{name}{suffix}" for name in CONSUMER_QUEUES for suffix in ("", ".parking")
            ]
            exchanges = [f"{self.namespace}.letters", f"{self.namespace}.letters.dead"]
            queues, exchanges = broker_entities(self.namespace, self.amqp_url, queues, exchanges)
            with contextlib.suppress(Exception):
                asyncio.run(remove_topology(self.amqp_url, queues, exchanges))
        if self.data_dir and not self.args.keep:
            shutil.rmtree(self.data_dir, ignore_errors=True)


def broker_entities(
    namespace: str, amqp_url: str, queues: list[str], exchanges: list[str]
) -> tuple[list, list]:
    """All queues and exchanges of the namespace when the local broker can be asked, else the known ones.

    Services add queues as they grow (staff tokens, replies...): asking the broker misses none.
    """
    import subprocess

    if amqp_url != LOCAL_AMQP_URL or not shutil.which("rabbitmqctl"):
        return queues, exchanges
    found = []
    for kind in ("list_queues", "list_exchanges"):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            listed = subprocess.run(
                ["rabbitmqctl", kind, "-q", "--no-table-headers", "name"],
                capture_output=True,
                text=True,
                timeout=60,
                check=True,
            )
            found.append(
                [n.strip() for n in listed.stdout.splitlines() if n.strip().startswith(f"{namespace}.")]
            )
            continue
        found.append([])
    return sorted(set(queues) | set(found[0])), sorted(set(exchanges) | set(found[1]))


async def parked_messages(stack: Stack) -> int | None:
    """Messages in the namespace's parking lots: letters a service gave up on."""
    import aio_pika

    total = 0
    try:
        connection = await aio_pika.connect(stack.amqp_url, timeout=10)
        async with connection:
            for name in CONSUMER_QUEUES:
                channel = await connection.channel()
                with contextlib.suppress(aio_pika.exceptions.ChannelClosed):
                    queue = await channel.declare_queue(f"{stack.namespace}.{name}.parking", passive=True)
                    total += queue.declaration_result.message_count or 0
    except (OSError, aio_pika.exceptions.AMQPError):
        return None
    return total


async def declare_exchanges(amqp_url: str, namespace: str) -> None:
    """The namespace's exchanges, with the types and durability of shared/broker.py."""
    import aio_pika

    connection = await aio_pika.connect(amqp_url, timeout=10)
    async with connection:
        channel = await connection.channel()
        await channel.declare_exchange(f"{namespace}.letters", aio_pika.ExchangeType.TOPIC, durable=True)
        await channel.declare_exchange(
            f"{namespace}.letters.dead", aio_pika.ExchangeType.DIRECT, durable=True
        )


# --- resource monitor -----------------------------------------------------------------------------


class Monitor:
    """Samples each service's RSS (process and children) every 0.2 s; CPU seconds per phase."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.peak_mb: dict[str, float] = {}
        self.series: dict[str, list[tuple[float, float]]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-monitor", daemon=True)

    def start(self) -> Monitor:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)

    def _run(self) -> None:
        import psutil

        processes: dict[str, psutil.Process] = {}
        while not self._stop.is_set():
            now = time.time()
            for name, pid in self.stack.pids().items():
                try:
                    process = processes.get(name)
                    if process is None or process.pid != pid:
                        process = processes[name] = psutil.Process(pid)
                    rss = process.memory_info().rss
                    for child in process.children(recursive=True):
                        with contextlib.suppress(psutil.Error):
                            rss += child.memory_info().rss
                except psutil.Error:
                    continue
                mb = rss / 2**20
                self.peak_mb[name] = max(self.peak_mb.get(name, 0.0), mb)
                self.series.setdefault(name, []).append((now, round(mb, 1)))
            self._stop.wait(RSS_SAMPLE_S)


def cpu_seconds(stack: Stack) -> dict[str, float]:
    """CPU time used so far by each component (the services with their children)."""
    import psutil

    def total(process: psutil.Process) -> float:
        times = process.cpu_times()
        return times.user + times.system + times.children_user + times.children_system

    found: dict[str, float] = {}
    for name, pid in {**stack.pids(), **stack.server_pids()}.items():
        with contextlib.suppress(psutil.Error):
            process = psutil.Process(pid)
            found[name] = total(process) + sum(total(c) for c in process.children(recursive=True))
    rabbit = 0.0
    for process in psutil.process_iter(["name"]):
        if process.info["name"] == "beam.smp":
            with contextlib.suppress(psutil.Error):
                rabbit += total(process)
    found["rabbitmq"] = rabbit
    found["bench (load generator + floor)"] = total(psutil.Process())
    system = psutil.cpu_times()
    # Everything the machine's CPUs did, to tell how much went to processes outside this run.
    found[MACHINE_BUSY] = sum(system) - system.idle - getattr(system, "iowait", 0.0)
    return found


def cpu_delta(
    before: dict[str, float], after: dict[str, float], wall_s: float
) -> dict[str, dict[str, float]]:
    """CPU seconds and average cores per component over a phase; 'other' is the rest of the machine."""
    used = {name: after[name] - before.get(name, 0.0) for name in after}
    machine = used.pop(MACHINE_BUSY)
    used[OTHER] = max(0.0, machine - sum(used.values()))
    return {
        name: {"cpu_s": round(seconds, 2), "cores": round(seconds / wall_s, 2) if wall_s > 0 else None}
        for name, seconds in used.items()
    }


def per_letter(before: dict[str, float], after: dict[str, float], letters: int) -> dict[str, float]:
    """CPU milliseconds each component spent per letter: unlike letters/s, hardly moved by a busy machine."""
    used = {name: after[name] - before.get(name, 0.0) for name in after if name != MACHINE_BUSY}
    spent = {
        name: round(seconds * 1000 / max(1, letters), 1) for name, seconds in used.items() if seconds > 0.005
    }
    return {**spent, "total": round(sum(spent.values()), 1)}


# --- submitting letters ---------------------------------------------------------------------------


@dataclass
class Sent:
    number: int
    sent_at: float  # wall clock, s
    latency_ms: float | None = None
    status: int | None = None
    letter_id: str | None = None
    verdict: str | None = None
    error: str | None = None
    lag_ms: float = 0.0


async def submit(
    base_url: str,
    letters: list[dict],
    *,
    concurrency: int,
    rate: float | None,
    deadline: float,
    progress: bool,
    desc: str,
) -> list[Sent]:
    """POST every letter with `concurrency` clients; paced at `rate`/s when given (open loop)."""
    import httpx
    from tqdm import tqdm

    results: list[Sent] = []
    numbers = iter(range(len(letters)))
    bar = tqdm(
        total=len(letters),
        desc=desc,
        unit="letter",
        file=sys.stderr,
        disable=not progress,
        dynamic_ncols=True,
    )
    start = time.perf_counter() + 0.05

    async def client() -> None:
        async with httpx.AsyncClient(
            base_url=base_url,
            timeout=30.0,
            headers={"Accept-Language": "ru"},
            limits=httpx.Limits(max_connections=1),
        ) as http:
            for number in numbers:
                lag = 0.0
                if rate:
                    due = start + number / rate
                    if (wait := due - time.perf_counter()) > 0:
                        await asyncio.sleep(wait)
                    lag = max(0.0, time.perf_counter() - due) * 1000
                if time.time() > deadline:
                    return
                sent = Sent(number, time.time(), lag_ms=lag)
                began = time.perf_counter()
                try:
                    answer = await http.post("/api/v1/letters", json=letters[number])
                    sent.latency_ms = (time.perf_counter() - began) * 1000
                    sent.status = answer.status_code
                    if answer.status_code in (200, 201):
                        body = answer.json()
                        sent.letter_id, sent.verdict = body["id"], body["verdict"]
                    else:
                        sent.error = answer.text[:200]
                except httpx.HTTPError as error:
                    sent.error = repr(error)
                results.append(sent)
                bar.update()

    try:
        await asyncio.gather(*(client() for _ in range(concurrency)))
    finally:
        bar.close()
    return sorted(results, key=lambda s: s.number)


# --- reading the stages' timestamps ---------------------------------------------------------------


def as_epoch(value) -> float | None:
    """A stored time (a date, or nx-27017's text form of one: shared/mongo.py) as epoch seconds, the
    unit the benchmark's latencies are computed in."""
    when = read_time(value)
    return None if when is None else when.timestamp()


async def wait_for_pipeline(
    stack: Stack,
    expected: int,
    deadline: float,
    progress: bool,
    desc: str,
    on_step=None,
    stall_s: float = 60.0,
) -> dict[str, float | bool]:
    """Wait until delivery has `expected` letters and intake shows them all as queued.

    Only counts are asked for, twice a second: the letters themselves are read once, afterwards.
    """
    from pymongo import AsyncMongoClient
    from tqdm import tqdm

    mongo = AsyncMongoClient(stack.mongodb_url, tz_aware=True)
    outgoing = mongo[stack.db_name("delivery")]["outgoing"]
    intake_letters = mongo[stack.db_name("intake")]["letters"]
    bar = tqdm(
        total=expected, desc=desc, unit="letter", file=sys.stderr, disable=not progress, dynamic_ncols=True
    )
    state: dict[str, float | bool] = {"timed_out": False}
    last, moved_at = -1, time.time()
    try:
        while True:
            queued = await outgoing.estimated_document_count()
            bar.n = min(queued, expected)
            bar.refresh()
            if on_step:
                on_step(queued)
            if queued >= expected:
                break
            if queued != last:
                last, moved_at = queued, time.time()
            # A letter that fails keeps being redelivered, then parked: it never arrives.
            if time.time() > deadline or time.time() - moved_at > stall_s:
                state["timed_out"] = True
                state["stalled"] = time.time() - moved_at > stall_s
                return state
            await asyncio.sleep(POLL_S)
        state["queued_seen_at"] = time.time()
        # Intake's own record of the last status follows shortly after, through its progress queue.
        while await intake_letters.count_documents({"status": "queued"}) < expected:
            if time.time() > min(deadline, state["queued_seen_at"] + stall_s):
                state["timed_out"] = True
                break
            await asyncio.sleep(POLL_S)
        state["settled_at"] = time.time()
        return state
    finally:
        bar.close()
        await mongo.close()


# Where each stage's time is kept.
STAGE_FIELDS = {
    ("intake", "letters"): {"submitted_at": ("submitted_at",)},
    ("sorting", "letters"): {
        "received_at": ("received_at",),
        "ready_at": ("ready_at",),
        "scan_bytes": ("scan_bytes",),
        "scan_key": ("scan_key",),
    },
    ("delivery", "outgoing"): {"queued_at": ("queued_at",)},
}


async def read_stages(stack: Stack, ids: set[str]) -> dict[str, dict[str, float | int | None]]:
    """Each letter's stage times, read once after the run (no letter is polled during it)."""
    from pymongo import AsyncMongoClient

    mongo = AsyncMongoClient(stack.mongodb_url, tz_aware=True)
    stages: dict[str, dict[str, float | int | None]] = {i: {} for i in ids}
    try:
        for (service, collection), wanted in STAGE_FIELDS.items():
            projection = {name: 1 for names in wanted.values() for name in names}
            async for doc in mongo[stack.db_name(service)][collection].find({}, projection):
                if doc["_id"] not in stages:
                    continue
                for key, names in wanted.items():
                    value = next((doc[name] for name in names if doc.get(name) is not None), None)
                    stages[doc["_id"]][key] = value if key in ("scan_bytes", "scan_key") else as_epoch(value)
    finally:
        await mongo.close()
    return stages


def fetch_scan(stack: Stack, key: str) -> bytes:
    import boto3
    from botocore.client import Config

    client = boto3.client(
        "s3",
        endpoint_url=stack.s3_endpoint_url,
        aws_access_key_id=stack.s3_access_key_id,
        aws_secret_access_key=stack.s3_secret_access_key,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}),
    )
    return client.get_object(Bucket=stack.s3_bucket, Key=key)["Body"].read()


# --- the run ---------------------------------------------------------------------------------------


async def detained_prisoners(base_url: str) -> list[dict]:
    import httpx

    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        answer = await http.get("/api/v1/prisoners")
        answer.raise_for_status()
    receivers = [p for p in answer.json() if p.get("status") == "detained"]
    if not receivers:
        raise RuntimeError("intake lists no detained prisoner: was it started with DEMO_CAMPAIGN=true?")
    return receivers


async def measure(args: argparse.Namespace, stack: Stack) -> tuple[dict, dict]:
    from bench.floor import Servers, run_floor
    from bench.letters import make_letters
    from bench.report import per_second, percentiles

    progress = not args.quiet
    receivers = await detained_prisoners(stack.intake_url)
    letters = make_letters(
        args.warmup + args.letters,
        receivers,
        seed=args.seed,
        min_chars=args.min_chars,
        max_chars=args.max_chars,
    )
    warm, measured = letters[: args.warmup], letters[args.warmup :]
    mongo_before = await _outgoing_count(stack)

    # Warm-up: connections, caches, the font and the first-call costs, out of the numbers.
    deadline = time.time() + args.timeout
    warm_sent = (
        await submit(
            stack.intake_url,
            warm,
            concurrency=args.concurrency,
            rate=None,
            deadline=deadline,
            progress=False,
            desc="warm-up",
        )
        if warm
        else []
    )
    warm_ok = sum(1 for s in warm_sent if s.verdict == "ok")
    if warm_ok:
        warmed = await wait_for_pipeline(
            stack, mongo_before + warm_ok, deadline, False, "warm-up", stall_s=args.stall
        )
        if warmed["timed_out"]:
            raise RuntimeError(f"the warm-up letters did not reach delivery; see the logs in {stack.log_dir}")

    sorting_names = [n for n in stack.services if n.startswith("sorting")]
    held = args.hold_sorting and bool(sorting_names)
    if held:
        for name in sorting_names:
            stack.services[name].pause()
    signal_profiled(stack, signal.SIGUSR1)
    cpu_start, wall_start = cpu_seconds(stack), time.time()
    deadline = time.time() + args.timeout
    try:
        sent = await submit(
            stack.intake_url,
            measured,
            concurrency=args.concurrency,
            rate=args.rate,
            deadline=deadline,
            progress=progress,
            desc="submitted",
        )
    finally:
        resumed_at = time.time()
        if held:
            for name in sorting_names:
                stack.services[name].resume()
    accepted = [s for s in sent if s.letter_id]
    ok = [s for s in accepted if s.verdict == "ok"]
    state = await wait_for_pipeline(
        stack, mongo_before + warm_ok + len(ok), deadline, progress, "queued", stall_s=args.stall
    )
    wall_end = state.get("settled_at") or time.time()
    cpu_end = cpu_seconds(stack)
    signal_profiled(stack, signal.SIGUSR2)

    stages = await read_stages(stack, {s.letter_id for s in ok})
    sent_at = {s.letter_id: s.sent_at for s in ok}
    ready = {i: st["ready_at"] for i, st in stages.items() if st.get("ready_at")}
    queued = {i: st["queued_at"] for i, st in stages.items() if st.get("queued_at")}
    first_sent = min(s.sent_at for s in sent) if sent else wall_start
    last_answer = max((s.sent_at + (s.latency_ms or 0) / 1000 for s in sent), default=first_sent)
    last_queued = max(queued.values(), default=None)

    def between(key_from: str, key_to: str) -> list[float]:
        return [
            (st[key_to] - st[key_from]) * 1000
            for st in stages.values()
            if st.get(key_from) and st.get(key_to)
        ]

    letters_per_s = (
        len(queued) / (last_queued - first_sent) if last_queued and last_queued > first_sent else 0.0
    )
    result: dict = {
        "letters": args.letters,
        "concurrency": args.concurrency,
        "rate": args.rate,
        "sorting_processes": args.sorting_processes,
        "letters_per_s": round(letters_per_s, 2),
        "floor_letters_per_s": None,
        "ratio": None,
        "intake_latency_ms": percentiles([s.latency_ms for s in accepted]),
        "intake_throughput_per_s": round(len(accepted) / (last_answer - first_sent), 2)
        if last_answer > first_sent
        else None,
        "e2e_ready_ms": percentiles([(ready[i] - sent_at[i]) * 1000 for i in ready]),
        "e2e_queued_ms": percentiles([(queued[i] - sent_at[i]) * 1000 for i in queued]),
        "stages_ms": {
            "intake_to_sorting": percentiles(between("submitted_at", "received_at")),
            "sorting": percentiles(between("received_at", "ready_at")),
            "ready_to_queued": percentiles(between("ready_at", "queued_at")),
        },
        "rss_mb": {},
        "accepted": len(accepted),
        "verdicts": {
            v: sum(1 for s in accepted if s.verdict == v) for v in sorted({s.verdict for s in accepted})
        },
        "queued": len(queued),
        "errors": len(sent) - len(accepted),
        "first_errors": [f"{s.status}: {s.error}" for s in sent if not s.letter_id][:5],
        "timed_out": bool(state.get("timed_out")) or len(sent) < len(measured),
        "stalled": bool(state.get("stalled")),
        "parked": await parked_messages(stack),
        "duration_s": round(last_queued - first_sent, 2) if last_queued else None,
        "settled_s": round(wall_end - first_sent, 2),
        "letter_chars": {
            "min": min(len(x["body"]) for x in measured),
            "max": max(len(x["body"]) for x in measured),
            "mean": round(sum(len(x["body"]) for x in measured) / len(measured)),
        },
        "cpu": cpu_delta(cpu_start, cpu_end, wall_end - wall_start),
        "cpu_ms_per_letter": per_letter(cpu_start, cpu_end, len(ok)),
    }
    if args.rate:
        result["pacing_lag_ms"] = percentiles([s.lag_ms for s in sent])
    if held:
        drained = [t for t in ready.values() if t >= resumed_at]
        result["sorting_drain_per_s"] = (
            round(len(drained) / (max(drained) - resumed_at), 2) if drained else None
        )
    scan_sizes = [st["scan_bytes"] for st in stages.values() if st.get("scan_bytes")]
    result["scan_bytes_mean"] = round(sum(scan_sizes) / len(scan_sizes)) if scan_sizes else None
    samples = {
        "origin": first_sent,
        "intake_latency_ms": [s.latency_ms for s in accepted],
        "e2e_ready_ms": [(ready[i] - sent_at[i]) * 1000 for i in ready],
        "e2e_queued_ms": [(queued[i] - sent_at[i]) * 1000 for i in queued],
        "submitted_per_s": per_second([s.sent_at for s in sent], first_sent),
        "ready_per_s": per_second(list(ready.values()), first_sent),
        "queued_per_s": per_second(list(queued.values()), first_sent),
    }

    if not args.no_floor and ok:
        scan = next(
            (st["scan_key"] for st in stages.values() if st.get("scan_key") and st.get("ready_at")), None
        )
        real_pdf = fetch_scan(stack, scan) if scan else b"%PDF-1.3\n"
        # Each floor letter puts a PDF of its pipeline twin's scan size, cut from a real scan.
        pdfs = []
        for s in ok:
            size = stages[s.letter_id].get("scan_bytes") or len(real_pdf)
            pdfs.append((real_pdf * (size // len(real_pdf) + 1))[:size])
        floor_letters = [measured[s.number] for s in ok]
        servers = Servers(
            stack.amqp_url,
            stack.mongodb_url,
            stack.s3_endpoint_url,
            stack.s3_access_key_id,
            stack.s3_secret_access_key,
        )
        cpu_floor_start, floor_start = cpu_seconds(stack), time.time()
        floor = await run_floor(
            servers,
            f"{stack.namespace or 'bench'}f{secrets.token_hex(2)}",
            floor_letters,
            pdfs,
            concurrency=args.concurrency,
            timeout=args.timeout,
            progress=progress,
        )
        cpu_floor_end = cpu_seconds(stack)
        floor["cpu"] = cpu_delta(cpu_floor_start, cpu_floor_end, time.time() - floor_start)
        floor["cpu_ms_per_letter"] = per_letter(cpu_floor_start, cpu_floor_end, len(floor_letters))
        samples["floor_queued_per_s"] = floor.pop("queued_per_s", [])
        result["floor"] = floor
        result["floor_letters_per_s"] = floor["letters_per_s"]
        if floor["letters_per_s"]:
            result["ratio"] = round(result["letters_per_s"] / floor["letters_per_s"], 3)
    return result, samples


async def _outgoing_count(stack: Stack) -> int:
    from pymongo import AsyncMongoClient

    mongo = AsyncMongoClient(stack.mongodb_url)
    try:
        return await mongo[stack.db_name("delivery")]["outgoing"].estimated_document_count()
    finally:
        await mongo.close()


@contextlib.contextmanager
def running(stack: Stack, monitor: Monitor, phases: dict[str, float]):
    """Start the stack and its monitor; stop both afterwards, whatever happened meanwhile."""
    try:
        stack.start()
        phases["stack started"] = time.time()
        monitor.start()
        yield
    finally:
        # No second Ctrl-C may interrupt the clean-up: it is what leaves the broker tidy.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            monitor.stop()
            print("stopping the stack", file=sys.stderr)
            stack.stop()
        finally:
            signal.signal(signal.SIGINT, previous)
    phases["stopped"] = time.time()


def machine_info() -> dict:
    import psutil

    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpu_model": model,
        "cores_logical": psutil.cpu_count(),
        "cores_physical": psutil.cpu_count(logical=False),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def run(args: argparse.Namespace) -> dict:
    from bench.report import write_outputs

    args.out.mkdir(parents=True, exist_ok=True)
    log_dir = args.out / "logs"
    shutil.rmtree(log_dir, ignore_errors=True)
    log_dir.mkdir(parents=True)
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    machine = machine_info()
    stack = Stack(args, "b" + secrets.token_hex(4), log_dir)
    monitor = Monitor(stack)
    phases: dict[str, float] = {"begin": time.time()}
    if args.use_running:
        print(f"using the stack at {args.use_running}", file=sys.stderr)
    else:
        print(f"starting the stack (namespace {stack.namespace}, logs in {log_dir})", file=sys.stderr)
    with running(stack, monitor, phases):
        result, samples = asyncio.run(measure(args, stack))
        phases["measured"] = time.time()
    marks = list(phases.items())
    result["phases_s"] = {name: round(t - marks[i][1], 1) for i, (name, t) in enumerate(marks[1:])}
    result["rss_mb"] = {name: round(mb, 1) for name, mb in sorted(monitor.peak_mb.items())}
    result["started_at"] = started_at
    result["machine"] = {**machine, "loadavg_at_end": [round(x, 2) for x in os.getloadavg()]}
    result["namespace"] = stack.namespace
    result["stack"] = "running at " + stack.intake_url if args.use_running else "started by the benchmark"
    result["profiles"] = sorted(p.name for p in args.out.glob("profile-*")) if args.profile else []
    samples["rss_mb"] = {
        name: [(t - samples["origin"], mb) for t, mb in series] for name, series in monitor.series.items()
    }
    write_outputs(result, samples, args.out)
    return result


def serve_profiled(service: str, profiler: str, out: Path) -> int:
    """Run one service in this process; profile it between SIGUSR1 and SIGUSR2, then write the report."""
    import runpy

    from bench.report import EventLoopProfiler, ThreadSampler

    active = ThreadSampler() if profiler == "sampler" else EventLoopProfiler()

    def begin(*_):
        active.enable()

    def end(*_):
        active.disable()
        active.write(out, title=f"services.{service}")

    signal.signal(signal.SIGUSR1, begin)
    signal.signal(signal.SIGUSR2, end)
    sys.argv = [f"services.{service}"]
    try:
        runpy.run_module(f"services.{service}", run_name="__main__", alter_sys=True)
    finally:
        active.stop()
    return 0


def signal_profiled(stack: Stack, signum: int) -> None:
    for name, process in stack.services.items():
        if name.split("-")[0] in stack.args.profile and process.running:
            process.process.send_signal(signum)


def run_interruptibly(measure, args: argparse.Namespace) -> dict | None:
    """`measure(args)`, or None if it was interrupted. SIGTERM (a CI time-out, `kill`) unwinds like
    Ctrl-C, so the clean-up of everything the benchmark started runs either way."""
    def interrupted(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)
    try:
        return measure(args)
    except KeyboardInterrupt:
        print("interrupted; everything the benchmark started is stopped", file=sys.stderr)
        return None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve_profiled:
        return serve_profiled(args.serve_profiled, args.profiler, args.profile_out)

    result = run_interruptibly(run, args)
    if result is None:
        return 130
    summary = {
        k: result[k]
        for k in (
            "letters",
            "concurrency",
            "letters_per_s",
            "floor_letters_per_s",
            "ratio",
            "intake_latency_ms",
            "e2e_ready_ms",
            "e2e_queued_ms",
            "rss_mb",
        )
    }
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    print(f"wrote {args.out / 'result.json'} and {args.out / 'result.png'}", file=sys.stderr)
    failed = (
        result["timed_out"]
        or result["queued"] < result["letters"]
        or math.isclose(result["letters_per_s"], 0)
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
