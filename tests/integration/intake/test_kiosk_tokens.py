"""Kiosk tokens through the running intake: accepted only around their event's days, and refused from
the next request on once staff unpaired the kiosk (by the API or the staff CLI)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from deploy.local import ROOT
from tests.support import bearer

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def kiosk_letter() -> dict:
    return {"prisoner_id": "p_demo_03", "body": "Здравствуйте! Желаю вам здоровья и сил.",
            "client_ref": str(uuid.uuid4()), "source": {"channel": "kiosk"}}


async def kiosk_at(intake, stack, first: date, last: date) -> tuple[str, str, str]:
    """A new event with these days and a kiosk paired for it: (event id, kiosk id, token)."""
    admin = bearer(stack.demo_token("staff token (admin)"))
    event = {"id": f"e_{uuid.uuid4().hex[:8]}", "name": "Fair", "city": "Lviv", "country": "UA",
             "starts_on": first.isoformat(), "ends_on": last.isoformat()}
    assert (await intake.post("/api/v1/events", json=event, headers=admin)).status_code == 201
    kiosk_id = f"k_{uuid.uuid4().hex[:8]}"
    made = await intake.post(f"/api/v1/events/{event['id']}/kiosks", json={"kiosk_id": kiosk_id, "name": "Stand"},
                             headers=admin)
    assert made.status_code == 201, made.text
    return event["id"], kiosk_id, made.json()["token"]


def today() -> date:
    return datetime.now(UTC).date()


async def test_a_kiosk_token_works_from_the_day_before_its_event_to_the_day_after(intake, stack):
    for first, last in ((today() + timedelta(days=1), today() + timedelta(days=3)),
                        (today() - timedelta(days=3), today() - timedelta(days=1))):
        _, _, token = await kiosk_at(intake, stack, first, last)
        me = await intake.get("/api/v1/kiosk", headers=bearer(token))
        assert me.status_code == 200, me.text
        assert (me.json()["valid_from"], me.json()["valid_until"]) == \
            ((first - timedelta(days=1)).isoformat(), (last + timedelta(days=1)).isoformat())
        assert (await intake.post("/api/v1/letters", json=kiosk_letter(), headers=bearer(token))).status_code == 201


@pytest.mark.parametrize("days", [(2, 4), (-4, -2)], ids=["two days before", "two days after"])
async def test_a_kiosk_token_away_from_its_events_days_is_refused(intake, stack, days):
    first, last = (today() + timedelta(days=n) for n in days)
    _, _, token = await kiosk_at(intake, stack, first, last)
    answer = await intake.get("/api/v1/kiosk", headers=bearer(token))
    assert answer.status_code == 403, answer.text
    assert answer.json()["kiosk_refused"] == "outside_event_dates"
    sent = await intake.post("/api/v1/letters", json=kiosk_letter(), headers=bearer(token))
    if first > today():
        assert sent.status_code == 403 and sent.json()["kiosk_refused"] == "outside_event_dates", sent.text
    else:
        # A tablet that was offline at the fair still sends the letters written there (kiosks.LATE_SENDING).
        assert sent.status_code == 201, sent.text


async def test_a_kiosks_letters_are_refused_once_the_late_sending_days_are_over(intake, stack):
    first, last = today() - timedelta(days=20), today() - timedelta(days=18)
    _, _, token = await kiosk_at(intake, stack, first, last)
    sent = await intake.post("/api/v1/letters", json=kiosk_letter(), headers=bearer(token))
    assert sent.status_code == 403 and sent.json()["kiosk_refused"] == "outside_event_dates", sent.text


async def test_an_unpaired_kiosk_is_refused_on_its_next_request(intake, stack):
    event_id, kiosk_id, token = await kiosk_at(intake, stack, today(), today())
    assert (await intake.post("/api/v1/letters", json=kiosk_letter(), headers=bearer(token))).status_code == 201
    operator = bearer(stack.demo_token("staff token (operator)"))
    moderator = bearer(stack.demo_token("staff token (moderator)"))
    path = f"/api/v1/events/{event_id}/kiosks/{kiosk_id}"
    assert (await intake.delete(path, headers=moderator)).status_code == 403
    assert (await intake.get("/api/v1/kiosk", headers=bearer(token))).status_code == 200  # not yet

    assert (await intake.delete(path, headers=operator)).status_code == 204
    for answer in (await intake.get("/api/v1/kiosk", headers=bearer(token)),
                   await intake.post("/api/v1/letters", json=kiosk_letter(), headers=bearer(token))):
        assert answer.status_code == 403, answer.text
        assert answer.json() == {"detail": "this kiosk was unpaired by the organisers", "kiosk_refused": "unpaired"}
    assert (await intake.delete(path, headers=operator)).status_code == 204  # again: nothing changes
    assert (await intake.delete(f"/api/v1/events/{event_id}/kiosks/k_never", headers=operator)).status_code == 404
    audit = (await intake.get("/api/v1/audit", headers=bearer(stack.demo_token("staff token (admin)")))).json()
    assert any(e["action"] == "revoked kiosk token" and e["target"] == kiosk_id for e in audit)


async def test_the_staff_cli_unpairs_a_kiosk(intake, stack):
    event_id, kiosk_id, token = await kiosk_at(intake, stack, today(), today() + timedelta(days=1))
    assert (await intake.get("/api/v1/kiosk", headers=bearer(token))).status_code == 200
    env = {**os.environ, **stack.infra.env()}
    done = subprocess.run([sys.executable, "-m", "services.intake.cli", "revoke-kiosk", "--actor", "test.admin",
                           event_id, kiosk_id],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    answer = await intake.get("/api/v1/kiosk", headers=bearer(token))
    assert answer.status_code == 403 and answer.json()["kiosk_refused"] == "unpaired"
    unknown = subprocess.run([sys.executable, "-m", "services.intake.cli", "revoke-kiosk", "--actor", "test.admin",
                              event_id, "k_never"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert unknown.returncode == 1 and "no kiosk" in unknown.stderr
