"""Writers' contact data in the running system: sealed at rest, erasable by the writer or an admin, audited."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import httpx
import pytest
from pymongo import AsyncMongoClient

from deploy.local import ROOT

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def letter(email: str) -> dict:
    return {"prisoner_id": "p_demo_01", "body": "Здравствуйте! Желаю вам здоровья.", "client_ref": str(uuid.uuid4()),
            "author": {"display_name": "Оля", "email": email, "contact_consent": True}, "source": {"channel": "web"}}


@pytest.fixture
async def db(stack):
    client = AsyncMongoClient(stack.infra.mongodb_url)
    yield client[f"{stack.infra.namespace}-intake"]
    await client.close()


async def test_contact_is_sealed_and_the_writer_can_erase_it_with_the_receipt(stack, db):
    email = f"writer-{uuid.uuid4().hex[:8]}@example.org"
    admin = {"Authorization": f"Bearer {stack.demo_token('staff token (admin)')}"}
    async with httpx.AsyncClient(base_url=stack.url("intake"), timeout=30) as intake:
        accepted = (await intake.post("/api/v1/letters", json=letter(email))).json()
        stored = await db["letters"].find_one({"_id": accepted["id"]})
        assert stored["contact_ciphertext"].startswith("v1:") and email not in str(stored)

        other = (await intake.post("/api/v1/letters", json=letter("x@example.org"))).json()
        path = f"/api/v1/letters/{accepted['id']}/contact"
        assert (await intake.delete(path, params={"receipt_token": other["receipt_token"]})).status_code == 404
        assert (await intake.delete(path, params={"receipt_token": accepted["receipt_token"]})).status_code == 204
        assert (await db["letters"].find_one({"_id": accepted["id"]}))["contact_ciphertext"] is None

        audit = (await intake.get("/api/v1/audit", headers=admin)).json()
        assert any(e["action"] == "erased contact" and e["target"] == accepted["id"] and e["actor"] == "writer"
                   for e in audit)
        assert email not in str(audit)


async def test_an_admin_erases_an_address_from_every_letter_on_request(stack, db):
    email = f"Request-{uuid.uuid4().hex[:8]}@example.org"
    async with httpx.AsyncClient(base_url=stack.url("intake"), timeout=30) as intake:
        ids = [(await intake.post("/api/v1/letters", json=letter(email))).json()["id"] for _ in range(2)]
    done = subprocess.run(
        [sys.executable, "-m", "services.intake.cli", "erase-contact", "--email", email.lower(), "--actor", "admin.test"],
        cwd=ROOT, env={**os.environ, **stack.infra.env()}, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "erased the contact data of 2 letters" in done.stdout
    for letter_id in ids:
        assert (await db["letters"].find_one({"_id": letter_id}))["contact_ciphertext"] is None
    assert await db["audit"].count_documents({"actor": "admin.test", "action": "erased contact"}) == 2
