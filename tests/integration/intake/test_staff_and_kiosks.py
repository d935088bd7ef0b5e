"""Who may do what in intake, kiosks bound to events, the directory and its CSV import, rate limits."""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from deploy.local import ROOT, free_port, service_env, service_process, wait_until
from tests.support import bearer

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

STAFF_ENDPOINTS = [
    ("GET", "/api/v1/staff/prisoners", None),
    ("POST", "/api/v1/prisoners", {"id": "p_x", "names": {"uk": "А", "ru": "А", "en": "A"}}),
    ("PATCH", "/api/v1/prisoners/p_demo_01", {"notes": "x"}),
    ("POST", "/api/v1/prisoners/p_demo_01/status", {"status": "transferred"}),
    ("POST", "/api/v1/events", {"id": "e_x", "name": "X", "city": "Lviv", "country": "UA",
                                "starts_on": "2026-12-01", "ends_on": "2026-12-02"}),
    ("POST", "/api/v1/events/e_demo_kyiv_book_fair/kiosks", {"kiosk_id": "k_x", "name": "X"}),
    ("POST", "/api/v1/staff/tokens", {"subject": "x", "role": "moderator"}),
]


def letter(**overrides) -> dict:
    return {"prisoner_id": "p_demo_03", "body": "Здравствуйте! Желаю вам здоровья и сил.",
            "client_ref": str(uuid.uuid4()), "source": {"channel": "web"}, **overrides}


@pytest.mark.parametrize(("method", "path", "body"), STAFF_ENDPOINTS, ids=[p for _, p, _ in STAFF_ENDPOINTS])
async def test_staff_endpoints_refuse_anonymous_kiosk_and_revoked_callers(intake, stack, method, path, body):
    assert (await intake.request(method, path, json=body)).status_code == 401
    kiosk = bearer(stack.demo_token("kiosk token"))
    assert (await intake.request(method, path, json=body, headers=kiosk)).status_code == 401
    assert (await intake.request(method, path, json=body, headers=bearer("not-a-token"))).status_code == 401


@pytest.mark.parametrize(("method", "path", "body"), STAFF_ENDPOINTS, ids=[p for _, p, _ in STAFF_ENDPOINTS])
async def test_a_moderator_may_not_change_the_directory_or_issue_tokens(intake, stack, method, path, body):
    moderator = bearer(stack.demo_token("staff token (moderator)"))
    assert (await intake.request(method, path, json=body, headers=moderator)).status_code == 403


async def test_a_revoked_staff_token_stops_working(intake, stack):
    admin = bearer(stack.demo_token("staff token (admin)"))
    issued = (await intake.post("/api/v1/staff/tokens", json={"subject": "temp.op", "role": "operator"},
                                headers=admin)).json()
    assert (await intake.get("/api/v1/staff/prisoners", headers=bearer(issued["token"]))).status_code == 200
    assert (await intake.delete(f"/api/v1/staff/tokens/{issued['token_hash']}", headers=admin)).status_code == 204
    assert (await intake.get("/api/v1/staff/prisoners", headers=bearer(issued["token"]))).status_code == 401


async def test_kiosk_letters_are_bound_to_its_event_and_counted_live(intake, stack):
    admin = bearer(stack.demo_token("staff token (admin)"))
    today = datetime.now(UTC).date()  # a kiosk token works only around its event's days
    event = {"id": f"e_{uuid.uuid4().hex[:8]}", "name": "Book fair", "city": "Warsaw", "country": "PL",
             "starts_on": today.isoformat(), "ends_on": (today + timedelta(days=2)).isoformat()}
    assert (await intake.post("/api/v1/events", json=event, headers=admin)).status_code == 201
    kiosk = (await intake.post(f"/api/v1/events/{event['id']}/kiosks", json={"kiosk_id": "k_warsaw_1", "name": "Stand"},
                               headers=admin)).json()
    me = (await intake.get("/api/v1/kiosk", headers=bearer(kiosk["token"]))).json()
    assert me["event"]["city"] == "Warsaw" and me["letters_collected"] == 0

    for _ in range(2):
        sent = await intake.post("/api/v1/letters", json=letter(source={"channel": "kiosk"}),
                                 headers=bearer(kiosk["token"]))
        assert sent.status_code == 201
    counts = (await intake.get("/api/v1/stats/live", headers=admin)).json()
    assert counts["by_event"][event["id"]] == 2 and counts["by_kiosk"]["k_warsaw_1"] == 2
    assert (await intake.get("/api/v1/kiosk", headers=bearer(kiosk["token"]))).json()["letters_collected"] == 2


async def test_kiosk_submissions_need_a_kiosk_token(intake, stack):
    kiosk_letter = letter(source={"channel": "kiosk"})
    assert (await intake.post("/api/v1/letters", json=kiosk_letter)).status_code == 401
    staff = bearer(stack.demo_token("staff token (operator)"))
    assert (await intake.post("/api/v1/letters", json=kiosk_letter, headers=staff)).status_code == 403
    assert (await intake.get("/api/v1/kiosk")).status_code == 401


