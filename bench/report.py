"""The benchmark's outputs and its all-threads sampler.

- `write_outputs`: result.json (the numbers), samples.json (the raw per-letter values) and
  result.png (matplotlib, Agg): latency CDFs, letters completed per second, services' RSS.
- `ThreadSampler`: a small sampling profiler over every thread of a process. pyinstrument
  (`EventLoopProfiler`) only follows the thread it starts on (the event loop); the scan rendering
  and the boto3 calls run in `asyncio.to_thread` workers, which only the sampler sees. Both are
  switched on by SIGUSR1 and off by SIGUSR2, so only the measured phase is profiled.

`python -m bench.report OUT_DIR` redraws result.png from OUT_DIR/result.json and samples.json.
"""

from __future__ import annotations

import collections
import json
import math
import sys
import threading
import time
from pathlib import Path


def percentiles(values: list[float]) -> dict[str, float | None]:
    """p50, p95, p99 by nearest rank: always a value that was observed, never an interpolation."""
    values = [v for v in values if v is not None]
    if not values:
        return {"p50": None, "p95": None, "p99": None}
    ordered = sorted(values)

    def pick(q: float) -> float:
        return round(ordered[min(len(ordered), max(1, math.ceil(q * len(ordered)))) - 1], 1)

    return {"p50": pick(0.50), "p95": pick(0.95), "p99": pick(0.99)}


def per_second(times: list[float], origin: float) -> list[int]:
    """How many of `times` fall in each second after `origin`."""
    if not times:
        return []
    counts = [0] * (int(max(times) - origin) + 1)
    for t in times:
        counts[max(0, int(t - origin))] += 1
    return counts


SMOOTH_S = 5


def smooth(series: list[int], window: int = SMOOTH_S) -> list[float]:
    """Centred moving average: per-second counts of a few letters are too jumpy to read."""
    half = window // 2
    windows = [series[max(0, i - half) : i + half + 1] for i in range(len(series))]
    return [sum(w) / len(w) for w in windows]


