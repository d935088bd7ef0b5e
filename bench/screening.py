"""The screening engine alone: memory of its language tools, letters/s in one process (see bench/README.md).

`python -m bench.screening [--runs 5] [--letters FILE...]` starts a fresh Python process (so its RSS is
that of the engine, not of this one), which

1. measures its RSS before importing the engine (interpreter, psutil and pydantic: what every
   service has loaded anyway), after `import shared.screening`, and after the first `screen()` call
   (that call loads the language tools: dictionaries, language models, tables);
2. screens the corpus `--runs` times, timing every letter (`time.perf_counter`) and each run's CPU
   (`time.process_time`), and the same for letters of exactly ~200 and ~2,000 characters;
3. reports its RSS after the runs and its peak (`ru_maxrss`).

The parent prints a short table and writes OUT/screening.json. Nothing here talks to the network.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
DEV_GLOB = "screening_dev/*.jsonl"
# What the issue asks of the engine (bench/README.md, "Screening and /check").
TARGET_LETTERS_PER_S = 200.0
TARGET_TOOLS_MB = 150.0
SIZES = (200, 2000)
# The language tools the engine is being rebuilt on; reported as loaded or not after the first call.
TOOL_MODULES = ("pymorphy3", "lingua", "confusable_homoglyphs", "emoji", "unicodedata2")
# Loaded before the baseline: every service imports these long before it screens anything.
BASELINE_MODULES = ("psutil", "pydantic")
FIELD_NAMES = ("writer_first_name", "writer_city")
LANG = "ru"  # what the writer page sends (Accept-Language: ru) and the letters are written in

# Short, clean sentences that top a letter up to its length once no topic sentence fits any more.
FILLERS = [
    "Всё у нас хорошо.",
    "Скоро напишу ещё.",
    "Обнимаем вас.",
    "Думаем о вас.",
    "Пишите, если сможете.",
    "Вот и всё.",
    "Привет от всех.",
]


# --- letters of a given length ---------------------------------------------------------------------


def sized_body(rng: random.Random, prisoner_first_name: str, writer: tuple[str, str], chars: int) -> str:
    """A typed letter from bench/letters.py's phrases, filled to within a few characters of `chars`.

    bench.letters stops after one pass over its topics (about 1,400–1,900 characters); this keeps
    adding unused sentences, then short fillers, so a "2,000-character letter" is one.
    """
    from bench.letters import CLOSINGS, GREETINGS, OPENINGS, TOPICS, WISHES

    name, city = writer
    head = " ".join(
        [
            rng.choice(GREETINGS).format(name=prisoner_first_name),
            rng.choice(OPENINGS).format(writer=name, city=city),
        ]
    )
    tail = [rng.choice(WISHES), f"{rng.choice(CLOSINGS)}, {name}"]
    budget = chars - len(head) - sum(len(part) + 1 for part in tail)
    used: set[str] = set()
    paragraphs: list[list[str]] = []

    def add(paragraph: list[str], sentence: str) -> bool:
        nonlocal budget
        cost = len(sentence) + 1  # a space inside a paragraph, or the newline before a new one
        if cost > budget or sentence in used:
            return False
        paragraph.append(sentence)
        used.add(sentence)
        budget -= cost
        return True

    # First pass like bench.letters (2–4 sentences per topic), then more of each topic's sentences.
    for wanted in ("some", "all"):
        for topic in rng.sample(sorted(TOPICS), k=len(TOPICS)):
            sentences = rng.sample(TOPICS[topic], len(TOPICS[topic]))
            if wanted == "some":
                sentences = sentences[: rng.randint(2, 4)]
            paragraph: list[str] = []
            for sentence in sentences:
                add(paragraph, sentence)
            if paragraph:
                paragraphs.append(paragraph)
    last: list[str] = paragraphs[-1] if paragraphs else []
    for filler in rng.sample(FILLERS, len(FILLERS)):
        add(last, filler)
    if last and not paragraphs:
        paragraphs.append(last)
    return "\n".join([head, *(" ".join(p) for p in paragraphs), *tail])


def sized_letters(count: int, chars: int, prisoners: list[dict], *, seed: int = 1) -> list[dict]:
    """`count` different submissions (the shape of bench.letters.make_letters) of about `chars` characters."""
    from bench.letters import WRITERS

    rng = random.Random(f"{seed}-{chars}")
    letters = []
    for number in range(count):
        prisoner = prisoners[number % len(prisoners)]
        writer = WRITERS[rng.randrange(len(WRITERS))]
        first_name = prisoner["names"]["ru"].split()[0]
        letters.append(
            {
                "prisoner_id": prisoner["id"],
                "body": sized_body(rng, first_name, writer, chars),
                "client_ref": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "author": {"display_name": writer[0], "city": writer[1], "contact_consent": False},
                "source": {"channel": "web"},
            }
        )
    return letters


def as_item(letter: dict, source: str) -> dict:
    """A submission (bench.letters' shape) as what the engine gets: text and printed fields."""
    author = letter.get("author") or {}
    return {
        "source": source,
        "text": letter["body"],
        "fields": {"writer_first_name": author.get("display_name"), "writer_city": author.get("city")},
    }


# --- the corpus -------------------------------------------------------------------------------------


def default_files() -> list[Path]:
    return sorted(DATA.glob(DEV_GLOB)) + sorted(DATA.glob("*.jsonl"))


def load_corpus(files: list[Path], generated: int, seed: int) -> list[dict]:
    """Rows of the JSONL files (`text` or `body`; writer_first_name/writer_city when present),
    then `generated` typed letters from bench.letters (300–2,000 characters, most 500–1,000)."""
    from bench.letters import DEMO_PRISONERS, make_letters

    items: list[dict] = []
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            row = json.loads(line)
            text = row.get("text", row.get("body"))
            if not isinstance(text, str):
                raise SystemExit(f"{path}:{number}: a row needs a 'text' (or 'body') string")
            fields = {name: row[name] for name in FIELD_NAMES if row.get(name)}
            items.append({"source": display_path(path), "text": text, "fields": fields})
    if generated:
        items += [
            as_item(letter, "bench.letters") for letter in make_letters(generated, DEMO_PRISONERS, seed=seed)
        ]
    return items


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


# --- statistics --------------------------------------------------------------------------------------


def nearest_rank(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered), max(1, math.ceil(q * len(ordered)))) - 1]