async def test_directory_puts_those_most_in_need_first_and_hides_notes(intake, stack):
    admin = bearer(stack.demo_token("staff token (admin)"))
    new_id = f"p_{uuid.uuid4().hex[:8]}"
    record = {"id": new_id, "names": {"uk": "Тест", "ru": "Тест", "en": "Test"}, "notes": "private: lawyer's number"}
    assert (await intake.post("/api/v1/prisoners", json=record, headers=admin)).status_code == 201
    public = (await intake.get("/api/v1/prisoners")).json()
    writable = [p["writable"] for p in public]
    assert writable == sorted(writable, reverse=True)  # the released and the deceased last
    # No letter yet: ahead of everyone who had one and has no birthday or holiday coming (attention.py).
    order = [p["id"] for p in public]
    assert all(order.index(p["id"]) > order.index(new_id) for p in public
               if p["writable"] and p["letters_received"] > 0 and not p["occasions"])
    assert "private" not in str(public) and all("notes" not in p for p in public)
    staff_view = (await intake.get("/api/v1/staff/prisoners", headers=admin)).json()
    assert any(p.get("notes") == record["notes"] for p in staff_view)

    released = await intake.post(f"/api/v1/prisoners/{new_id}/status", json={"status": "released"}, headers=admin)
    assert released.json()["status"] == "released"
    assert next(p for p in (await intake.get("/api/v1/prisoners")).json() if p["id"] == new_id)["status"] == "released"


async def test_csv_import_loads_the_directory(intake, stack, tmp_path):
    ids = [f"p_csv_{uuid.uuid4().hex[:6]}" for _ in range(2)]
    csv = "id,name_uk,name_ru,name_en,status,status_since,birthday,description_uk,description_ru,description_en\n"
    csv += f"{ids[0]},Ремзі,Ремзи,Remzi,detained,,1985-03-14,Опис,Описание,Description\n"
    csv += f"{ids[1]},Сервер,Сервер,Server,released,2026-01-10,,,,\n"
    path = tmp_path / "directory.csv"
    path.write_text(csv, encoding="utf-8")
    env = {**stack.infra.env()}
    done = subprocess.run([sys.executable, "-m", "services.intake.cli", "import-prisoners", "--actor", "test.admin",
                           str(path)],
                          cwd=ROOT, env={**__import__("os").environ, **env}, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "imported 2 prisoners" in done.stdout
    directory = {p["id"]: p for p in (await intake.get("/api/v1/prisoners")).json()}
    assert directory[ids[0]]["names"]["en"] == "Remzi" and directory[ids[0]]["birthday"] == "1985-03-14"
    assert directory[ids[1]]["status"] == "released"

    path.write_text("id,name_uk\nbroken,Х\n", encoding="utf-8")
    refused = subprocess.run([sys.executable, "-m", "services.intake.cli", "import-prisoners", "--actor", "test.admin",
                           str(path)],
                             cwd=ROOT, env={**__import__("os").environ, **env}, capture_output=True, text=True,
                             timeout=60)
    assert refused.returncode == 2 and "line 2" in refused.stderr


async def test_anonymous_writers_and_token_guessers_are_limited_with_retry_after(stack, tmp_path):
    env = {**stack.infra.env(), "INTAKE_SUBMIT_RATE_LIMIT": "3/minute", "INTAKE_CHECK_RATE_LIMIT": "2/minute",
           "STAFF_SIGN_IN_LIMIT": "3/minute"}
    # Two replicas of intake on the session's database: a guesser must not get three tries from each.
    processes, urls = [], []
    for replica in ("a", "b"):
        port = free_port()
        (tmp_path / replica).mkdir()
        processes.append(service_process("intake", service_env("intake", env, port), tmp_path / replica).start())
        urls.append(f"http://127.0.0.1:{port}")
    # The guesser comes from an address of its own: the session's other tests send wrong tokens
    # from 127.0.0.1, and those failures are counted in the same database.
    guesser = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
    # The writer too: the session's intake counts its letters from 127.0.0.1 in the same database.
    writer = httpx.AsyncHTTPTransport(local_address="127.0.0.4")
    try:
        for url in urls:
            wait_until(lambda url=url: httpx.get(f"{url}/healthz", timeout=2).status_code == 200 if _up(url) else False,
                       60, "another intake")
        # The replicas share the count: two letters at one and one at the other use up the three.
        async with httpx.AsyncClient(timeout=30, transport=writer) as client:
            codes = [(await client.post(f"{url}/api/v1/letters", json=letter())).status_code
                     for url in (urls[0], urls[0], urls[1], urls[1], urls[0])]
            assert codes == [201, 201, 201, 429, 429]
            limited = await client.post(f"{urls[0]}/api/v1/letters", json=letter())
            assert limited.status_code == 429 and 0 < int(limited.headers["Retry-After"]) <= 60
            checks = [(await client.post(f"{urls[0]}/api/v1/letters/check", json=letter())).status_code
                      for _ in range(3)]
            assert checks == [200, 200, 429]
        # Guessing staff tokens: two wrong ones at one replica and one at the other throttle the
        # address's wrong tokens at both; its right token still works at both.
        async with httpx.AsyncClient(timeout=30, transport=guesser) as client:
            guesses = [(await client.get(f"{url}/api/v1/staff/prisoners", headers=bearer(f"guess-{i}"))).status_code
                       for i, url in enumerate([urls[0], urls[0], urls[1]])]
            assert guesses == [401, 401, 401]
            right = bearer(stack.demo_token("staff token (admin)"))
            for url in urls:
                throttled = await client.get(f"{url}/api/v1/staff/prisoners", headers=bearer("guess-again"))
                assert throttled.status_code == 429 and throttled.headers["Retry-After"]
                assert (await client.get(f"{url}/api/v1/staff/prisoners", headers=right)).status_code == 200
        # From another address a wrong token is an ordinary 401: the throttling is the guesser's alone.
        async with httpx.AsyncClient(timeout=30, transport=httpx.AsyncHTTPTransport(local_address="127.0.0.3")) as client:
            assert (await client.get(f"{urls[1]}/api/v1/staff/prisoners", headers=bearer("x"))).status_code == 401
    finally:
        for process in processes:
            process.terminate()


def _up(url: str) -> bool:
    try:
        httpx.get(f"{url}/healthz", timeout=2)
    except httpx.HTTPError:
        return False
    return True
