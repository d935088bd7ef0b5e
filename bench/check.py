"""Latency of `POST /api/v1/letters/check` under a paced stream, and intake's RSS (see bench/README.md).

`python -m bench.check [--rate 20] [--seconds 30] [--chars 200 2000] [--runs 3]` starts the real stack
the way `bench.run` does (its `Stack`: nx-27017, moto, the machine's RabbitMQ, the three services as
processes, a fresh namespace, intake's per-address limits lifted), then for each run and each length
sends an open-loop stream: request *i* leaves at *i/rate* s whatever the answers before it, as the
writer page's checks arrive from many writers typing at once. Every request is a different typed
letter of that length (bench.letters' phrases) with the writer's first name and city, sent from one
of `--writers` addresses in turn (`X-Forwarded-For`, which intake's server trusts from 127.0.0.1 as it
would from the proxy in front of it): the writer page's checks come from many writers, each well
under the per-address limit, not from one address at 20 per second. It reports
latency percentiles, errors, intake's CPU per request and intake's RSS with the language tools
loaded, writes OUT/check.json and stops everything it started. All traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import secrets
import shutil
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.run import (
    Monitor,
    Stack,
    cpu_delta,
    cpu_seconds,
    detained_prisoners,
    machine_info,
    run_interruptibly,
    running,
)
from bench.screening import sized_letters

ROOT = Path(__file__).resolve().parent.parent
CHECK_PATH = "/api/v1/letters/check"
TARGET_P95_MS = 100.0
REQUEST_TIMEOUT_S = 10.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.check",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--rate", type=float, default=20.0, help="requests per second, open loop (default 20)"
    )
    parser.add_argument(
        "--seconds", type=float, default=30.0, help="length of each measured stream (default 30)"
    )
    parser.add_argument(
        "--chars",
        type=int,
        nargs="+",
        default=[200, 2000],
        help="letter lengths, each measured (default 200 2000)",
    )
    parser.add_argument(
        "--runs", type=int, default=3, help="streams per length; medians are reported (default 3)"
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=20,
        help="requests of each length sent first, one at a time, not measured",
    )
    parser.add_argument(
        "--writers",
        type=int,
        default=40,
        help="writers typing at once: requests come from this many client addresses in turn (default 40, "
        "so each writer's page checks every 2 s at 20 requests/s)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out", help="where check.json goes")
    parser.add_argument("--seed", type=int, default=1, help="letter generator seed")
    parser.add_argument("--log-level", default="INFO", help="the services' LOG_LEVEL (production: INFO)")
    args = parser.parse_args(argv)
    if args.rate <= 0 or args.seconds <= 0 or args.runs < 1 or args.warmup < 0 or args.writers < 1:
        parser.error("--rate and --seconds must be positive, --runs and --writers at least 1, --warmup at least 0")
    if any(c < 1 for c in args.chars):
        parser.error("--chars must be positive")
    return args


def stack_args(args: argparse.Namespace) -> argparse.Namespace:
    """What bench.run's Stack reads from its arguments: one sorting process, no profiling, a started stack."""
    return argparse.Namespace(
        use_running=None,
        log_level=args.log_level,
        sorting_processes=1,
        profile=[],
        profiler="pyinstrument",
        out=args.out,
        keep=False,
    )


# --- statistics ---------------------------------------------------------------------------------------


def spread(values: list[float]) -> dict[str, float | None]:
    """p50/p95/p99 by nearest rank (observed values, as bench.report.percentiles) and max."""
    values = sorted(v for v in values if v is not None)
    if not values:
        return {"p50": None, "p95": None, "p99": None, "max": None}

    def pick(q: float) -> float:
        return round(values[min(len(values), max(1, math.ceil(q * len(values)))) - 1], 1)

    return {"p50": pick(0.50), "p95": pick(0.95), "p99": pick(0.99), "max": round(values[-1], 1)}


def median(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 1) if values else None


def rss_mb(pid: int) -> float | None:
    """RSS of a process and its children now, MB (as bench.run's Monitor counts it)."""
    import psutil

    try:
        process = psutil.Process(pid)
        rss = process.memory_info().rss
        for child in process.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                rss += child.memory_info().rss
    except psutil.Error:
        return None
    return round(rss / 2**20, 1)


