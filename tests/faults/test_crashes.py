"""Crashes of a stage, and of the outbox, in the middle of a run: nothing lost, nothing doubled."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.faults.pipeline import Pipeline

pytestmark = [pytest.mark.faults, pytest.mark.slow]

LETTERS = 300


@pytest.fixture
async def pipeline(infra, tmp_path, request):
    pipeline = Pipeline(infra, f"f{request.node.name[-12:].lower().replace('_', '')}", tmp_path).start()
    yield pipeline
    await pipeline.stop()


async def _wait_some_delivered(pipeline: Pipeline, at_least: int, timeout: float = 120) -> None:
    stop_at = time.monotonic() + timeout
    while time.monotonic() < stop_at:
        if len(await pipeline.delivered_ids()) >= at_least:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"fewer than {at_least} letters delivered in {timeout}s")


async def test_sorting_killed_mid_run_loses_and_doubles_nothing(pipeline, record):
    submitting = asyncio.create_task(pipeline.submit(LETTERS))
    await _wait_some_delivered(pipeline, 20)
    pipeline.services["sorting"].kill()  # SIGKILL: no chance to finish or ack anything
    pipeline.restart_service("sorting")
    accepted, _ = await submitting
    await pipeline.wait_delivered({a["id"] for a in accepted})
    tally = await pipeline.tally(accepted)
    record("sorting SIGKILL", tally)
    assert tally.accepted == LETTERS and tally.delivered == LETTERS
    assert (tally.lost, tally.duplicated, tally.unexpected) == (0, 0, 0)
    assert tally.details["scans"] == LETTERS


async def test_sigterm_finishes_in_hand_work_within_the_bound(pipeline, record):
    submitting = asyncio.create_task(pipeline.submit(LETTERS))
    await _wait_some_delivered(pipeline, 20)
    started = time.monotonic()
    exit_code = pipeline.services["sorting"].terminate(timeout=40)
    stopped_in = time.monotonic() - started
    assert exit_code == 0, f"sorting exited with {exit_code}"
    assert stopped_in < 30, f"sorting took {stopped_in:.1f}s to stop"
    pipeline.restart_service("sorting")
    accepted, _ = await submitting
    await pipeline.wait_delivered({a["id"] for a in accepted})
    tally = await pipeline.tally(accepted)
    record(f"sorting SIGTERM (stopped in {stopped_in:.1f}s)", tally)
    assert (tally.lost, tally.duplicated, tally.unexpected) == (0, 0, 0)
