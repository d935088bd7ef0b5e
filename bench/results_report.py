"""Benchmark of the campaign's results over 100,000 letters: `python -m bench.results_report`.

Not a test. Seeds a scratch MongoDB database directly (insert_many in batches) with letters of
the same shape MongoLetters.insert and record_status produce — period keys, `<status>_at` for
every status a letter reached (times written as `stored_time` writes them), finding categories,
moderation outcome, reasons — plus a prisoner
directory and campaign events, then times the full report (every figure, as the API and the CLI
build it) and prints the median of 5 runs.

Against MONGODB_URL when given; otherwise it starts its own nx-27017 (the embedded stand-in the
tests use) in a temporary folder and stops it afterwards. The scratch database is dropped at the
end either way.

    python -m bench.results_report                      # 100,000 letters, 5 runs
    python -m bench.results_report --letters 20000 --runs 3 --keep
    MONGODB_URL=mongodb://127.0.0.1:27017 python -m bench.results_report --reuse bench-results-1a2b3c
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psutil
from pymongo import AsyncMongoClient
from tqdm import tqdm

from bench.letters import WRITERS, letter_body, target_length
from deploy.local import free_port, mongo_server, port_answers, wait_until
from services.intake.adapters import MongoLetters, MongoPrisoners
from services.intake.domain import REACHED_STATUSES, STATUS_RANK
from services.intake.results.domain import ReportFilter
from services.intake.results.places import stored_place
from services.intake.results.queries import ResultsQueries
from services.intake.results.report import build_report
from shared.mongo import learn_server, stored_times

BATCH = 2_000
YEAR = 2026
PRISONERS = 180
CATEGORIES = [
    "slogans",
    "symbols",
    "war_politics",
    "officials",
    "case_details",
    "personal_data",
    "handwritten",
]
# Cities and countries as writers type them, a few spelt two ways, and some left empty.
CITIES = [
    ("Київ", "UA", 20),
    ("Kyiv", "UA", 6),
    ("Львів", "UA", 10),
    ("Харків", "UA", 6),
    ("Одеса", "UA", 6),
    ("Дніпро", "UA", 5),
    ("Полтава", "UA", 4),
    ("Вінниця", "UA", 3),
    ("Чернівці", "UA", 2),
    ("Ужгород", "UA", 1),
    ("Berlin", "DE", 5),
    ("Praha", "CZ", 4),
    ("Warszawa", "PL", 4),
    ("Kraków", "PL", 2),
    ("Vilnius", "LT", 1),
    ("Tallinn", "EE", 1),
    ("Herceg Novi", "ME", 1),
    (None, None, 8),
]
EVENT_CITIES = [
    ("Київ", "UA"),
    ("Львів", "UA"),
    ("Харків", "UA"),
    ("Одеса", "UA"),
    ("Дніпро", "UA"),
    ("Berlin", "DE"),
    ("Praha", "CZ"),
    ("Warszawa", "PL"),
]


def campaign_events(count: int = 28) -> list[dict]:
    events = []
    for number in range(count):
        city, country = EVENT_CITIES[number % len(EVENT_CITIES)]
        starts = date(YEAR, 1, 10) + timedelta(days=12 * number)
        events.append(
            {
                "_id": f"e_bench_{number:02d}",
                "name": f"Evening of letters {number + 1}",
                "city": city,
                "country": country,
                "starts_on": starts.isoformat(),
                "ends_on": (starts + timedelta(days=1)).isoformat(),
            }
        )
    return events


def prisoners(count: int = PRISONERS) -> list[dict]:
    rng = random.Random(7)
    directory = []
    for number in range(count):
        birthday = date(1960 + rng.randrange(40), 1 + rng.randrange(12), 1 + rng.randrange(28))
        status = "released" if number % 30 == 29 else "detained"
        directory.append(
            {
                "_id": f"p_bench_{number:03d}",
                "names": {"uk": f"В'язень {number}", "ru": f"Узник {number}", "en": f"Prisoner {number}"},
                "description": {},
                "status": status,
                "birthday": birthday.isoformat() if rng.random() < 0.6 else None,
                "letters_received": 0,
                "notes": None,
            }
        )
    return directory


def letter_document(
    rng: random.Random, events: list[dict], prisoner_ids: list[str], weights: list[float]
) -> dict:
    """One letter as MongoLetters.insert stores it, moved along as record_status would move it."""
    submitted = datetime(YEAR, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(365 * 86400))
    letter_id = "l_" + secrets.token_hex(10)
    kind = rng.random()
    event = rng.choice(events) if kind < 0.45 else None
    channel = "kiosk" if event and kind < 0.35 else "web"
    paper = rng.random() < 0.1
    city, country, _ = rng.choices(CITIES, weights=[c[2] for c in CITIES])[0]
    writer = rng.choice(WRITERS)
    body = "" if paper else letter_body(rng, "Ремзи", writer, target_length(rng))
    iso_year, iso_week, _ = submitted.isocalendar()
    doc = {
        "_id": letter_id,
        "client_ref": secrets.token_hex(16),
        "fingerprint": hashlib.sha256(body.encode()).hexdigest(),
        "prisoner_id": rng.choices(prisoner_ids, weights=weights)[0],
        "body": body,
        "channel": channel,
        "campaign_event_id": event["_id"] if event else None,
        "kiosk_id": f"k_{event['_id']}" if channel == "kiosk" else None,
        "writer_display_name": writer[0],
        "writer_city": city,
        "writer_country": country,
        "contact_ciphertext": None,
        "contact_lookup": None,
        "page_keys": [f"pages/{secrets.token_urlsafe(24)}.jpg"] if paper else [],
        "status": "received",
        "submitted_at": submitted,
        "status_rank": 0,
        "submitted_day": submitted.strftime("%Y-%m-%d"),
        "submitted_week": f"{iso_year}-W{iso_week:02d}",
        "submitted_month": submitted.strftime("%Y-%m"),
        # As MongoLetters.insert: the time counted and its day (here the receipt's) and the place as typed.
        "written_at": submitted,
        "counted_at": submitted,
        "written_day": submitted.strftime("%Y-%m-%d"),
        "place": stored_place(city, country, event["_id"] if event else None),
    }
    _progress(rng, doc, paper)
    # As record_status keeps it with the status.
    doc["reached_prisoner"] = doc["prisoner_id"] if doc["status"] in REACHED_STATUSES else None
    return stored_times(doc)


def _progress(rng: random.Random, doc: dict, paper: bool) -> None:
    at = doc["submitted_at"]

    def reach(status: str, after_s: float, **facts) -> None:
        nonlocal at
        at += timedelta(seconds=after_s)
        doc[f"{status}_at"] = at
        doc.update(facts)
        if STATUS_RANK[status] > doc["status_rank"]:
            doc.update(status=status, status_rank=STATUS_RANK[status], status_at=at, status_changed_at=at)

    flagged = paper or rng.random() < 0.2
    if flagged:
        categories = ["handwritten"] if paper else rng.sample(CATEGORIES[:-1], rng.choice((1, 1, 2)))
        reach("review_needed", 60, finding_categories=categories)
        if rng.random() < 0.08:
            reach("rejected", 3600 * rng.uniform(1, 48), rejected_reason="slogans")
            return
        reach("ready", 3600 * rng.uniform(1, 48), moderation=rng.choice(("approved", "approved", "redacted")))
    else:
        reach("ready", rng.uniform(5, 60), moderation="auto")
    if rng.random() < 0.05:
        return  # still on its way
    reach("queued", 5)
    if rng.random() < 0.04:
        reach("held", 3600, held_reason="prisoner transferred")
        return
    reach("bundled", 86400 * rng.uniform(0.2, 3))
    reach("sent", 600)
    outcome = rng.random()
    if outcome < 0.06:
        reach("blocked", 86400 * rng.uniform(3, 20), blocked_reason="censor: content")
    elif outcome < 0.10:
        reach("returned", 86400 * rng.uniform(3, 20), returned_reason="addressee moved")
    elif outcome < 0.85:
        reach("handed_over", 86400 * rng.lognormvariate(1.8, 0.5))
        if rng.random() < 0.08:
            reach("answered", 86400 * rng.uniform(10, 60))


async def seed(db, letters: int, seed_value: int = 2026) -> None:
    rng = random.Random(seed_value)
    events = campaign_events()
    directory = prisoners()
    await db["campaign_events"].insert_many(events)
    prisoner_ids = [p["_id"] for p in directory]
    # A long tail: some prisoners get many letters, some very few, a handful none at all.
    weights = [0.0 if n % 45 == 44 else 1.0 / (1 + n) ** 0.7 for n in range(len(prisoner_ids))]
    received: dict[str, int] = {}
    with tqdm(total=letters, desc="seeding letters", unit="letter") as bar:
        for start in range(0, letters, BATCH):
            batch = [
                letter_document(rng, events, prisoner_ids, weights)
                for _ in range(min(BATCH, letters - start))
            ]
            await db["letters"].insert_many(batch, ordered=False)
            for doc in batch:
                received[doc["prisoner_id"]] = received.get(doc["prisoner_id"], 0) + 1
            bar.update(len(batch))
    await db["prisoners"].insert_many(
        [{**p, "letters_received": received.get(p["_id"], 0)} for p in directory]
    )


async def prepare(db) -> None:
    """The indexes a running intake has: its own and the results' (created before the letters arrive)."""
    await MongoLetters(db).ensure_indexes()
    await MongoPrisoners(db).ensure_indexes()
    await ResultsQueries(db).ensure_indexes()