def peak_between(monitor: Monitor, name: str, start: float, end: float) -> float | None:
    samples = [mb for t, mb in monitor.series.get(name, []) if start <= t <= end]
    return max(samples) if samples else None


# --- sending -----------------------------------------------------------------------------------------


def check_body(letter: dict) -> dict:
    """What the writer page sends to /check: the submission as typed so far, writer's name and city included."""
    return {key: letter[key] for key in ("prisoner_id", "body", "client_ref", "author", "source")}


def writer_address(number: int) -> str:
    """The client address of writer `number`, in the benchmarking range 198.18.0.0/15 (RFC 2544)."""
    return f"198.18.{number // 256 % 256}.{number % 256}"


async def one_check(http, body: dict, writer: int = 0) -> dict:
    import httpx

    began = time.perf_counter()
    answer: dict = {"sent": began}
    try:
        response = await http.post(CHECK_PATH, json=body, headers={"X-Forwarded-For": writer_address(writer)})
        answer["latency_ms"] = (time.perf_counter() - began) * 1000
        answer["status"] = response.status_code
        if response.status_code == 200:
            answer["verdict"] = response.json().get("verdict")
        else:
            answer["error"] = f"{response.status_code}: {response.text[:200]}"
    except httpx.HTTPError as error:
        answer["latency_ms"] = (time.perf_counter() - began) * 1000
        answer["error"] = repr(error)
    answer["done"] = time.perf_counter()
    return answer


def client(base_url: str):
    import httpx

    return httpx.AsyncClient(
        base_url=base_url,
        timeout=REQUEST_TIMEOUT_S,
        headers={"Accept-Language": "ru"},
        limits=httpx.Limits(max_connections=256, max_keepalive_connections=64),
    )


async def closed_loop(base_url: str, letters: list[dict]) -> list[dict]:
    """One request at a time (the warm-up)."""
    async with client(base_url) as http:
        return [await one_check(http, check_body(letter)) for letter in letters]


async def paced(base_url: str, letters: list[dict], rate: float, seconds: float, writers: int) -> dict:
    """Open loop: request i leaves at start + i/rate, on its own connection when the others are busy."""
    async with client(base_url) as http:
        # One answered request first, so the stream starts on an open keep-alive connection.
        await one_check(http, check_body(letters[-1]))
        start = time.perf_counter() + 0.1

        async def scheduled(number: int) -> dict:
            due = start + number / rate
            if (wait := due - time.perf_counter()) > 0:
                await asyncio.sleep(wait)
            answer = await one_check(http, check_body(letters[number]), writer=number % writers)
            answer["lag_ms"] = max(0.0, answer["sent"] - due) * 1000
            answer["from_schedule_ms"] = (answer["done"] - due) * 1000
            return answer

        tasks = [asyncio.create_task(scheduled(n)) for n in range(len(letters) - 1)]
        try:
            answers = await asyncio.wait_for(asyncio.gather(*tasks), timeout=seconds + REQUEST_TIMEOUT_S + 20)
        finally:
            for task in tasks:
                task.cancel()
    answered = [a for a in answers if a.get("status") == 200]
    errors = [a for a in answers if a.get("status") != 200]
    wall = max(a["done"] for a in answers) - start if answers else 0.0
    verdicts: dict[str, int] = {}
    for a in answered:
        verdicts[a["verdict"]] = verdicts.get(a["verdict"], 0) + 1
    return {
        "requests": len(answers),
        "answered": len(answered),
        "errors": len(errors),
        "first_errors": [a.get("error") for a in errors][:5],
        "verdicts": dict(sorted(verdicts.items())),
        "latency_ms": spread([a["latency_ms"] for a in answered]),
        "from_schedule_ms": spread([a["from_schedule_ms"] for a in answered]),
        "pacing_lag_ms": spread([a["lag_ms"] for a in answers]),
        "achieved_rate": round(len(answers) / wall, 2) if wall > 0 else None,
        "duration_s": round(wall, 2),
    }


# --- the run -----------------------------------------------------------------------------------------


async def prisoners_of(stack: Stack) -> list[dict]:
    return await detained_prisoners(stack.intake_url)


