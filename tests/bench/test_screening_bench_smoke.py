"""bench.screening and bench.check run at a tiny size and write the results bench/README.md documents.

A check that the tooling works, not of speed: no number here is compared with a target.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

ROWS = [
    {
        "text": "Здравствуйте, Ремзи! У нас выпал первый снег.",
        "writer_first_name": "Оксана",
        "writer_city": "Полтава",
    },
    {"text": "Добрый день! Пишу вам из Днепра, у нас тепло."},
    {"body": "Привет! Мы о вас думаем. Андрей"},
]
GENERATED, SIZED, RUNS = 2, 3, 2
CHECK_CHARS, CHECK_RATE, CHECK_SECONDS = (200, 400), 5, 2


def rising(spread: dict, keys: tuple[str, ...]) -> bool:
    values = [spread[k] for k in keys]
    return all(v is not None and v >= 0 for v in values) and values == sorted(values)


@pytest.fixture(scope="module")
def screening_result(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("screening-out")
    corpus = out / "tiny.jsonl"
    corpus.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ROWS), encoding="utf-8")
    command = [
        sys.executable,
        "-m",
        "bench.screening",
        "--runs",
        str(RUNS),
        "--letters",
        str(corpus),
        "--generated",
        str(GENERATED),
        "--sized",
        str(SIZED),
        "--out",
        str(out),
    ]
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert finished.returncode == 0, (
        f"bench.screening failed:\n{finished.stdout[-2000:]}\n{finished.stderr[-4000:]}"
    )
    assert "letters/s" in finished.stdout  # the table
    return json.loads((out / "screening.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def check_result(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("check-out")
    command = [
        sys.executable,
        "-m",
        "bench.check",
        "--rate",
        str(CHECK_RATE),
        "--seconds",
        str(CHECK_SECONDS),
        "--runs",
        "1",
        "--chars",
        *map(str, CHECK_CHARS),
        "--warmup",
        "2",
        "--out",
        str(out),
    ]
    # The stack's start dominates (25–75 s depending on the machine's load); this only catches a hang.
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=240, check=False)
    assert finished.returncode == 0, (
        f"bench.check failed:\n{finished.stdout[-2000:]}\n{finished.stderr[-4000:]}"
    )
    return json.loads((out / "check.json").read_text(encoding="utf-8"))


def test_sized_letters_have_the_length_asked_for_and_differ():
    from bench.letters import DEMO_PRISONERS
    from bench.screening import sized_letters

    for chars in (200, 2000):
        letters = sized_letters(20, chars, DEMO_PRISONERS)
        lengths = [len(x["body"]) for x in letters]
        assert all(0.9 * chars <= n <= chars for n in lengths), (chars, lengths)
        assert len({x["body"] for x in letters}) == 20
        assert all(x["author"]["display_name"] and x["author"]["city"] for x in letters)


@pytest.mark.slow
def test_screening_reports_rates_per_run_and_their_median(screening_result):
    result = screening_result
    assert result["runs"] == RUNS and len(result["per_run"]) == RUNS
    assert result["corpus"]["letters"] == len(ROWS) + GENERATED
    assert result["corpus"]["with_fields"] == 1 + GENERATED
    for run in result["per_run"]:
        assert run["letters"] == len(ROWS) + GENERATED
        assert sum(run["verdicts"].values()) == run["letters"]
        assert run["letters_per_s"] > 0 and run["cpu_letters_per_s"] > 0 and run["chars_per_s"] > 0
        assert run["wall_s"] > 0 and run["findings"] >= 0
        assert rising(run["ms_per_letter"], ("p50", "p95", "max"))
    rates = result["letters_per_s"]
    assert rates["runs"] == [r["letters_per_s"] for r in result["per_run"]]
    assert min(rates["runs"]) <= rates["median"] <= max(rates["runs"])
    assert rising(result["ms_per_letter"], ("p50", "p95", "max"))
    assert set(result["targets"]) == {"letters_per_s", "letters_per_s_met", "tools_mb", "tools_mb_met"}


@pytest.mark.slow
def test_screening_times_short_and_long_letters_apart(screening_result):
    by_length = screening_result["by_length"]
    assert set(by_length) == {"200", "2000"}
    for chars, sized in by_length.items():
        assert sized["letters"] == SIZED and len(sized["per_run"]) == RUNS
        assert all(r["letters"] == SIZED and sum(r["verdicts"].values()) == SIZED for r in sized["per_run"])
        assert (
            0.9 * int(chars)
            <= sized["chars_per_letter"]["min"]
            <= sized["chars_per_letter"]["max"]
            <= int(chars)
        )
        assert rising(sized["ms_per_letter"], ("p50", "p95", "max")) and sized["letters_per_s"] > 0


@pytest.mark.slow
def test_screening_measures_memory_in_its_own_process(screening_result):
    rss = screening_result["rss_mb"]
    assert 5 < rss["baseline"] <= rss["after_import"] < 2000
    assert max(rss["after_first_screen"], rss["after_warmup"], rss["after_runs"]) <= rss["peak"]
    assert rss["tools_mb"] == pytest.approx(rss["after_warmup"] - rss["baseline"], abs=0.11)
    assert rss["peak_added_mb"] == pytest.approx(rss["peak"] - rss["baseline"], abs=0.11)
    assert rss["import_mb"] == pytest.approx(rss["after_import"] - rss["baseline"], abs=0.11)
    tools = {"pymorphy3", "lingua", "confusable_homoglyphs", "emoji", "unicodedata2"}
    assert (
        set(screening_result["tools_loaded"])
        == set(screening_result["tools_loaded_after_first_screen"])
        == tools
    )
    assert screening_result["first_screen_ms"] > 0 and screening_result["import_s"] > 0
    assert screening_result["warmup_s"] > 0 and screening_result["warmup_letters_per_s"] > 0
    assert screening_result["machine"]["cores_logical"] >= 1 and screening_result["started_at"]


@pytest.mark.slow
@pytest.mark.e2e
def test_check_reports_latency_for_each_length(check_result):
    result = check_result
    assert result["settings"]["rate"] == CHECK_RATE and result["settings"]["seconds"] == CHECK_SECONDS
    assert set(result["by_chars"]) == {str(c) for c in CHECK_CHARS}
    expected = CHECK_RATE * CHECK_SECONDS
    for chars, row in result["by_chars"].items():
        assert row["requests"] == expected and row["answered"] == expected and row["errors"] == 0, row
        assert len(row["runs"]) == 1
        run = row["runs"][0]
        assert run["requests"] == run["answered"] + run["errors"]
        assert sum(run["verdicts"].values()) == run["answered"]
        assert rising(row["latency_ms"], ("p50", "p95", "p99", "max")) and row["latency_ms"]["p50"] > 0
        assert row["p95_runs"] == [run["latency_ms"]["p95"]]
        assert row["achieved_rate"] > 0 and row["intake_cpu_ms_per_request"] > 0
        assert (
            0.9 * int(chars) <= row["chars_per_letter"]["min"] <= row["chars_per_letter"]["max"] <= int(chars)
        )
        assert row["target_p95_ms"] == 100 and isinstance(row["p95_met"], bool)
    assert (
        result["first_check_status"] == 200 and result["first_check_ms"] > 0 and result["warmup_errors"] == 0
    )


@pytest.mark.slow
@pytest.mark.e2e
def test_check_samples_intake_memory(check_result):
    rss = check_result["rss_mb"]
    assert {"intake", "sorting", "delivery"} <= set(rss)
    intake = rss["intake"]
    for key in ("at_ready", "after_first_check", "after_warmup", "peak"):
        assert 20 < intake[key] < 2000, (key, intake)
    assert intake["peak"] >= intake["at_ready"]
    assert intake["first_check_added"] == pytest.approx(
        intake["after_first_check"] - intake["at_ready"], abs=0.11
    )


@pytest.mark.slow
@pytest.mark.e2e
def test_check_leaves_no_queue_behind(check_result):
    import asyncio

    from tests.support import queue_exists

    assert not asyncio.run(queue_exists(f"{check_result['namespace']}.sorting.letter-received"))