def spread_ms(values_s: list[float]) -> dict[str, float | None]:
    """p50/p95/max (nearest rank: observed values) and mean of durations in seconds, as ms."""
    if not values_s:
        return {"p50": None, "p95": None, "max": None, "mean": None}
    ordered = sorted(v * 1000 for v in values_s)
    return {
        "p50": round(nearest_rank(ordered, 0.50), 3),
        "p95": round(nearest_rank(ordered, 0.95), 3),
        "max": round(ordered[-1], 3),
        "mean": round(sum(ordered) / len(ordered), 3),
    }


def median_of(runs: list[dict], *path: str) -> float | None:
    values = []
    for run in runs:
        value = run
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if value is not None:
            values.append(value)
    return round(statistics.median(values), 3) if values else None


# --- the measuring process ---------------------------------------------------------------------------


def measure_in_this_process(args: argparse.Namespace) -> dict:
    """Runs in the fresh subprocess: RSS steps, first call, then the timed runs."""
    import gc
    import importlib
    import resource

    for name in BASELINE_MODULES:
        importlib.import_module(name)
    import psutil

    process = psutil.Process()

    def rss_mb() -> float:
        return round(process.memory_info().rss / 2**20, 1)

    # Everything the runs screen is built before the baseline, so it is not counted as the engine's.
    files = [Path(f) for f in args.letters] if args.letters else default_files()
    corpus = load_corpus(files, args.generated, args.seed)
    from bench.letters import DEMO_PRISONERS

    by_size = {
        chars: [as_item(x, f"sized {chars}") for x in sized_letters(args.sized, chars, DEMO_PRISONERS)]
        for chars in SIZES
    }
    gc.collect()
    rss = {"baseline": rss_mb()}
    began = time.perf_counter()
    from shared.screening import screen

    import_s = time.perf_counter() - began
    gc.collect()
    rss["after_import"] = rss_mb()
    began = time.perf_counter()
    screen(corpus[0]["text"], lang=LANG, fields=corpus[0]["fields"] or None)
    first_screen_s = time.perf_counter() - began
    rss["after_first_screen"] = rss_mb()
    began = time.perf_counter()
    screen(corpus[0]["text"], lang=LANG, fields=corpus[0]["fields"] or None)
    second_screen_s = time.perf_counter() - began
    loaded_first = {name: name in sys.modules for name in TOOL_MODULES}

    def one_pass(items: list[dict]) -> dict:
        times: list[float] = []
        verdicts: dict[str, int] = {}
        findings = 0
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for item in items:
            fields = {k: v for k, v in item["fields"].items() if v} or None
            t0 = time.perf_counter()
            result = screen(item["text"], lang=LANG, fields=fields)
            times.append(time.perf_counter() - t0)
            verdicts[result.verdict] = verdicts.get(result.verdict, 0) + 1
            findings += len(result.findings)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        chars = sum(len(i["text"]) + sum(len(v or "") for v in i["fields"].values()) for i in items)
        return {
            "letters": len(items),
            "wall_s": round(wall, 4),
            "cpu_s": round(cpu, 4),
            "letters_per_s": round(len(items) / wall, 2) if wall else None,
            "cpu_letters_per_s": round(len(items) / cpu, 2) if cpu else None,
            "chars_per_s": round(chars / wall) if wall else None,
            "ms_per_letter": spread_ms(times),
            "verdicts": dict(sorted(verdicts.items())),
            "findings": findings,
        }

    # The tools may load on demand (the first letter that needs a dictionary): one untimed pass over
    # everything warms the engine, so the timed runs are its steady state and the RSS its loaded size.
    began = time.perf_counter()
    warm_up = one_pass(corpus)
    for chars in SIZES:
        one_pass(by_size[chars])
    warmup_s = time.perf_counter() - began
    rss["after_warmup"] = rss_mb()
    loaded = {name: name in sys.modules for name in TOOL_MODULES}

    runs, sized_runs = [], {chars: [] for chars in SIZES}
    for _ in range(args.runs):
        runs.append(one_pass(corpus))
        for chars in SIZES:
            sized_runs[chars].append(one_pass(by_size[chars]))
    rss["after_runs"] = rss_mb()
    # ru_maxrss (KiB on Linux) is the kernel's high-water mark; it can lag a fresh reading slightly.
    rss["peak"] = max(rss["after_runs"], round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1))
    rss["import_mb"] = round(rss["after_import"] - rss["baseline"], 1)
    rss["first_screen_mb"] = round(rss["after_first_screen"] - rss["after_import"], 1)
    rss["tools_mb"] = round(rss["after_warmup"] - rss["baseline"], 1)
    rss["runs_growth_mb"] = round(rss["after_runs"] - rss["after_warmup"], 1)
    rss["peak_added_mb"] = round(rss["peak"] - rss["baseline"], 1)

    lengths = [len(i["text"]) for i in corpus]
    sources: dict[str, int] = {}
    for item in corpus:
        sources[item["source"]] = sources.get(item["source"], 0) + 1
    letters_per_s = [r["letters_per_s"] for r in runs]
    median_rate = statistics.median(letters_per_s)
    return {
        "runs": args.runs,
        "lang": LANG,
        "corpus": {
            "letters": len(corpus),
            "chars": sum(lengths),
            "chars_per_letter": {
                "min": min(lengths),
                "mean": round(sum(lengths) / len(lengths)),
                "max": max(lengths),
            },
            "with_fields": sum(1 for i in corpus if any(i["fields"].values())),
            "sources": sources,
        },
        "rss_mb": rss,
        "baseline_modules": list(BASELINE_MODULES),
        "tools_loaded": loaded,
        "tools_loaded_after_first_screen": loaded_first,
        "import_s": round(import_s, 3),
        "warmup_s": round(warmup_s, 2),
        "warmup_letters_per_s": warm_up["letters_per_s"],
        "first_screen_ms": round(first_screen_s * 1000, 1),
        "second_screen_ms": round(second_screen_s * 1000, 3),
        "per_run": runs,
        "letters_per_s": {"median": round(median_rate, 2), "runs": letters_per_s},
        "cpu_letters_per_s": {
            "median": median_of(runs, "cpu_letters_per_s"),
            "runs": [r["cpu_letters_per_s"] for r in runs],
        },
        "chars_per_s": {"median": median_of(runs, "chars_per_s"), "runs": [r["chars_per_s"] for r in runs]},
        "ms_per_letter": {
            key: median_of(runs, "ms_per_letter", key) for key in ("p50", "p95", "max", "mean")
        },
        "by_length": {
            str(chars): {
                "letters": args.sized,
                "chars_per_letter": {
                    "min": min(len(i["text"]) for i in by_size[chars]),
                    "mean": round(sum(len(i["text"]) for i in by_size[chars]) / len(by_size[chars])),
                    "max": max(len(i["text"]) for i in by_size[chars]),
                },
                "ms_per_letter": {
                    key: median_of(sized_runs[chars], "ms_per_letter", key)
                    for key in ("p50", "p95", "max", "mean")
                },
                "letters_per_s": median_of(sized_runs[chars], "letters_per_s"),
                "per_run": sized_runs[chars],
            }
            for chars in SIZES
        },
        "targets": {
            "letters_per_s": TARGET_LETTERS_PER_S,
            "letters_per_s_met": median_rate >= TARGET_LETTERS_PER_S,
            "tools_mb": TARGET_TOOLS_MB,
            "tools_mb_met": rss["peak_added_mb"] <= TARGET_TOOLS_MB,
        },
    }