def measure(args: argparse.Namespace, stack: Stack, monitor: Monitor) -> dict:
    intake_pid = stack.pids()["intake"]
    result: dict = {"rss_mb": {"intake": {"at_ready": rss_mb(intake_pid)}}}
    for name, pid in stack.pids().items():
        if name != "intake":
            result["rss_mb"][name] = {"at_ready": rss_mb(pid)}
    prisoners = asyncio.run(prisoners_of(stack))
    per_run = max(1, round(args.rate * args.seconds))
    letters = {
        chars: [
            sized_letters(per_run + 1, chars, prisoners, seed=args.seed * 1000 + run)
            for run in range(args.runs)
        ]
        for chars in args.chars
    }
    warm = {
        chars: sized_letters(max(1, args.warmup), chars, prisoners, seed=args.seed * 1000 + 999)
        for chars in args.chars
    }

    # The first check loads the language tools in intake (if it did not at start-up): its cost, apart.
    first = asyncio.run(closed_loop(stack.intake_url, warm[max(args.chars)][:1]))[0]
    result["first_check_ms"] = round(first["latency_ms"], 1)
    result["first_check_status"] = first.get("status")
    result["rss_mb"]["intake"]["after_first_check"] = rss_mb(intake_pid)
    warm_errors = 0
    for chars in args.chars:
        if args.warmup:
            warm_errors += sum(
                1 for a in asyncio.run(closed_loop(stack.intake_url, warm[chars])) if a.get("status") != 200
            )
    result["warmup_errors"] = warm_errors
    result["rss_mb"]["intake"]["after_warmup"] = rss_mb(intake_pid)

    runs: dict[int, list[dict]] = {chars: [] for chars in args.chars}
    measured_from = time.time()
    # Lengths alternate inside each run, so a slow minute of the shared machine hits both alike.
    for run in range(args.runs):
        for chars in args.chars:
            batch = letters[chars][run]
            cpu_start, wall_start = cpu_seconds(stack), time.time()
            stream = asyncio.run(paced(stack.intake_url, batch, args.rate, args.seconds, args.writers))
            wall_end = time.time()
            cpu = cpu_delta(cpu_start, cpu_seconds(stack), wall_end - wall_start)
            intake_cpu = cpu.get("intake", {}).get("cpu_s")
            stream["intake_cpu_ms_per_request"] = (
                round(intake_cpu * 1000 / (stream["requests"] + 1), 2) if intake_cpu is not None else None
            )
            stream["cpu"] = cpu
            stream["intake_rss_peak_mb"] = peak_between(monitor, "intake", wall_start, wall_end)
            stream["chars_per_letter"] = {
                "min": min(len(x["body"]) for x in batch),
                "mean": round(sum(len(x["body"]) for x in batch) / len(batch)),
                "max": max(len(x["body"]) for x in batch),
            }
            runs[chars].append(stream)
            lat = stream["latency_ms"]
            print(
                f"run {run + 1}/{args.runs}, {chars} chars: {stream['requests']} requests, "
                f"{stream['errors']} errors, p50 {lat['p50']} p95 {lat['p95']} p99 {lat['p99']} max {lat['max']} ms",
                file=sys.stderr,
            )
    measured_to = time.time()

    result["by_chars"] = {}
    for chars, streams in runs.items():
        p95 = median([s["latency_ms"]["p95"] for s in streams])
        result["by_chars"][str(chars)] = {
            "chars_per_letter": {
                "min": min(s["chars_per_letter"]["min"] for s in streams),
                "mean": round(statistics.mean(s["chars_per_letter"]["mean"] for s in streams)),
                "max": max(s["chars_per_letter"]["max"] for s in streams),
            },
            "latency_ms": {
                key: median([s["latency_ms"][key] for s in streams]) for key in ("p50", "p95", "p99", "max")
            },
            "p95_runs": [s["latency_ms"]["p95"] for s in streams],
            "max_of_runs_ms": max((s["latency_ms"]["max"] or 0) for s in streams),
            "from_schedule_p95_ms": median([s["from_schedule_ms"]["p95"] for s in streams]),
            "pacing_lag_p95_ms": median([s["pacing_lag_ms"]["p95"] for s in streams]),
            "requests": sum(s["requests"] for s in streams),
            "answered": sum(s["answered"] for s in streams),
            "errors": sum(s["errors"] for s in streams),
            "achieved_rate": median([s["achieved_rate"] for s in streams]),
            "intake_cpu_ms_per_request": median([s["intake_cpu_ms_per_request"] for s in streams]),
            "intake_rss_peak_mb": max((s["intake_rss_peak_mb"] or 0) for s in streams) or None,
            "target_p95_ms": TARGET_P95_MS,
            "p95_met": p95 is not None and p95 <= TARGET_P95_MS,
            "runs": streams,
        }
    for name in result["rss_mb"]:
        result["rss_mb"][name]["peak_measured"] = peak_between(monitor, name, measured_from, measured_to)
    intake = result["rss_mb"]["intake"]
    if intake["at_ready"] is not None and intake["after_first_check"] is not None:
        intake["first_check_added"] = round(intake["after_first_check"] - intake["at_ready"], 1)
    return result


