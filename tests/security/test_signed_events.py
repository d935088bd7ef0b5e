"""Internal messages cannot grant rights: staff-token events published by anyone but intake are refused.

The attacker here is anyone who can reach the broker with the local guest credentials: they
publish `staff.token_changed` straight to the letters exchange (aio-pika, no FastStream, no
intake), announcing a token of their own as an admin's. Sorting and delivery must refuse it (the
token stays a 401 there), count the refusal, and go on applying what intake signs.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import secrets
import time
import uuid
from datetime import timedelta

import aio_pika
import httpx
import pytest

from shared.auth import hash_token
from shared.events import StaffTokenChanged, utc_now
from shared.signing import EventSigner, new_key_pair
from tests.security.conftest import bearer
from tests.support import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# A read each service guards with a staff role (admin passes every guard).
STAFF_READS = {"sorting": "/api/v1/moderation/facets", "delivery": "/api/v1/audit"}


async def publish_as_attacker(stack, body: dict) -> None:
    """Straight to the broker with the guest user, as anyone on the host could."""
    connection = await aio_pika.connect(stack.infra.amqp_url, timeout=10)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.get_exchange(f"{stack.infra.namespace}.letters", ensure=True)
        await exchange.publish(
            aio_pika.Message(json.dumps(body).encode(), content_type="application/json",
                             message_id=str(uuid.uuid4()), type=StaffTokenChanged.routing_key,
                             delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
            routing_key=StaffTokenChanged.routing_key,
        )


def refused_counts(stack, service: str) -> dict[str, float]:
    text = httpx.get(f"{stack.url(service)}/metrics", timeout=10).text
    return {reason: float(value) for reason, value in
            re.findall(r'^staff_events_refused_total\{reason="([a-z_]+)"\} ([0-9.e+]+)$', text, re.MULTILINE)}


async def until_refused(stack, before: dict[str, dict[str, float]], expected: dict[str, int],
                        timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        now = {service: refused_counts(stack, service) for service in STAFF_READS}
        missing = {service: {reason: now[service].get(reason, 0) - before[service].get(reason, 0)
                             for reason in expected}
                   for service in STAFF_READS}
        if all(missing[s][r] >= n for s in STAFF_READS for r, n in expected.items()):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"refusals not counted in time: wanted {expected}, counted {missing}")
        await asyncio.sleep(0.3)


async def status_everywhere(probe, token: str, what: str, *, hostile: bool = True) -> dict[str, int]:
    answers = {}
    for service, path in STAFF_READS.items():
        answer = await probe.request(service, "GET", path, expect=None, what=what, hostile=hostile,
                                     headers=bearer(token))
        answers[service] = answer.status_code if answer is not None else 0
    return answers


def forged_change(token: str, **overrides) -> StaffTokenChanged:
    return StaffTokenChanged(**{"token_hash": hash_token(token), "subject": "mallory", "role": "admin",
                                "expires_at": utc_now() + timedelta(days=366), **overrides})


async def test_forged_staff_token_events_are_refused_by_sorting_and_delivery(stack, probe, tokens):
    unsigned, foreign, tampered = (secrets.token_urlsafe(32) for _ in range(3))
    stranger = EventSigner(new_key_pair()[0])
    made_up = base64.b64encode(secrets.token_bytes(64)).decode()  # the shape of a signature, by no key
    before = {service: refused_counts(stack, service) for service in STAFF_READS}

    await publish_as_attacker(stack, forged_change(unsigned).model_dump(mode="json"))
    await publish_as_attacker(stack, stranger.sign(forged_change(foreign)).model_dump(mode="json"))
    await publish_as_attacker(stack, forged_change(tampered, signature=made_up).model_dump(mode="json"))
    await until_refused(stack, before, {"unsigned": 1, "bad_signature": 2})

    for what, token in {"unsigned": unsigned, "signed by another key": foreign, "a made-up signature": tampered}.items():
        assert await status_everywhere(probe, token, f"forged token ({what})") == {s: 401 for s in STAFF_READS}
    # Control: a token issued through intake reaches both services and works there.
    issued = (await probe.request("intake", "POST", "/api/v1/staff/tokens", expect=201, what="issue", hostile=False,
                                  json={"subject": f"sec.signed.{secrets.token_hex(3)}", "role": "admin"},
                                  headers=bearer(tokens["admin"]))).json()

    async def works_everywhere() -> bool:
        return all(code == 200 for code in (await status_everywhere(probe, issued["token"], "issued",
                                                                    hostile=False)).values())

    await eventually(works_everywhere, 20, "the token issued through intake to work on sorting and delivery")


async def test_a_genuine_event_altered_or_replayed_grants_nothing(stack, probe, tokens, bus_tap):
    admin = bearer(tokens["admin"])
    issued = (await probe.request("intake", "POST", "/api/v1/staff/tokens", expect=201, what="issue", hostile=False,
                                  json={"subject": f"sec.replay.{secrets.token_hex(3)}", "role": "moderator"},
                                  headers=admin)).json()

    def announcement(messages) -> dict | None:
        return next((json.loads(body) for key, body in messages if key == StaffTokenChanged.routing_key
                     and json.loads(body)["token_hash"] == issued["token_hash"]), None)

    await bus_tap.until(lambda messages: announcement(messages) is not None, 20, "the new token's announcement")
    captured = announcement(bus_tap.messages())
    assert captured["signature"], "intake announced the token unsigned"
    # A moderator: sorting's moderation queue opens, delivery's audit log does not.
    as_moderator = {"sorting": 200, "delivery": 403}

    async def reached(expected: dict[str, int]) -> bool:
        return await status_everywhere(probe, issued["token"], "issued", hostile=False) == expected

    await eventually(lambda: reached(as_moderator), 20, "the new token to reach sorting and delivery")

    before = {service: refused_counts(stack, service) for service in STAFF_READS}
    await publish_as_attacker(stack, captured | {"role": "admin", "event_id": str(uuid.uuid4())})
    await until_refused(stack, before, {"bad_signature": 1})
    assert await status_everywhere(probe, issued["token"], "promoted by an altered event") == as_moderator

    await probe.request("intake", "DELETE", f"/api/v1/staff/tokens/{issued['token_hash']}", expect=204,
                        what="revoke", hostile=False, headers=admin)
    revoked = {service: 401 for service in STAFF_READS}
    await eventually(lambda: reached(revoked), 20, "the revocation to reach sorting and delivery")
    before = {service: refused_counts(stack, service) for service in STAFF_READS}
    await publish_as_attacker(stack, captured)
    await until_refused(stack, before, {"replayed": 1})
    assert await status_everywhere(probe, issued["token"], "replayed announcement") == revoked