# --- the parent --------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.screening",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--runs", type=int, default=5, help="passes over the corpus (default 5; the median is reported)"
    )
    parser.add_argument(
        "--letters",
        nargs="+",
        metavar="FILE",
        help="JSONL files to screen instead of tests/data/screening_dev/*.jsonl and tests/data/*.jsonl "
        "(rows with 'text' or 'body'; writer_first_name/writer_city used when present)",
    )
    parser.add_argument(
        "--generated",
        type=int,
        default=200,
        help="typed letters from bench.letters added to the corpus (default 200)",
    )
    parser.add_argument(
        "--sized",
        type=int,
        default=100,
        help="letters of ~200 and of ~2,000 characters timed apart (default 100 each)",
    )
    parser.add_argument("--seed", type=int, default=1, help="letter generator seed")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out", help="where screening.json goes")
    parser.add_argument(
        "--timeout", type=float, default=1800.0, help="give up on the measuring process after S s"
    )
    parser.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)  # internal: the measuring process
    args = parser.parse_args(argv)
    if args.runs < 1 or args.sized < 1 or args.generated < 0:
        parser.error("--runs and --sized must be at least 1, --generated at least 0")
    if not args.letters and args.generated == 0 and not default_files():
        parser.error("no corpus: no tests/data/*.jsonl, no --letters and --generated 0")
    return args