def run(args: argparse.Namespace) -> dict:
    args.out.mkdir(parents=True, exist_ok=True)
    log_dir = args.out / "logs-check"
    shutil.rmtree(log_dir, ignore_errors=True)
    log_dir.mkdir(parents=True)
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    machine = machine_info()
    stack = Stack(stack_args(args), "b" + secrets.token_hex(4), log_dir)
    monitor = Monitor(stack)
    phases: dict[str, float] = {"begin": time.time()}
    print(f"starting the stack (namespace {stack.namespace}, logs in {log_dir})", file=sys.stderr)
    with running(stack, monitor, phases):
        result = measure(args, stack, monitor)
        phases["measured"] = time.time()
    marks = list(phases.items())
    for name, peak in monitor.peak_mb.items():
        result["rss_mb"].setdefault(name, {})["peak"] = round(peak, 1)
    result = {
        "settings": {
            "rate": args.rate,
            "seconds": args.seconds,
            "chars": args.chars,
            "runs": args.runs,
            "warmup": args.warmup,
            "writers": args.writers,
            "seed": args.seed,
            "path": CHECK_PATH,
        },
        **result,
        "phases_s": {name: round(t - marks[i][1], 1) for i, (name, t) in enumerate(marks[1:])},
        "started_at": started_at,
        "machine": {**machine, "loadavg_at_end": [round(x, 2) for x in os.getloadavg()]},
        "namespace": stack.namespace,
    }
    (args.out / "check.json").write_text(
        json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return result


def table(result: dict) -> str:
    settings = result["settings"]
    lines = [
        f"POST {settings['path']} at {settings['rate']:g}/s for {settings['seconds']:g} s, {settings['runs']} run(s) per length"
    ]
    header = f"{'chars':>6}  {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7}  {'p95 runs':<24} {'errors':>6} {'rate':>6} {'cpu/req':>7}  p95<=100"
    lines.append(header)
    for chars, row in result["by_chars"].items():
        lat = row["latency_ms"]
        lines.append(
            f"{chars:>6}  {lat['p50']:>7} {lat['p95']:>7} {lat['p99']:>7} {lat['max']:>7}  "
            f"{', '.join(map(str, row['p95_runs'])):<24} {row['errors']:>6} {row['achieved_rate']:>6} "
            f"{row['intake_cpu_ms_per_request']:>7}  {'met' if row['p95_met'] else 'NOT met'}"
        )
    intake = result["rss_mb"]["intake"]
    lines.append(
        f"intake RSS MB: at ready {intake.get('at_ready')}, after the first check {intake.get('after_first_check')} "
        f"(+{intake.get('first_check_added')}), after warm-up {intake.get('after_warmup')}, "
        f"peak {intake.get('peak')}; first check {result['first_check_ms']} ms"
    )
    others = ", ".join(f"{n} {v.get('peak')}" for n, v in result["rss_mb"].items() if n != "intake")
    lines.append(f"other services' peak RSS MB: {others}")
    lines.append(
        f"load average {result['machine']['loadavg_at_start']} -> {result['machine']['loadavg_at_end']}"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    result = run_interruptibly(run, args)
    if result is None:
        return 130
    print(table(result))
    print(f"wrote {args.out / 'check.json'}", file=sys.stderr)
    failed = result["first_check_status"] != 200 or any(
        row["errors"] or row["answered"] == 0 for row in result["by_chars"].values()
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
