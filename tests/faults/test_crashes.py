"""Crashes of a stage, and of the outbox, in the middle of a run: nothing lost, nothing doubled."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from pymongo import AsyncMongoClient

from shared.outbox import PENDING_SINCE
from tests.faults.pipeline import Pipeline, Tally

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


# A moderator's decision and its event are one write too: sorting dies right after writing the
# third rejection, before publishing it. The rejection survives with its event, which the relay
# publishes once sorting is back, without the moderator sending the decision again.
MODERATED = 12
CRASHED_DECISION = 3


async def test_a_crash_between_a_moderators_decision_and_its_event_loses_neither(infra, tmp_path, record):
    # Every letter waits for a moderator. The failpoint counts sorting's announced moves: first each
    # letter's move to review, then the rejections.
    in_review = {"SORTING_AUTO_APPROVE": "false"}
    pipeline = Pipeline(infra, "fdecision", tmp_path, env={"sorting": {
        **in_review, "FAILPOINTS": f"outbox.after_change={MODERATED + CRASHED_DECISION}"}}).start()
    try:
        accepted, _ = await pipeline.submit(MODERATED)
        ids = [a["id"] for a in accepted]
        await _until(lambda: _sorted_in(pipeline, "review_needed"), MODERATED, 60, "every letter in review")
        moderator = {"Authorization": f"Bearer {await _moderator_token(pipeline)}"}
        crashed: list[str] = []
        async with httpx.AsyncClient(timeout=30) as client:
            for letter_id in ids:
                try:
                    answer = await client.post(f"{pipeline.urls['sorting']}/api/v1/moderation/letters/{letter_id}/reject",
                                               json={"reason_code": "case_details"}, headers=moderator)
                    assert answer.status_code == 200, answer.text
                except httpx.HTTPError:
                    # Sorting died inside this decision; it is not sent again.
                    assert pipeline.services["sorting"].process.wait(timeout=10) == 137
                    crashed.append(letter_id)
                    pipeline.env_overrides["sorting"] = in_review
                    pipeline.restart_service("sorting", {"FAILPOINTS": ""})
        assert crashed == [ids[CRASHED_DECISION - 1]], "the failpoint did not fire at the third decision"
        # Intake heard every rejection, the crashed one from the relay after the restart.
        await _until(lambda: _at_intake(pipeline, "rejected", set(ids)), MODERATED, 60,
                     "intake to hear every rejection")
        await _until(lambda: _carried_events(pipeline), 0, 30, "every carried event relayed")
        events = await _sorting_outbox(pipeline, "letter.rejected")
        record("a crash between a moderator's decision and its event", Tally(
            accepted=len(ids), delivered=0, rejected=len(set(events["published"])),
            lost=MODERATED - len(events["published"]),
            duplicated=len(events["all"]) - len(set(events["all"])), unexpected=0,
            details={"rejected": await _sorted_in(pipeline, "rejected"), "crashed": len(crashed)},
            parked=await pipeline.parked_total()))
        assert await _sorted_in(pipeline, "rejected") == MODERATED
        assert sorted(events["all"]) == sorted(events["published"]) == sorted(ids), "one event per decision"
        assert await pipeline.parked_total() == 0
    finally:
        await pipeline.stop()


async def _moderator_token(pipeline: Pipeline) -> str:
    """A moderator's token issued through intake's admin API, once sorting has heard of it."""
    admin = {"Authorization": f"Bearer {_demo_token(pipeline, 'staff token (admin)')}"}
    async with httpx.AsyncClient(timeout=30) as client:
        issued = await client.post(f"{pipeline.urls['intake']}/api/v1/staff/tokens", headers=admin,
                                   json={"subject": "fault-moderator", "role": "moderator", "days": 1})
        assert issued.status_code == 201, issued.text
        token = issued.json()["token"]

        async def known() -> int:
            answer = await client.get(f"{pipeline.urls['sorting']}/api/v1/moderation/facets",
                                      headers={"Authorization": f"Bearer {token}"})
            return int(answer.status_code == 200)

        await _until(known, 1, 30, "sorting to learn the moderator's token")
    return token


def _demo_token(pipeline: Pipeline, prefix: str) -> str:
    for line in (pipeline.log_dir / "tokens.txt").read_text().splitlines():
        if line.startswith(prefix):
            return line.rsplit(": ", 1)[1]
    raise KeyError(prefix)


async def _sorted_in(pipeline: Pipeline, state: str) -> int:
    client = AsyncMongoClient(pipeline.mongodb_url)
    try:
        return await client[f"{pipeline.namespace}-sorting"]["letters"].count_documents({"state": state})
    finally:
        await client.close()


async def _at_intake(pipeline: Pipeline, status: str, ids: set[str]) -> int:
    client = AsyncMongoClient(pipeline.mongodb_url)
    try:
        timeline = client[f"{pipeline.namespace}-intake"]["letter_timeline"]
        return len({doc["letter_id"] async for doc in timeline.find({"status": status}, {"letter_id": 1})} & ids)
    finally:
        await client.close()


async def _sorting_outbox(pipeline: Pipeline, routing_key: str) -> dict[str, list[str]]:
    """The letters of the events sorting stored, and of those it marked published."""
    client = AsyncMongoClient(pipeline.mongodb_url)
    try:
        outbox = client[f"{pipeline.namespace}-sorting"]["outbox"]
        found = [doc async for doc in outbox.find({"routing_key": routing_key}, {"body": 1, "published": 1})]
        return {"all": [doc["body"]["letter_id"] for doc in found],
                "published": [doc["body"]["letter_id"] for doc in found if doc.get("published")]}
    finally:
        await client.close()


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
        for service, collection in (("intake", "letters"), ("intake", "prisoners"), ("intake", "staff_tokens"),
                                    ("sorting", "letters"), ("delivery", "outgoing")):
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
