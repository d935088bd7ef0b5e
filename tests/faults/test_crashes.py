"""Crashes of a stage, and of the outbox, in the middle of a run: nothing lost, nothing doubled."""

from __future__ import annotations

import asyncio
import time

import pytest
from pymongo import AsyncMongoClient

from shared.outbox import PENDING_SINCE
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


# Each service dies once, right after writing a change with its event and before publishing it: the
# moment where, before changes and events were one write, the event was lost and only an
# "announce again" on a retry or redelivery could bring it back.
CHANGE_CRASHES = {"intake": 40, "sorting": 70, "delivery": 100}


async def test_a_crash_between_each_change_and_its_event_settles_every_letter_exactly_once(infra, tmp_path, record):
    pipeline = Pipeline(infra, "fchange", tmp_path, env={
        name: {"FAILPOINTS": f"outbox.after_change={nth}"} for name, nth in CHANGE_CRASHES.items()}).start()
    try:
        submitting = asyncio.create_task(pipeline.submit(LETTERS, deadline_s=240))
        crashed = await _restart_each_once_it_crashes(pipeline, list(CHANGE_CRASHES))
        accepted, seen = await submitting
        ids = {a["id"] for a in accepted}
        await pipeline.wait_delivered(ids)
        # Every event reached its consumer: intake heard "queued" for every letter, and no document
        # still carries an event for the relay.
        await _until_settled_at_intake(pipeline, ids)
        await _until(lambda: _carried_events(pipeline), 0, 30, "every carried event relayed")
        tally = await pipeline.tally(accepted)
        tally.details |= {"crashed": crashed}
        record("a crash between each change and its event", tally)
        assert crashed == sorted(CHANGE_CRASHES), "a failpoint did not fire"
        assert 500 not in seen
        assert tally.accepted == tally.delivered == LETTERS
        assert (tally.lost, tally.duplicated, tally.unexpected, tally.parked) == (0, 0, 0, 0)
        assert tally.details["ready_events"] == tally.details["queued_events"] == LETTERS
    finally:
        await pipeline.stop()


async def _restart_each_once_it_crashes(pipeline: Pipeline, names: list[str], timeout: float = 240) -> list[str]:
    crashed: list[str] = []
    stop_at = time.monotonic() + timeout
    while len(crashed) < len(names) and time.monotonic() < stop_at:
        for name in names:
            process = pipeline.services[name]
            if name not in crashed and not process.running:
                assert process.process.returncode == 137, f"{name} exited with {process.process.returncode}"
                crashed.append(name)
                pipeline.env_overrides.pop(name, None)
                pipeline.restart_service(name, {"FAILPOINTS": ""})
        await asyncio.sleep(0.05)
    return sorted(crashed)


async def _until_settled_at_intake(pipeline: Pipeline, ids: set[str], timeout: float = 60) -> None:
    async def queued() -> int:
        client = AsyncMongoClient(pipeline.mongodb_url)
        try:
            timeline = client[f"{pipeline.namespace}-intake"]["letter_timeline"]
            return len({doc["letter_id"] async for doc in timeline.find({"status": "queued"}, {"letter_id": 1})} & ids)
        finally:
            await client.close()

    await _until(queued, len(ids), timeout, "intake to hear that every letter was queued")


async def _carried_events(pipeline: Pipeline) -> int:
    client = AsyncMongoClient(pipeline.mongodb_url)
    try:
        carried = 0
        for service, collection in (("intake", "letters"), ("sorting", "letters"), ("delivery", "outgoing")):
            carried += await client[f"{pipeline.namespace}-{service}"][collection].count_documents(
                {PENDING_SINCE: {"$exists": True}})
        return carried
    finally:
        await client.close()


async def _until(measure, wanted: int, timeout: float, what: str) -> None:
    stop_at = time.monotonic() + timeout
    while (value := await measure()) != wanted:
        if time.monotonic() > stop_at:
            raise AssertionError(f"timed out waiting for {what}: {value}, wanted {wanted}")
        await asyncio.sleep(0.25)
