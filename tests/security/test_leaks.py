"""A writer's e-mail and phone number never leave intake's database, and there only sealed.

Writers submit with a unique e-mail address (consenting to notices) and phone numbers in their
name and in the letter, through every path (web, photographed pages, kiosk, a retry, a conflict,
invalid fields, an unknown prisoner, the screening check, the receipt, an erasure). Then:
(a) the three services' logs, (b) every message published on the session's letters exchange
(captured by the suite's own exclusive queue, bound before the first probe) and (c) every document
of the three services' databases are searched for them.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import secrets
import time

import pytest
from PIL import Image

from tests.security.conftest import bearer
from tests.support import letter

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), "white").save(out, "JPEG")
    return out.getvalue()


class Writer:
    """A writer whose contact data is unique to this run, so any trace of it is a leak."""

    def __init__(self) -> None:
        tag = secrets.token_hex(6)
        self.tag = f"sec-{tag}"
        self.email = f"{self.tag}@example.org"
        digits = "".join(str(secrets.randbelow(10)) for _ in range(7))
        self.name_phone = f"+38093{digits}"  # in the writer's name: must not even reach the bus
        more = "".join(str(secrets.randbelow(10)) for _ in range(7))
        self.body_phone = f"+380 67 {more[:3]} {more[3:5]} {more[5:]}"  # in the letter: travels with it, never logged
        self.body_phone_digits = f"38067{more}"

    def author(self, consent: bool = True, **extra) -> dict:
        return {"display_name": f"Оксана {self.name_phone}", "city": "Полтава", "email": self.email,
                "contact_consent": consent, **extra}

    def body(self) -> str:
        return f"Здравствуйте! Мой телефон {self.body_phone}, пишите. Желаю вам здоровья."

    def traces_in(self, text: str, *, with_body_phone: bool) -> list[str]:
        found = [needle for needle in (self.tag, self.name_phone, self.name_phone[1:]) if needle in text]
        if with_body_phone:
            found += [needle for needle in (self.body_phone, self.body_phone_digits) if needle in text]
        return found


def _bus_text(tap) -> str:
    return "\n".join(f"{key} {body.decode('utf-8', 'replace')}" for key, body in tap.messages())


def _every_document(dbs, limit: int = 20_000) -> list[tuple[str, str]]:
    found = []
    for name, db in dbs.items():
        for collection in db.list_collection_names():
            for doc in db[collection].find({}, limit=limit):
                found.append((f"{name}.{collection}", json.dumps(doc, default=str, ensure_ascii=False)))
    return found


async def _submit_every_way(probe, writer: Writer, tokens) -> dict[str, str]:
    """Submit through every path; returns the ids of the letters stored, by path."""
    ids = {}
    web = letter(body=writer.body(), author=writer.author())
    ids["web"] = (await probe.request("intake", "POST", "/api/v1/letters", expect=201, what="leak: web",
                                      json=web)).json()["id"]
    await probe.request("intake", "POST", "/api/v1/letters", expect=200, what="leak: retry", json=web)
    await probe.request("intake", "POST", "/api/v1/letters", expect=409, what="leak: conflict",
                        json={**web, "body": web["body"] + " Ещё."})
    pages = letter(body="", author=writer.author())
    ids["pages"] = (await probe.request("intake", "POST", "/api/v1/letters", expect=201, what="leak: pages",
                                        data={"letter": json.dumps(pages, ensure_ascii=False)},
                                        files=[("pages", ("p.jpg", photo(), "image/jpeg"))])).json()["id"]
    kiosk = letter(body=writer.body(), author=writer.author(), source={"channel": "kiosk"})
    ids["kiosk"] = (await probe.request("intake", "POST", "/api/v1/letters", expect=201, what="leak: kiosk",
                                        json=kiosk, headers=bearer(tokens["kiosk"]))).json()["id"]
    no_consent = letter(body=writer.body(), author=writer.author(consent=False))
    ids["no consent"] = (await probe.request("intake", "POST", "/api/v1/letters", expect=201,
                                             what="leak: no consent", json=no_consent)).json()["id"]
    for what, body, status in [
        ("extra author field", letter(author=writer.author(phone=writer.name_phone)), 422),
        ("e-mail without a domain", letter(author={**writer.author(), "email": f"{writer.tag}@localhost"}), 422),
        ("unknown prisoner", letter(prisoner_id="p_nobody", author=writer.author()), 404),
        ("body too long", letter(body=writer.body() * 400, author=writer.author()), 422),
        ("kiosk letter without a token", letter(author=writer.author(), source={"channel": "kiosk"}), 401),
    ]:
        await probe.request("intake", "POST", "/api/v1/letters", expect=status, what=f"leak: {what}", json=body)
    await probe.request("intake", "POST", "/api/v1/letters/check", expect=200, what="leak: check",
                        json=letter(body=writer.body(), author=writer.author()))
    await probe.request("intake", "POST", "/api/v1/letters/check", expect=422, what="leak: check invalid",
                        json=letter(body=writer.body(), author=writer.author(colour="red")))
    return ids


async def test_a_writers_contact_is_in_no_log_no_message_and_only_sealed_in_the_database(
    probe, stack, dbs, tokens, bus_tap, tally
):
    assert bus_tap.alive, "the bus tap lost its connection: messages of this run were not all captured"
    writer = Writer()
    ids = await _submit_every_way(probe, writer, tokens)
    accepted = (await probe.request("intake", "POST", "/api/v1/letters", expect=201, what="leak: receipt",
                                    json=letter(body=writer.body(), author=writer.author()))).json()
    await probe.request("intake", "GET", f"/api/v1/letters/{accepted['id']}", expect=200, what="leak: receipt",
                        params={"receipt_token": accepted["receipt_token"]})
    ids["receipt"] = accepted["id"]

    # Sorting has seen every letter (each carries a phone number, or pages, so each waits for a moderator).
    await bus_tap.until(lambda messages: all(any(i in body.decode("utf-8", "replace") and key != "letter.received"
                                                 for key, body in messages) for i in ids.values()),
                        timeout=45, what="sorting's verdict on every letter")

    letters = dbs["intake"]["letters"]
    first = letters.find_one({"_id": ids["web"]})
    leaks = []

    # (a) logs
    for service in ("intake", "sorting", "delivery"):
        found = writer.traces_in(stack.logs(service), with_body_phone=True)
        if found:
            leaks.append(f"{service} log contains {found}")
    # (b) every message on the bus: the letter may carry its own text (with the phone the writer put
    # in it) to sorting, but never the e-mail or anything of the writer's name beyond the first name.
    bus = _bus_text(bus_tap)
    assert all(i in bus for i in ids.values()), "the tap missed the letters' own events"
    found = writer.traces_in(bus, with_body_phone=False)
    if found:
        leaks.append(f"messages on the bus contain {found}")
    # (c) databases: the e-mail only sealed
    assert first["contact_ciphertext"].startswith("v1:")
    assert writer.email not in first["contact_ciphertext"] and writer.tag not in first["contact_ciphertext"]
    for unkeyed in (hashlib.sha256(writer.email.encode()).hexdigest(), hashlib.md5(writer.email.encode()).hexdigest(),
                    hashlib.sha256(writer.email.lower().encode()).hexdigest()):
        assert unkeyed not in json.dumps(first, default=str), "the e-mail is stored as an unkeyed hash"
    no_consent = letters.find_one({"_id": ids["no consent"]})
    assert not no_consent.get("contact_ciphertext"), "an e-mail was kept without consent"
    for where, text in _every_document(dbs):
        if writer.tag in text:
            leaks.append(f"{where} stores the e-mail in the clear")
    for item in leaks:
        tally.leak(item)
    assert not leaks, "\n".join(leaks)


async def test_the_writer_can_erase_their_contact_and_it_leaves_no_trace(probe, dbs, stack, tally):
    writer = Writer()
    accepted = (await probe.request("intake", "POST", "/api/v1/letters", expect=201, what="erase: submit", hostile=False,
                                    json=letter(body="Здравствуйте! Желаю вам сил.", author=writer.author()))).json()
    letters = dbs["intake"]["letters"]
    assert letters.find_one({"_id": accepted["id"]})["contact_ciphertext"].startswith("v1:")
    await probe.request("intake", "DELETE", f"/api/v1/letters/{accepted['id']}/contact", expect=204,
                        what="erase", params={"receipt_token": accepted["receipt_token"]})
    stored = letters.find_one({"_id": accepted["id"]})
    assert not stored.get("contact_ciphertext") and not stored.get("contact_lookup")
    audit = [text for where, text in _every_document(dbs) if where.endswith("audit")]
    assert not any(writer.tag in text for text in audit), "the audit log names the e-mail"
    found = writer.traces_in(stack.logs("intake"), with_body_phone=False)
    if found:
        tally.leak(f"intake log after an erasure contains {found}")
    assert not found


def _invalid_utf8(writer: Writer) -> tuple[str, bytes]:
    raw = json.dumps(letter(body="ПОДМЕНА", author=writer.author()), ensure_ascii=False).encode()
    return "/api/v1/letters", raw.replace("ПОДМЕНА".encode(), b"\xff\xfe")


def _lone_surrogate(writer: Writer) -> tuple[str, bytes]:
    raw = json.dumps(letter(body="ПОДМЕНА", author=writer.author()), ensure_ascii=False)
    return "/api/v1/letters/check", raw.replace("ПОДМЕНА", "\\ud800").encode()


@pytest.mark.parametrize(
    "malformed",
    [pytest.param(_invalid_utf8, id="invalid-utf8"),
     pytest.param(_lone_surrogate, id="lone-surrogate")],
)
async def test_a_malformed_letter_does_not_put_the_writers_contact_in_the_log(probe, stack, tally, malformed):
    writer = Writer()
    path, content = malformed(writer)
    await probe.request("intake", "POST", path, expect=None, what=f"leak: {malformed.__name__}", content=content,
                        headers={"Content-Type": "application/json"})
    # A crash is logged after its 500 is sent: give the log a few seconds to show what it will show.
    found: list[str] = []
    deadline = time.monotonic() + 3
    while not found and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        found = writer.traces_in(stack.logs("intake"), with_body_phone=False)
    if found:
        tally.leak(f"intake log contains the writer's {found} after a malformed letter")
    assert not found, f"intake's log contains {found}"


async def test_answers_never_echo_another_writers_contact(probe, tokens):
    """The receipt, the kiosk view and the staff views show no e-mail or name phone, even to staff."""
    writer = Writer()
    accepted = (await probe.request("intake", "POST", "/api/v1/letters", expect=201, what="echo: submit", hostile=False,
                                    json=letter(body=writer.body(), author=writer.author(),
                                                source={"channel": "kiosk"}),
                                    headers=bearer(tokens["kiosk"]))).json()
    views = [
        await probe.request("intake", "GET", f"/api/v1/letters/{accepted['id']}", expect=200, what="echo: receipt",
                            params={"receipt_token": accepted["receipt_token"]}),
        await probe.request("intake", "GET", f"/api/v1/letters/{accepted['id']}", expect=200, what="echo: admin",
                            headers=bearer(tokens["admin"])),
        await probe.request("intake", "GET", "/api/v1/kiosk", expect=200, what="echo: kiosk",
                            headers=bearer(tokens["kiosk"])),
        await probe.request("intake", "GET", "/api/v1/stats/live", expect=200, what="echo: stats",
                            headers=bearer(tokens["admin"])),
    ]
    for view in views:
        assert not writer.traces_in(view.text, with_body_phone=False), view.request.url
