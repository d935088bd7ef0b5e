"""Loads the fictional demo campaign into an empty intake database and hands out its tokens once."""

from __future__ import annotations

import logging
import os
from datetime import UTC, date, datetime
from pathlib import Path

from services.intake.staff import PrisonerRecord, issue_staff_token, save_prisoner
from shared.demo import demo_campaign

log = logging.getLogger("intake.demo")


async def load_demo_campaign(intake) -> None:
    if not await intake.prisoners.is_empty():
        return
    campaign = demo_campaign()
    for prisoner in campaign["prisoners"]:
        await save_prisoner(PrisonerRecord.model_validate(prisoner), intake.prisoners, intake.outbox)
    for event in campaign["events"]:
        await intake.campaign_events.upsert(_from_today(event))
    lines = []
    for kiosk in campaign["kiosks"]:
        token = await intake.tokens.issue(
            "kiosk", subject=kiosk["id"], event_id=kiosk["event_id"], name=kiosk["name"]
        )
        lines.append(f"kiosk token for {kiosk['id']} at {kiosk['event_id']}: {token}")
    for role in ("admin", "moderator", "operator"):
        token = await issue_staff_token(f"demo-{role}", role, 30, intake.tokens, intake.outbox, intake.signer)
        lines.append(f"staff token ({role}): {token}")
    _hand_out("\n".join(lines))
    log.info("demo campaign loaded", extra={"prisoners": len(campaign["prisoners"])})


def _from_today(event: dict) -> dict:
    """The demo's event begins on the day the demo is loaded and lasts as long as in the file: a kiosk
    token works only around its event's days (services/intake/kiosks.py), and the demo kiosk must work."""
    first, last = (date.fromisoformat(str(event[key])[:10]) for key in ("starts_on", "ends_on"))
    today = datetime.now(UTC).date()
    return {**event, "starts_on": today.isoformat(), "ends_on": (today + (last - first)).isoformat()}


def _hand_out(text: str) -> None:
    # Tokens are shown once and stored only hashed; they never go into the structured logs.
    target = os.environ.get("DEMO_TOKENS_FILE")
    if target:
        Path(target).write_text(text + "\n", encoding="utf-8")
    else:
        print(text, flush=True)