async def catch_up_delays(db) -> int:
    """Seeded letters arrive handed over at once; a running intake notes their delays a few at a time."""
    queries, noted = ResultsQueries(db), 0
    with tqdm(desc="noting hand-over delays", unit="letter") as bar:
        while batch := await queries.note_handover_delays():
            noted += batch
            bar.update(batch)
    return noted


async def time_report(db, runs: int, server: psutil.Process | None) -> list[float]:
    """The full report for the year, as the API builds it: wall time, and the database server's CPU time."""
    queries = ResultsQueries(db)
    report_filter = ReportFilter(date_from=date(YEAR, 1, 1), date_to=date(YEAR, 12, 31))
    timings, server_cpu = [], []
    for _ in range(runs):
        cpu = _cpu(server)
        started = time.perf_counter()
        report = await build_report(queries, report_filter, today=date(YEAR, 12, 1))
        timings.append(time.perf_counter() - started)
        server_cpu.append(_cpu(server) - cpu)
    print(f"report: {report.totals.letters} letters, {len(report.by_day)} days, "
          f"{report.prisoners.reached} prisoners reached, handed over {report.delivery.handed_over}")
    if server is not None:
        print("nx-27017 CPU per report: " + ", ".join(f"{t:.3f}s" for t in server_cpu)
              + f" (median {statistics.median(server_cpu):.3f}s)")
    print(f"load average while timing: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return timings


def _cpu(process: psutil.Process | None) -> float:
    if process is None:
        return 0.0
    times = process.cpu_times()
    return times.user + times.system


async def run(url: str, letters: int, runs: int, keep: bool, server: psutil.Process | None,
              reuse: str | None = None) -> list[float]:
    client = AsyncMongoClient(url, tz_aware=True)
    await learn_server(client)  # as the services do: times in the form this server sorts
    db = client[reuse or f"bench-results-{secrets.token_hex(3)}"]
    keep = keep or bool(reuse)
    try:
        if reuse:
            print(f"timing the letters already in {db.name}")
        else:
            await prepare(db)
            started = time.perf_counter()
            await seed(db, letters)
            print(f"seeded {letters} letters in {time.perf_counter() - started:.1f}s into {db.name}")
            started = time.perf_counter()
            noted = await catch_up_delays(db)
            print(f"noted {noted} hand-over delays in {time.perf_counter() - started:.1f}s (once per letter)")
        return await time_report(db, runs, server)
    finally:
        if not keep:
            await client.drop_database(db.name)
        await client.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--reuse", metavar="DATABASE", help="time a database kept by --keep (needs MONGODB_URL)")
    args = parser.parse_args(argv)
    if args.reuse and not os.environ.get("MONGODB_URL"):
        parser.error("--reuse needs MONGODB_URL")
    url = os.environ.get("MONGODB_URL")
    process, scratch = None, None
    if not url:
        scratch = Path(tempfile.mkdtemp(prefix="bench-results-"))
        port = free_port()
        process = mongo_server(scratch / "data", port, scratch).start()
        wait_until(lambda: port_answers("127.0.0.1", port), 30, "nx-27017")
        url = f"mongodb://127.0.0.1:{port}"
    try:
        server = psutil.Process(process.process.pid) if process is not None else None
        timings = asyncio.run(run(url, args.letters, args.runs, args.keep, server, args.reuse))
    finally:
        if process is not None:
            process.terminate()
            shutil.rmtree(scratch, ignore_errors=True)
    print("runs: " + ", ".join(f"{t:.3f}s" for t in timings))
    print(f"median of {len(timings)} runs over {args.letters} letters: {statistics.median(timings):.3f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
