"""The benchmark runs end to end at a tiny size and writes the result it documents (bench/README.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

LATENCY_KEYS = {"p50", "p95", "p99"}


@pytest.fixture(scope="module")
def bench_result(tmp_path_factory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("bench-out")
    command = [
        sys.executable,
        "-m",
        "bench.run",
        "--letters",
        "20",
        "--concurrency",
        "4",
        "--warmup",
        "0",
        "--timeout",
        "60",
        "--out",
        str(out),
        "--quiet",
    ]
    # The run bounds its own phases; this outer limit only catches a hang of the whole process.
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=150, check=False)
    assert finished.returncode == 0, (
        f"bench.run failed:\n{finished.stdout[-2000:]}\n{finished.stderr[-4000:]}"
    )
    return json.loads((out / "result.json").read_text(encoding="utf-8")), out


def test_the_benchmark_reports_throughput_against_the_io_floor(bench_result):
    result, _ = bench_result
    assert result["letters"] == 20 and result["concurrency"] == 4 and result["sorting_processes"] == 1
    assert result["queued"] == 20 and result["errors"] == 0 and not result["timed_out"]
    assert result["letters_per_s"] > 0
    assert result["floor_letters_per_s"] > 0
    assert result["ratio"] == pytest.approx(result["letters_per_s"] / result["floor_letters_per_s"], rel=0.01)
    assert result["intake_throughput_per_s"] > 0


def test_latencies_are_percentiles_in_rising_order(bench_result):
    result, _ = bench_result
    for key in ("intake_latency_ms", "e2e_ready_ms", "e2e_queued_ms"):
        latency = result[key]
        assert set(latency) == LATENCY_KEYS, key
        assert 0 < latency["p50"] <= latency["p95"] <= latency["p99"], key
    # A letter is queued by delivery only after sorting stored its scan, and both after intake answered.
    assert result["e2e_queued_ms"]["p50"] >= result["e2e_ready_ms"]["p50"] > 0


def test_each_service_process_memory_is_sampled(bench_result):
    result, _ = bench_result
    assert set(result["rss_mb"]) == {"intake", "sorting", "delivery"}
    assert all(20 < mb < 2000 for mb in result["rss_mb"].values()), result["rss_mb"]


def test_the_run_names_when_and_where_it_ran_and_draws_its_chart(bench_result):
    result, out = bench_result
    assert result["started_at"]
    assert result["machine"]["cores_logical"] >= 1
    assert result["cpu_ms_per_letter"]["total"] > 0
    assert (out / "result.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_run_leaves_no_queue_behind(bench_result):
    import asyncio

    from tests.support import queue_exists

    result, _ = bench_result

    namespace = result["namespace"]
    assert not asyncio.run(queue_exists(f"{namespace}.sorting.letter-received"))
