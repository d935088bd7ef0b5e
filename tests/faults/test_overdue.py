"""Nothing waits forever: delivery dies while it moves a sent bundle's letters, and its sweeper finishes
the job (each letter sent once, announced once); what then waits too long is on the monitor and in the
metrics, beside intake's and sorting's reports that came over the bus."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from pymongo import AsyncMongoClient

from tests.faults.pipeline import Pipeline, Tally

pytestmark = [pytest.mark.faults, pytest.mark.slow]

# Armed once the bundle is built: the first change delivery then writes with its event is the first
# letter's move to sent, where it dies; the bundle is marked sent, the second letter still bundled.
CRASH_AT = 1
# Short deadlines: a sent letter nobody confirmed is overdue after about 17 s; sweeps every second.
SWEEPS = {
    "intake": {"INTAKE_SWEEP_INTERVAL_S": "1"},
    "sorting": {"SORTING_SWEEP_INTERVAL_S": "1"},
    "delivery": {"DELIVERY_SWEEP_INTERVAL_S": "1", "DELIVERY_SWEEP_UNCONFIRMED_AFTER_DAYS": "0.0002"},
}


async def test_letters_a_crash_left_in_a_sent_bundle_are_sent_once_and_what_waits_is_reported(infra, tmp_path, record):
    pipeline = Pipeline(infra, "foverdue", tmp_path, env=SWEEPS).start()
    try:
        # p_demo_02's intermediary takes bundles by hand (the manual channel): an operator sends them.
        accepted, _ = await pipeline.submit(2, concurrency=1, prisoner_id="p_demo_02")
        ids = {a["id"] for a in accepted}
        await pipeline.wait_delivered(ids)
        operator = {"Authorization": f"Bearer {_demo_token(pipeline, 'staff token (operator)')}"}
        async with httpx.AsyncClient(base_url=pipeline.urls["delivery"], headers=operator, timeout=30) as client:
            built = await client.post("/api/v1/bundles/build", json={"intermediary_id": "i_demo_02"})
            assert built.status_code == 200, built.text
            (bundle_id,) = built.json()["made"]
            pipeline.services["delivery"].terminate(timeout=40)
            pipeline.restart_service("delivery", {"FAILPOINTS": f"outbox.after_change={CRASH_AT}"})
            with pytest.raises(httpx.HTTPError):
                await client.post(f"/api/v1/bundles/{bundle_id}/send")
        assert pipeline.services["delivery"].process.wait(timeout=10) == 137, "the failpoint did not fire"
        assert await _states(pipeline) == {"sent": 1, "bundled": 1}, "the crash left one letter behind"

        pipeline.restart_service("delivery")
        await _until(lambda: _states(pipeline), {"sent": 2}, 90, "the sweeper to move the letter left behind")
        await _until(lambda: _at_intake(pipeline, "sent", ids), 2, 30, "intake to hear both letters were sent")
        sent_events = await _delivery_outbox(pipeline, "sent")
        bundles = await _bundles(pipeline)

        report = await _until_overdue(pipeline, operator, ids)
        metrics = await _metrics(pipeline.urls["delivery"])
        record("a crash between a bundle sent and its letters moved", Tally(
            accepted=len(ids), delivered=len(await pipeline.delivered_ids()), lost=len(ids) - len(set(sent_events)),
            duplicated=len(sent_events) - len(set(sent_events)), unexpected=0,
            details={"bundles": bundles, "overdue": {r["service"]: len(r["overdue"]) for r in report["reports"]}},
            parked=await pipeline.parked_total()))

        assert sorted(sent_events) == sorted(ids), "one 'sent' event per letter, none twice"
        assert bundles == {bundle_id: "sent"}, "the bundle was sent once and never again"
        assert [r["service"] for r in report["reports"]] == ["delivery", "intake", "sorting"]
        delivery, intake, sorting = report["reports"]
        assert {(e["letter_id"], e["state"]) for e in delivery["overdue"]} == {(i, "sent") for i in ids}
        assert all("ask the intermediary" in e["note"] for e in delivery["overdue"])
        assert intake["overdue"] == [] and sorting["overdue"] == []
        assert metrics['delivery_overdue_healed_total{state="bundled"}'] == 1.0
        assert metrics['delivery_overdue_letters{state="sent"}'] == 2.0
        # The restarted delivery moved one letter to sent (the sweeper's) and sent nothing itself.
        assert metrics['delivery_letter_transitions_total{state="sent"}'] == 1.0
        assert not any(name.startswith("delivery_send_attempts_total") for name in metrics)
        assert await pipeline.parked_total() == 0
    finally:
        await pipeline.stop()


def _demo_token(pipeline: Pipeline, prefix: str) -> str:
    for line in (pipeline.log_dir / "tokens.txt").read_text().splitlines():
        if line.startswith(prefix):
            return line.rsplit(": ", 1)[1]
    raise KeyError(prefix)


async def _until_overdue(pipeline: Pipeline, operator: dict, ids: set[str], timeout: float = 90) -> dict:
    """The monitor's overdue letters once every service has reported and delivery lists both letters."""
    stop_at = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=pipeline.urls["delivery"], headers=operator, timeout=10) as client:
        while True:
            answer = await client.get("/api/v1/monitor/overdue")
            assert answer.status_code == 200, answer.text
            report = answer.json()
            listed = {e["letter_id"] for r in report["reports"] if r["service"] == "delivery" for e in r["overdue"]}
            if len(report["reports"]) == 3 and listed == ids:
                return report
            if time.monotonic() > stop_at:
                raise AssertionError(f"the monitor never listed every report and both letters: {report}")
            await asyncio.sleep(0.5)