def write_outputs(result: dict, samples: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "result.json").write_text(
        json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    (out / "samples.json").write_text(json.dumps(samples) + "\n", encoding="utf-8")
    plot(result, samples, out / "result.png")


def plot(result: dict, samples: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (cdf, rate, rss) = plt.subplots(1, 3, figsize=(17, 5.2))
    ratio = result.get("ratio")
    fig.suptitle(
        f"{result['letters']} letters, C={result['concurrency']}"
        + (f", paced at {result['rate']}/s" if result.get("rate") else "")
        + f", sorting×{result['sorting_processes']}: {result['letters_per_s']} letters/s end to end"
        + (f", floor {result['floor_letters_per_s']}/s, ratio {ratio}" if ratio is not None else "")
        + f"  ({result.get('started_at', '')})",
        fontsize=11,
    )
    for key, label in (
        ("intake_latency_ms", "intake HTTP"),
        ("e2e_ready_ms", "submit → ready (scan stored)"),
        ("e2e_queued_ms", "submit → queued (delivery)"),
    ):
        values = sorted(v for v in samples.get(key, []) if v is not None)
        if values:
            cdf.plot(
                values,
                [(i + 1) / len(values) for i in range(len(values))],
                label=f"{label}  p95 {result[key]['p95']:.0f} ms",
            )
    cdf.set_xscale("log")
    cdf.set_xlabel("latency, ms (log)")
    cdf.set_ylabel("fraction of letters")
    cdf.axhline(0.95, color="grey", lw=0.6, ls=":")
    cdf.grid(True, which="both", alpha=0.3)
    cdf.legend(fontsize=8, loc="lower right")
    cdf.set_title("Latency distribution (CDF)")

    for key, label, style in (
        ("submitted_per_s", "submitted", "-"),
        ("ready_per_s", "ready", "-"),
        ("queued_per_s", "queued", "-"),
        ("floor_queued_per_s", "floor: queued", "--"),
    ):
        series = samples.get(key) or []
        if series:
            rate.plot(range(len(series)), smooth(series), style, label=label)
    rate.set_xlabel("seconds since the first submission (floor: since its own start)")
    rate.set_ylabel("letters per second")
    rate.grid(True, alpha=0.3)
    rate.legend(fontsize=8)
    rate.set_title(f"Letters completed per second ({SMOOTH_S} s moving average)")

    for name, series in sorted((samples.get("rss_mb") or {}).items()):
        if series:
            rss.plot(
                [t for t, _ in series],
                [mb for _, mb in series],
                label=f"{name} (peak {result['rss_mb'].get(name)} MB)",
            )
    rss.axhline(200, color="red", lw=0.8, ls="--", label="target 200 MB")
    rss.set_xlabel("seconds since the first submission")
    rss.set_ylabel("RSS, MB (process and children)")
    rss.grid(True, alpha=0.3)
    rss.legend(fontsize=8)
    rss.set_title("Service memory")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# --- profiling a service during the measured phase only -------------------------------------------

# Where a thread idles: the event loop's poll, a pool worker waiting for work.
IDLE_LEAVES = {("selectors.py", "select"), ("thread.py", "_worker"), ("queue.py", "get")}
# Where a thread waits: for a lock (logging's handler lock, a condition, a join) or for a socket
# (boto3 waiting for the S3 server's answer).
WAIT_LEAVES = {
    ("socket.py", "readinto"),
    ("wait.py", "do_poll"),
    ("__init__.py", "acquire"),
    ("threading.py", "wait"),
    ("threading.py", "_wait_for_tstate_lock"),
    ("threading.py", "join"),
}


class ThreadSampler:
    """Every `interval` s while enabled, records the Python stack of each thread."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.stacks: collections.Counter[tuple[str, tuple[str, ...]]] = collections.Counter()
        self.idle: collections.Counter[str] = collections.Counter()
        self.waiting: collections.Counter[tuple[str, str]] = collections.Counter()
        self.samples = 0
        self.elapsed = 0.0
        self.enabled = threading.Event()
        self._enabled_at = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)
        self._thread.start()

    def enable(self) -> None:
        self._enabled_at = time.time()
        self.enabled.set()

    def disable(self) -> None:
        if self.enabled.is_set():
            self.enabled.clear()
            self.elapsed += time.time() - self._enabled_at

    def stop(self) -> None:
        self.disable()
        self._stop.set()
        self._thread.join(2)

    def _run(self) -> None:
        me = threading.get_ident()
        while not self._stop.wait(self.interval):
            if not self.enabled.is_set():
                continue
            names = {t.ident: t.name for t in threading.enumerate()}
            self.samples += 1
            for ident, frame in sys._current_frames().items():
                if ident == me:
                    continue
                group = _thread_group(names.get(ident, "?"))
                leaf = (Path(frame.f_code.co_filename).name, frame.f_code.co_name)
                if leaf in IDLE_LEAVES:
                    self.idle[group] += 1
                    continue
                if leaf in WAIT_LEAVES and frame.f_back is not None:
                    caller = frame.f_back.f_code
                    if (Path(caller.co_filename).name, caller.co_name) in IDLE_LEAVES:
                        self.idle[group] += 1  # a pool worker waiting for work
                        continue
                    self.waiting[
                        (group, f"{caller.co_name} ({_short(caller.co_filename)}:{caller.co_firstlineno})")
                    ] += 1
                    continue
                stack = []
                while frame is not None:
                    code = frame.f_code
                    stack.append(f"{code.co_name} ({_short(code.co_filename)}:{code.co_firstlineno})")
                    frame = frame.f_back
                self.stacks[(group, tuple(reversed(stack)))] += 1

    def write(self, path: Path, *, title: str) -> None:
        busy: collections.Counter[str] = collections.Counter()
        inclusive: collections.Counter[str] = collections.Counter()
        own: collections.Counter[str] = collections.Counter()
        for (group, stack), count in self.stacks.items():
            busy[group] += count
            for function in set(stack):
                inclusive[function] += count
            own[stack[-1]] += count
        total_busy = sum(busy.values()) or 1
        ticks = max(1, self.samples)
        lines = [
            (
                f"{title}: all-threads sampler, {self.samples} samples every {self.interval * 1000:.0f} ms "
                f"over {self.elapsed:.1f} s of the measured phase"
            ),
            "A thread counts as busy when its innermost Python frame is neither an idle poll nor a lock wait;",
            "time in C code (fontTools is pure Python; zlib, hashing, sockets are C) goes to the Python caller.",
            "Threads share one GIL: busy samples of several threads at once mean they take turns.",
            "Bias: the sampler runs when the GIL is free, so frames that release it (socket writes) are",
            "over-counted and pure-Python stretches under-counted; pyinstrument is exact for the event loop.",
            "",
            "per thread: busy samples, share of all busy samples, busy ticks / all ticks:",
        ]
        for group, count in busy.most_common():
            lines.append(f"  {group:<20} {count:>7}  {count / total_busy:6.1%}  {count / ticks:5.2f}")
        lines += ["", "waiting for a lock or a socket (thread, caller): samples, ticks share"]
        for (group, caller), count in self.waiting.most_common(8):
            lines.append(f"  {group:<20} {count:>7}  {count / ticks:5.2f}  {caller}")
        lines += ["", "top functions, inclusive (share of all busy samples):"]
        lines += [f"  {count / total_busy:6.1%}  {function}" for function, count in inclusive.most_common(70)]
        lines += ["", "top functions, self (innermost Python frame):"]
        lines += [f"  {count / total_busy:6.1%}  {function}" for function, count in own.most_common(30)]
        lines += ["", "top stacks (innermost 12 frames):"]
        for (group, stack), count in self.stacks.most_common(25):
            lines.append(f"  {count / total_busy:6.1%}  [{group}]")
            lines += [f"        {frame}" for frame in stack[-12:]]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        path.with_suffix(".collapsed").write_text(
            "".join(f"{group};{';'.join(stack)} {count}\n" for (group, stack), count in self.stacks.items()),
            encoding="utf-8",
        )


class EventLoopProfiler:
    """pyinstrument on the main thread (the event loop): it does not see to_thread workers."""

    def __init__(self) -> None:
        from pyinstrument import Profiler

        self._profiler = Profiler(interval=0.001, async_mode="disabled")
        self._running = False

    def enable(self) -> None:
        if not self._running:
            self._profiler.start()
            self._running = True

    def disable(self) -> None:
        if self._running:
            self._profiler.stop()
            self._running = False

    def stop(self) -> None:
        self.disable()

    def write(self, path: Path, *, title: str) -> None:
        text = self._profiler.output_text(unicode=True, color=False, show_all=False)
        flat = self._profiler.output_text(unicode=True, color=False, flat=True, show_all=True)
        path.write_text(
            f"{title}: pyinstrument, event-loop thread only, measured phase\n\n{text}\n"
            f"--- flat, self time, all frames ---\n{flat}",
            encoding="utf-8",
        )


def _thread_group(name: str) -> str:
    if name.startswith("asyncio_"):
        return "to_thread workers"
    return name


def _short(filename: str) -> str:
    for marker in ("site-packages/", "lib/python3.11/", "/work/main/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def main(argv: list[str] | None = None) -> int:
    out = Path((argv or sys.argv[1:] or ["bench/out"])[0])
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    samples = json.loads((out / "samples.json").read_text(encoding="utf-8"))
    plot(result, samples, out / "result.png")
    print(f"wrote {out / 'result.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
