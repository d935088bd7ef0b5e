"""Outages of RabbitMQ, MongoDB and S3 in the middle of a run: nothing lost, nothing doubled."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time

import pytest

from tests.faults.pipeline import Pipeline

pytestmark = [pytest.mark.faults, pytest.mark.slow]

LETTERS = 300


async def _until(check, timeout: float, what: str) -> None:
    stop_at = time.monotonic() + timeout
    while time.monotonic() < stop_at:
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.skipif(shutil.which("rabbitmqctl") is None, reason="needs the machine's own RabbitMQ to restart")
async def test_rabbitmq_restart_mid_run_needs_no_service_restart(infra, tmp_path, record):
    if infra.sources["rabbitmq"] != "local rabbitmq-server":
        pytest.skip("only the machine's own RabbitMQ may be restarted")
    pipeline = Pipeline(infra, "frabbit", tmp_path).start()
    try:
        pids = {name: p.process.pid for name, p in pipeline.services.items()}
        submitting = asyncio.create_task(pipeline.submit(LETTERS))
        await _until(lambda: _some(pipeline, 30), 120, "30 letters delivered")
        subprocess.run(["rabbitmqctl", "stop_app"], check=True, capture_output=True, timeout=60)
        await asyncio.sleep(5)
        subprocess.run(["rabbitmqctl", "start_app"], check=True, capture_output=True, timeout=120)
        accepted, seen = await submitting
        await pipeline.wait_delivered({a["id"] for a in accepted}, timeout=240)
        assert {name: p.process.pid for name, p in pipeline.services.items()} == pids
        assert all(p.running for p in pipeline.services.values()), "a service died during the broker restart"
        tally = await pipeline.tally(accepted)
        record("RabbitMQ restart", tally)
        assert 500 not in seen
        assert (tally.lost, tally.duplicated, tally.unexpected) == (0, 0, 0)
    finally:
        await pipeline.stop()


async def test_mongodb_down_for_ten_seconds_means_503_then_every_accepted_letter_goes_through(
    infra, tmp_path, record
):
    pipeline = Pipeline(infra, "fmongo", tmp_path, own_servers=True).start()
    try:
        submitting = asyncio.create_task(pipeline.submit(LETTERS, deadline_s=240))
        await _until(lambda: _some(pipeline, 20), 120, "20 letters delivered")
        pipeline.mongo.kill()
        await asyncio.sleep(10)
        pipeline.mongo.start()
        accepted, seen = await submitting
        await pipeline.wait_delivered({a["id"] for a in accepted}, timeout=240)
        tally = await pipeline.tally(accepted)
        record("MongoDB down 10 s", tally)
        assert 503 in seen, "no submission met the outage; the scenario did not test anything"
        assert 500 not in seen
        assert set(seen) <= {0, 200, 201, 503}
        assert (tally.lost, tally.duplicated, tally.unexpected) == (0, 0, 0)
    finally:
        await pipeline.stop()


async def test_s3_down_during_sorting_letters_wait_and_none_is_parked(infra, tmp_path, record):
    pipeline = Pipeline(infra, "fs3", tmp_path, own_servers=True).start()
    try:
        submitting = asyncio.create_task(pipeline.submit(LETTERS))
        await _until(lambda: _some(pipeline, 20), 120, "20 letters delivered")
        pipeline.s3.pause()
        await asyncio.sleep(10)
        pipeline.s3.resume()
        accepted, _ = await submitting
        await pipeline.wait_delivered({a["id"] for a in accepted}, timeout=240)
        tally = await pipeline.tally(accepted)
        record("S3 down 10 s", tally)
        assert (tally.lost, tally.duplicated, tally.unexpected) == (0, 0, 0)
        assert await pipeline.parked("sorting.letter-received") == 0
    finally:
        await pipeline.stop()


async def _some(pipeline: Pipeline, at_least: int) -> bool:
    try:
        return len(await pipeline.delivered_ids()) >= at_least
    except Exception:
        return False
