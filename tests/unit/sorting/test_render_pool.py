"""Scans rendered in worker processes: the same bytes as in the service's own process, a worker
that dies costs no letter, and the workers go when the service stops."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from datetime import UTC, datetime

import psutil
from pypdf import PdfReader

from services.sorting.render_pool import RenderPool, ScanJob, pool_size, render
from tests.support import squash
from tests.unit.sorting.conftest import page_photo

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
BODY = "Здравствуйте! Йогурт, ёлка, чабрец. Селям алейкум, Şükrü, Çağrı, Ğani, Iıñ, Ömer, Ümmü. Її, єнот, ґанок."


def job(**overrides) -> ScanJob:
    facts = {"prisoner_name_ru": "Эдем Ёлкин", "text": BODY, "writer_first_name": "Ayşe", "writer_city": "Полтава",
             "written_at": datetime(2026, 11, 29, tzinfo=UTC)}
    return ScanJob(**{**facts, **overrides})


def spawned() -> list[psutil.Process]:
    # Spawned worker processes of this test process, not multiprocessing's resource tracker.
    return [p for p in psutil.Process(os.getpid()).children(recursive=True) if "spawn_main" in " ".join(p.cmdline())]


def test_pool_size_follows_the_cores_and_never_exceeds_them():
    assert pool_size(None, cores=2) == 1
    assert pool_size(None, cores=8) == 7
    assert pool_size(None, cores=1) == 1
    assert pool_size(4, cores=2) == 2
    assert pool_size(1, cores=8) == 1


def test_a_worker_renders_the_same_bytes_with_every_letter_intact_and_a_dead_worker_loses_no_letter():
    # Other tests in this process may have started pools of their own: the pool's workers are the new ones.
    others = {p.pid for p in spawned()}

    def workers() -> list[psutil.Process]:
        return [p for p in spawned() if p.pid not in others]

    async def scenario() -> None:
        pool = RenderPool(FONT, 1)
        pool.start()
        try:
            typed, handwritten = await asyncio.gather(pool.render(job()), pool.render(job(pages=(page_photo(1),))))
            assert typed.pdf == render(job(), FONT).pdf
            assert squash(BODY) in squash(PdfReader(io.BytesIO(typed.pdf)).pages[0].extract_text())
            assert handwritten.pages == 2 and handwritten.pdf == render(job(pages=(page_photo(1),)), FONT).pdf

            (worker,) = workers()
            worker.kill()
            worker.wait(10)
            again = await pool.render(job())
            assert again.pdf == typed.pdf
            assert [p.pid for p in workers()] != [worker.pid]
        finally:
            await pool.stop()
        assert workers() == []

    asyncio.run(scenario())


def test_the_cores_follow_a_container_s_cpu_limit(tmp_path):
    from services.sorting.render_pool import usable_cores

    limit = tmp_path / "cpu.max"
    limit.write_text("200000 100000\n")
    assert usable_cores(limit) == min(2, len(os.sched_getaffinity(0)))
    limit.write_text("50000 100000\n")
    assert usable_cores(limit) == 1
    limit.write_text("max 100000\n")
    assert usable_cores(limit) == len(os.sched_getaffinity(0))
    assert usable_cores(tmp_path / "absent") == len(os.sched_getaffinity(0))


SERVICE_KILLED_OUTRIGHT = f"""
import asyncio, os, signal
from datetime import UTC, datetime
import psutil
from services.sorting.render_pool import RenderPool, ScanJob

pool = RenderPool({FONT!r}, 1)
job = ScanJob("Эдем Ёлкин", "Здравствуйте!", None, None, datetime(2026, 11, 29, tzinfo=UTC))
asyncio.run(pool.render(job))
print(*[p.pid for p in psutil.Process().children(recursive=True)], flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_the_workers_exit_when_the_service_is_killed_outright():
    # SIGKILL gives the service no chance to shut its pool down: the workers notice by themselves.
    service = subprocess.Popen([sys.executable, "-c", SERVICE_KILLED_OUTRIGHT], stdout=subprocess.PIPE, text=True,
                               cwd=os.getcwd())
    children = [psutil.Process(int(pid)) for pid in service.stdout.readline().split()]
    assert children, "the service started no worker"
    service.wait(timeout=10)
    _, alive = psutil.wait_procs(children, timeout=10)
    for orphan in alive:
        orphan.kill()
    assert not alive, f"{len(alive)} worker(s) outlived the service"