async def _metrics(base_url: str) -> dict[str, float]:
    async with httpx.AsyncClient(timeout=10) as client:
        text = (await client.get(f"{base_url}/metrics")).text
    samples = {}
    for line in text.splitlines():
        if line.startswith("delivery_") and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return samples


async def _db(pipeline: Pipeline, service: str, query):
    client = AsyncMongoClient(pipeline.mongodb_url)
    try:
        return await query(client[f"{pipeline.namespace}-{service}"])
    finally:
        await client.close()


async def _states(pipeline: Pipeline) -> dict[str, int]:
    async def count(db) -> dict[str, int]:
        states: dict[str, int] = {}
        async for doc in db["outgoing"].find({}, {"state": 1}):
            states[doc["state"]] = states.get(doc["state"], 0) + 1
        return states
    return await _db(pipeline, "delivery", count)


async def _delivery_outbox(pipeline: Pipeline, state: str) -> list[str]:
    """The letters of every `letter.delivery_updated` delivery stored for this state."""
    async def letters(db) -> list[str]:
        return [doc["body"]["letter_id"] async for doc in db["outbox"].find({"routing_key": "letter.delivery_updated"})
                if doc["body"]["state"] == state]
    return await _db(pipeline, "delivery", letters)


async def _bundles(pipeline: Pipeline) -> dict[str, str]:
    async def bundles(db) -> dict[str, str]:
        return {doc["_id"]: doc["state"] async for doc in db["bundles"].find({}, {"state": 1})}
    return await _db(pipeline, "delivery", bundles)


async def _at_intake(pipeline: Pipeline, status: str, ids: set[str]) -> int:
    async def heard(db) -> int:
        found = {doc["letter_id"] async for doc in db["letter_timeline"].find({"status": status}, {"letter_id": 1})}
        return len(found & ids)
    return await _db(pipeline, "intake", heard)


async def _until(measure, wanted, timeout: float, what: str) -> None:
    stop_at = time.monotonic() + timeout
    while (value := await measure()) != wanted:
        if time.monotonic() > stop_at:
            raise AssertionError(f"timed out waiting for {what}: {value}, wanted {wanted}")
        await asyncio.sleep(0.25)