def child_argv(args: argparse.Namespace, out: Path) -> list[str]:
    argv = [
        sys.executable,
        "-m",
        "bench.screening",
        "--runs",
        str(args.runs),
        "--generated",
        str(args.generated),
    ]
    argv += ["--sized", str(args.sized), "--seed", str(args.seed), "--child-out", str(out)]
    if args.letters:
        argv += ["--letters", *[str(Path(f).resolve()) for f in args.letters]]
    return argv


def run(args: argparse.Namespace) -> dict:
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    from bench.run import machine_info  # the parent only: the child measures a bare interpreter

    machine = machine_info()
    began = time.time()
    with tempfile.TemporaryDirectory(prefix="bench-screening-") as tmp:
        out = Path(tmp) / "child.json"
        finished = subprocess.run(
            child_argv(args, out), cwd=ROOT, capture_output=True, text=True, timeout=args.timeout, check=False
        )
        if finished.returncode != 0 or not out.exists():
            raise RuntimeError(
                f"the measuring process failed (exit {finished.returncode}):\n{finished.stderr[-4000:]}"
            )
        result = json.loads(out.read_text(encoding="utf-8"))
    result["started_at"] = started_at
    result["duration_s"] = round(time.time() - began, 1)
    result["machine"] = {**machine, "loadavg_at_end": [round(x, 2) for x in os.getloadavg()]}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "screening.json").write_text(
        json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return result


def table(result: dict) -> str:
    rss, corpus = result["rss_mb"], result["corpus"]
    rows = [
        (
            "corpus",
            f"{corpus['letters']} letters, {corpus['chars']} chars (mean {corpus['chars_per_letter']['mean']})",
        ),
        (
            "letters/s, median (runs)",
            (
                f"{result['letters_per_s']['median']} ({', '.join(map(str, result['letters_per_s']['runs']))})"
                f"  target >= {TARGET_LETTERS_PER_S:g}: {'met' if result['targets']['letters_per_s_met'] else 'NOT met'}"
            ),
        ),
        ("letters per CPU-second, median", str(result["cpu_letters_per_s"]["median"])),
        ("chars/s, median", str(result["chars_per_s"]["median"])),
        ("ms per letter p50 / p95 / max", "{p50} / {p95} / {max}".format(**result["ms_per_letter"])),
    ]
    for chars, sized in result["by_length"].items():
        ms = sized["ms_per_letter"]
        rows.append(
            (
                f"~{chars}-char letters (mean {sized['chars_per_letter']['mean']}), ms",
                f"p50 {ms['p50']} / p95 {ms['p95']} / max {ms['max']}  ({sized['letters_per_s']} letters/s)",
            )
        )
    rows += [
        (
            "RSS MB baseline / import / 1st screen / warm / runs / peak",
            (
                f"{rss['baseline']} / {rss['after_import']} / {rss['after_first_screen']} / {rss['after_warmup']}"
                f" / {rss['after_runs']} / {rss['peak']}"
            ),
        ),
        (
            "added by the engine and its tools, MB",
            (
                f"{rss['tools_mb']} warm, {rss['peak_added_mb']} at peak"
                f"  target <= {TARGET_TOOLS_MB:g}: {'met' if result['targets']['tools_mb_met'] else 'NOT met'}"
            ),
        ),
        (
            "import s / first, second screen ms / warm-up s",
            f"{result['import_s']} / {result['first_screen_ms']}, {result['second_screen_ms']} / {result['warmup_s']}",
        ),
        ("tools loaded", ", ".join(n for n, on in result["tools_loaded"].items() if on) or "none"),
        (
            "load average start -> end",
            f"{result['machine']['loadavg_at_start']} -> {result['machine']['loadavg_at_end']}",
        ),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child_out:
        result = measure_in_this_process(args)
        args.child_out.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
        return 0
    result = run(args)
    print(table(result))
    print(f"wrote {args.out / 'screening.json'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
