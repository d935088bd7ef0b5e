"""Scans are rendered in worker processes, off the service's event loop and its GIL.

Typesetting a letter with fpdf2 is CPU work (tens of milliseconds). In a thread it shared the
interpreter lock with the event loop, so broker heartbeats, API requests and the other letters
waited for every render, and a second sorting process on the same cores gained little. A worker
process renders on its own core.

A worker starts from a fresh interpreter (spawned, never a fork of the running service with its
threads and connections), imports only this module and services/sorting/scan.py (fpdf2, pypdf,
Pillow; not the screening engine), and cuts the letter font once when it starts. The services
run as `python -m services.<name>`, whose `__main__` a spawned worker does not run again.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from shared.logs import configure_logging

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScanJob:
    """What a scan prints, as the moderator approved it: all a worker gets of the letter."""

    prisoner_name_ru: str
    text: str
    writer_first_name: str | None
    writer_city: str | None
    written_at: datetime
    pages: tuple[bytes, ...] = ()  # photographed pages in order; none for a typed letter


@dataclass(frozen=True)
class RenderedScan:
    pdf: bytes
    pages: int


def render(job: ScanJob, font_path: str) -> RenderedScan:
    """Pure, bytes in and bytes out: the same job renders the same bytes in any process."""
    from services.sorting.scan import TypedLetter, render_handwritten_letter, render_typed_letter

    typed = TypedLetter(job.prisoner_name_ru, job.text, job.writer_first_name, job.writer_city, job.written_at)
    if job.pages:
        scan = render_handwritten_letter(job.pages, job.written_at, typed, font_path)
    else:
        scan = render_typed_letter(typed, font_path)
    return RenderedScan(scan.pdf, scan.pages)


def pool_size(setting: int | None, cores: int | None = None) -> int:
    """The setting, but never more processes than cores; unset, every core but the event loop's."""
    cores = cores or usable_cores()
    if setting is not None:
        return max(1, min(setting, cores))
    return max(1, cores - 1)


def usable_cores(cpu_max: Path = Path("/sys/fs/cgroup/cpu.max")) -> int:
    """The cores this process may use: its CPU affinity, and a container's CPU limit (cgroup v2).

    os.cpu_count() is the node's: a pod limited to 2 CPUs on a 32-core node would start 31 workers.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        quota, period = cpu_max.read_text().split()[:2]
    except (OSError, ValueError):
        return max(1, cores)
    if quota == "max":
        return max(1, cores)
    return max(1, min(cores, int(int(quota) / int(period))))


# How often a worker looks whether the service that started it is still there.
PARENT_CHECK_SECONDS = 1.0


def _exit_with_parent(parent: int) -> None:
    # A service killed outright (SIGKILL, out of memory) cannot shut its pool down, and a spawned
    # worker holds both ends of its job queue, so it would wait for jobs forever, holding the
    # service's stdout and memory. Orphaned, it is adopted by another process: then it exits.
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(0)


def _start_worker(font_path: str, characters: Sequence[int]) -> None:
    # The service shuts its workers down itself, after the letters in progress: a Ctrl-C or a
    # SIGTERM sent to the whole process group must not cut a render short.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), name="parent-watch", daemon=True).start()
    # A worker's lines are the service's lines: one JSON object each, like the parent's.
    configure_logging("sorting.render", os.environ.get("LOG_LEVEL", "INFO"))
    # fontTools says at every cut which tables it drops: nothing anyone acts on.
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    from services.sorting.scan import letter_font

    try:
        letter_font(font_path, characters)
    except Exception as error:  # noqa: BLE001 - any error: the pool must survive it
        # A failing initializer breaks the whole pool and prints a bare traceback. The font is cut
        # again by the first render, whose error reaches the letter's handler (retried, then parked).
        logging.getLogger("sorting.render").warning("the scan font could not be prepared", extra={"error": repr(error)})


def _ready() -> int:
    return os.getpid()


class RenderPool:
    """A process pool for scans: started with the service, replaced when broken, shut down on stop."""

    def __init__(self, font_path: str, processes: int) -> None:
        self.font_path = font_path
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None

    def start(self) -> None:
        if self._pool is not None:
            return
        # The characters the font is cut to are screening's printable ones; the service has the
        # screening engine loaded anyway, the workers are handed the list and never load it.
        from shared.screening.printable import PRINTABLE_CHARACTERS

        context = multiprocessing.get_context("spawn")
        self._pool = ProcessPoolExecutor(max_workers=self.processes, mp_context=context,
                                         initializer=_start_worker, initargs=(self.font_path, PRINTABLE_CHARACTERS))
        # Start a worker now, so the first letter does not wait for its start and the font cut.
        self._pool.submit(_ready)

    async def render(self, job: ScanJob) -> RenderedScan:
        self.start()
        pool = self._pool
        assert pool is not None
        try:
            return await _run(pool, job, self.font_path)
        except BrokenProcessPool:
            # A worker died (killed, out of memory) and took the pool with it: a new pool renders
            # this letter once more. If that breaks too, the error goes to the message handler,
            # whose message is redelivered and, failing again, parked: the letter is never lost.
            log.warning("scan render pool broken; starting a new one", extra={"processes": self.processes})
            self._replace(pool)
            assert self._pool is not None
            return await _run(self._pool, job, self.font_path)

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        # Several letters see the same broken pool: only the first replaces it.
        if self._pool is broken:
            self._pool = None
            broken.shutdown(wait=False, cancel_futures=True)
            self.start()

    async def stop(self) -> None:
        """After the handlers in progress: the renders they wait for finish, then the workers exit."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)


async def _run(pool: Executor, job: ScanJob, font_path: str) -> RenderedScan:
    return await asyncio.get_running_loop().run_in_executor(pool, render, job, font_path)
