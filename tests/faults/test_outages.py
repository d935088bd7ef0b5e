"""Outages of RabbitMQ, MongoDB and S3 in the middle of a run: nothing lost, nothing doubled."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
import uuid

import httpx
import pytest

from tests.faults.pipeline import Pipeline
from tests.support import eventually

pytestmark = [pytest.mark.faults, pytest.mark.slow]

LETTERS = 300


@pytest.mark.skipif(shutil.which("rabbitmqctl") is None, reason="needs the machine's own RabbitMQ to restart")
async def test_rabbitmq_restart_mid_run_needs_no_service_restart(infra, tmp_path, record):
    if infra.sources["rabbitmq"] != "local rabbitmq-server":
        pytest.skip("only the machine's own RabbitMQ may be restarted")
    pipeline = Pipeline(infra, "frabbit", tmp_path).start()
    try:
        pids = {name: p.process.pid for name, p in pipeline.services.items()}
        submitting = asyncio.create_task(pipeline.submit(LETTERS))
        await eventually(lambda: _some(pipeline, 30), 120, "30 letters delivered")
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
        await eventually(lambda: _some(pipeline, 20), 120, "20 letters delivered")
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


async def test_mongodb_paused_for_thirty_seconds_answers_503_within_seconds_and_every_letter_goes_through(
    infra, tmp_path, record
):
    # SIGSTOP: connections are accepted and nothing answers, so only timeouts can end a request.
    pipeline = Pipeline(infra, "fpause", tmp_path, own_servers=True).start()
    try:
        submitting = asyncio.create_task(pipeline.submit(LETTERS, deadline_s=240))
        await eventually(lambda: _some(pipeline, 20), 120, "20 letters delivered")
        pipeline.mongo.pause()
        try:
            answers = await _submit_meanwhile(pipeline.urls["intake"], seconds=30)
        finally:
            pipeline.mongo.resume()
        accepted, seen = await submitting
        await pipeline.wait_delivered({a["id"] for a in accepted}, timeout=240)
        tally = await pipeline.tally(accepted)
        slowest = max((waited for _, waited in answers), default=0.0)
        tally.details |= {"answers_while_paused": len(answers), "slowest_s": round(slowest, 1)}
        record("MongoDB paused 30 s", tally)
        assert answers, "no request met the pause"
        assert {status for status, _ in answers} == {503}
        assert slowest < 10, f"a request waited {slowest:.1f}s for a paused database"
        assert 500 not in seen
        assert (tally.lost, tally.duplicated, tally.unexpected) == (0, 0, 0)
        assert tally.parked == 0, "a message was parked during a 30 s pause"
    finally:
        await pipeline.stop()


async def _submit_meanwhile(intake: str, seconds: float) -> list[tuple[int, float]]:
    """One writer after another while the database is paused: each answer's status and how long it took."""
    answers = []
    stop_at = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=intake, timeout=60) as client:
        while time.monotonic() < stop_at:
            started = time.monotonic()
            answer = await client.post("/api/v1/letters", json={
                "prisoner_id": "p_demo_01", "body": "Здравствуйте! Желаю вам здоровья.",
                "client_ref": str(uuid.uuid4()), "source": {"channel": "web"}})
            answers.append((answer.status_code, time.monotonic() - started))
    return answers


async def test_s3_down_during_sorting_letters_wait_and_none_is_parked(infra, tmp_path, record):
    pipeline = Pipeline(infra, "fs3", tmp_path, own_servers=True).start()
    try:
        submitting = asyncio.create_task(pipeline.submit(LETTERS))
        await eventually(lambda: _some(pipeline, 20), 120, "20 letters delivered")
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


# The object store away longer than one delivery's patience and well within ten (shared/reliability.py):
# a paused S3 answers no call, so each takes the read timeout twice (S3_READ_TIMEOUT_S 5 s × 2 attempts);
# the handler retries for TRANSIENT_RETRY_S 45 s, so one delivery gives up after about 55 s and the
# message goes back to its queue; ten deliveries (DELIVERY_LIMIT) are about 9 minutes of patience.
S3_AWAY_S = 120


async def test_s3_away_two_minutes_letters_are_requeued_not_parked_and_all_go_through(infra, tmp_path, record):
    pipeline = Pipeline(infra, "fs3long", tmp_path, own_servers=True).start()
    try:
        submitting = asyncio.create_task(pipeline.submit(LETTERS))
        await eventually(lambda: _some(pipeline, 20), 120, "20 letters delivered")
        pipeline.s3.pause()
        try:
            await asyncio.sleep(S3_AWAY_S)
        finally:
            pipeline.s3.resume()
        accepted, seen = await submitting
        await pipeline.wait_delivered({a["id"] for a in accepted}, timeout=240)
        tally = await pipeline.tally(accepted)
        requeued = _log_lines(pipeline, "sorting", "handler failed, message goes back to its queue")
        tally.details |= {"requeued_deliveries": requeued}
        record(f"S3 away {S3_AWAY_S} s", tally)
        assert requeued, "no delivery outlasted its retries: the outage did not test the requeue"
        assert 500 not in seen
        assert (tally.lost, tally.duplicated, tally.unexpected, tally.parked) == (0, 0, 0, 0)
        assert tally.details["scans"] == LETTERS
    finally:
        await pipeline.stop()


def _log_lines(pipeline: Pipeline, service: str, message: str) -> int:
    lines = (pipeline.log_dir / f"{service}.log").read_text(errors="replace").splitlines()
    return sum(1 for line in lines if message in line)


async def _some(pipeline: Pipeline, at_least: int) -> bool:
    try:
        return len(await pipeline.delivered_ids()) >= at_least
    except Exception:
        return False
