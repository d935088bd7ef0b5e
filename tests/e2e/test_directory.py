"""The directory's facilities and updates from outside lists, end to end: intake's operator API, sorting
screening letters against the facility's page limit, delivery learning the changes. Real processes."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass

import httpx
import pytest
from pymongo import AsyncMongoClient
from unidecode import unidecode

from tests.e2e.test_moderation import CLEAN, open_desk
from tests.support import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SYLLABLES = ["ба", "ве", "ди", "ко", "лу", "ма", "не", "ро", "са", "ту", "фе", "ша"]


def unique_word() -> str:
    """A made-up surname part in Cyrillic, so that no other test's prisoner shares these names."""
    return "".join(random.choice(SYLLABLES) for _ in range(4)).capitalize()


def address() -> dict:
    return {"lines": ["ул. Проверочная, 1"], "postcode": "295000", "city": "Симферополь"}


@dataclass
class Directory:
    intake: httpx.AsyncClient
    operator: dict[str, str]
    admin: dict[str, str]
    mongo: AsyncMongoClient
    namespace: str

    async def facility(self, name: str, **rules) -> str:
        facility_id = f"f_{uuid.uuid4().hex[:8]}"
        answer = await self.intake.post("/api/v1/facilities", headers=self.operator, json={
            "id": facility_id, "name": name, "kind": "pre_trial_centre", "region": "Крым", "address": address(),
            "rules": rules})
        assert answer.status_code == 201, answer.text
        return facility_id

    async def prisoner(self, uk: str, ru: str, en: str, facility_id: str | None = None) -> str:
        prisoner_id = f"p_{uuid.uuid4().hex[:8]}"
        answer = await self.intake.post("/api/v1/prisoners", headers=self.operator, json={
            "id": prisoner_id, "names": {"uk": uk, "ru": ru, "en": en}, "status": "detained",
            "status_since": "2024-03-01"})
        assert answer.status_code == 201, answer.text
        if facility_id:
            placed = await self.intake.post(f"/api/v1/prisoners/{prisoner_id}/facility", headers=self.operator,
                                            json={"facility_id": facility_id})
            assert placed.status_code == 200, placed.text
        return prisoner_id

    async def staff_view(self) -> dict[str, dict]:
        answer = await self.intake.get("/api/v1/staff/prisoners", headers=self.operator)
        return {p["id"]: p for p in answer.json()}

    async def delivery_knows(self, prisoner_id: str, status: str) -> None:
        prisoners = self.mongo[f"{self.namespace}-delivery"]["prisoners"]

        async def learnt() -> bool:
            doc = await prisoners.find_one({"_id": prisoner_id})
            return doc is not None and doc.get("status") == status

        await eventually(learnt, 30, f"delivery to learn that {prisoner_id} is {status}")


@pytest.fixture
async def directory(stack):
    mongo = AsyncMongoClient(stack.infra.mongodb_url, tz_aware=True)
    async with httpx.AsyncClient(base_url=stack.url("intake"), timeout=30) as intake:
        yield Directory(intake, {"Authorization": f"Bearer {stack.demo_token('staff token (operator)')}"},
                        {"Authorization": f"Bearer {stack.demo_token('staff token (admin)')}"}, mongo,
                        stack.infra.namespace)
    await mongo.close()


async def test_an_outside_list_proposes_exactly_its_differences_and_only_the_confirmed_ones_are_applied(directory):
    word = unique_word()
    latin = unidecode(word)
    here = await directory.facility(f"СИЗО-{word}")
    there = await directory.facility(f"ИК-{word} Саратов")
    released = await directory.prisoner(f"Олексій Семенов-{word}", f"Алексей Семёнов-{word}",
                                        f"Oleksiy Semenov-{latin}", here)
    moved = await directory.prisoner(f"Ервін Ібрагімов{word}", f"Эрвин Ибрагимов{word}", f"Ervin Ibragimov{latin}",
                                     here)
    died = await directory.prisoner(f"Рустем Абільтаров{word}", f"Рустем Абильтаров{word}",
                                    f"Rustem Abiltarov{latin}", here)
    lookalike = await directory.prisoner(f"Юрій Яценко{word}", f"Юрий Яценко{word}", f"Yuriy Yatsenko{latin}", here)
    same = await directory.prisoner(f"Наріман Джелял{word}", f"Нариман Джелял{word}", f"Nariman Dzhelyal{latin}",
                                    here)
    csv = "\n".join([
        "id,name_uk,name_ru,name_lat,status,status_since,facility,birthday",
        f",,алексей семенов-{word},,released,30.11.2026,,",  # the ё typed as е, lower case
        f"{moved},,,,detained,2026-11-20,ик-{word.lower()} саратов,",  # by id, the facility by its name
        f",,,Rustem Abiltarov{latin},deceased,2026-10-01,,",
        f",,,Iurii Iatsenko{latin},released,,,",  # a transliteration the directory does not have
        f",,Нариман Джелял{word},,detained,,{here},",  # agrees with the directory
        f",Новий В'язень{word},Новый Узник{word},,detained,2026-11-15,{there},1990-05-01",
        ",,,,freed,,,",
    ])

    proposed = await directory.intake.post("/api/v1/directory/imports", headers=directory.operator,
                                           json={"csv": csv, "source": "test list"})

    assert proposed.status_code == 201, proposed.text
    proposal = proposed.json()
    kinds = {c["prisoner_id"]: c["kind"] for c in proposal["changes"]}
    new_id = next(c["prisoner_id"] for c in proposal["changes"] if c["kind"] == "new")
    assert kinds == {released: "release", moved: "transfer", died: "status", lookalike: "unmatched_spelling",
                     new_id: "new"}
    assert proposal["unchanged"] == 1 and same not in kinds
    assert [p["line"] for p in proposal["problems"]] == [8]
    transfer = next(c for c in proposal["changes"] if c["kind"] == "transfer")
    assert transfer["before"]["facility_id"] == here and transfer["after"]["facility_id"] == there
    assert (await directory.staff_view())[released]["status"] == "detained", "nothing changes before confirmation"

    chosen = [c["id"] for c in proposal["changes"] if c["kind"] in ("release", "transfer", "new")]
    applied = await directory.intake.post(f"/api/v1/directory/imports/{proposal['id']}/apply",
                                          headers=directory.operator, json={"change_ids": chosen})

    assert applied.status_code == 200, applied.text
    assert {o["change_id"]: o["result"] for o in applied.json()["outcomes"]} == dict.fromkeys(chosen, "applied")
    now = await directory.staff_view()
    assert (now[released]["status"], now[released]["status_since"]) == ("released", "2026-11-30")
    assert (now[moved]["status"], now[moved]["facility_id"]) == ("transferred", there)
    assert now[new_id]["names"]["ru"] == f"Новый Узник{word}" and now[new_id]["facility_id"] == there
    assert now[died]["status"] == "detained" and now[lookalike]["status"] == "detained", "not confirmed: unchanged"
    await directory.delivery_knows(released, "released")
    await directory.delivery_knows(moved, "transferred")
    again = await directory.intake.post(f"/api/v1/directory/imports/{proposal['id']}/apply",
                                        headers=directory.operator, json={"change_ids": chosen[:1]})
    assert again.json()["outcomes"][0]["result"] == "already_applied"
    # Newer news than the list: an operator moved the person meanwhile; the list's change no longer fits.
    died_change = next(c["id"] for c in proposal["changes"] if c["kind"] == "status")
    await directory.intake.post(f"/api/v1/prisoners/{died}/status", headers=directory.operator,
                                json={"status": "released", "since": "2026-12-01"})
    late = await directory.intake.post(f"/api/v1/directory/imports/{proposal['id']}/apply",
                                       headers=directory.operator, json={"change_ids": [died_change]})
    assert late.json()["outcomes"][0]["result"] == "changed_since"
    assert (await directory.staff_view())[died]["status"] == "released"
    audit = (await directory.intake.get("/api/v1/audit", headers=directory.admin, params={"limit": 200})).json()
    assert {(e["action"], e["target"]) for e in audit} >= {
        ("applied directory change (release)", released), ("applied directory change (transfer)", moved),
        ("applied directory change (new)", new_id)}
    public = {p["id"]: p for p in (await directory.intake.get("/api/v1/prisoners")).json()}
    assert public[new_id]["facility"]["id"] == there and not public[released]["writable"]


async def test_a_facility_s_page_limit_stops_a_longer_letter_for_a_moderator(directory, stack):
    word = unique_word()
    facility_id = await directory.facility(
        f"СИЗО-{word}", page_limit={"value": 1, "verified_on": "2026-11-01"}, drawings={"value": "no"})
    prisoner_id = await directory.prisoner(f"Сервер Мустафаєв{word}", f"Сервер Мустафаев{word}",
                                           f"Server Mustafayev{unidecode(word)}", facility_id)
    public = {p["id"]: p for p in (await directory.intake.get("/api/v1/prisoners")).json()}
    note = public[prisoner_id]["facility"]
    assert note["page_limit"] == 1
    assert [n["code"] for n in note["notes"]] == ["strangers_letters_unknown", "drawings_not_handed_over",
                                                  "page_limit"]

    async with open_desk(stack) as desk:
        long = await desk.submit("\n".join([CLEAN] * 30), prisoner_id=prisoner_id)
        short = await desk.submit(CLEAN, prisoner_id=prisoner_id)

        seen = await desk.in_review(long)
        assert seen["review_reasons"] == ["over_page_limit"]

        async def short_one_went_straight_on() -> bool:
            letter = await desk.sorted_letter(short["id"])
            return letter is not None and letter["state"] == "ready"

        await eventually(short_one_went_straight_on, 30, "the one-page letter to go on without a moderator")
        assert (await desk.sorted_letter(short["id"]))["review_reasons"] == []

    stale = await directory.intake.get("/api/v1/staff/facilities/to-verify", headers=directory.operator,
                                       params={"days": 90})
    listed = {f["id"]: f["stale_rules"] for f in stale.json()}
    assert "page_limit" not in listed[facility_id] and "drawings" in listed[facility_id]


async def test_a_transfer_moves_the_prisoner_and_a_facility_s_new_rules_reach_those_held_there(directory):
    word = unique_word()
    here = await directory.facility(f"СИЗО-{word}")
    there = await directory.facility(f"ИК-{word}")
    prisoner_id = await directory.prisoner(f"Айдер Сеітосманов{word}", f"Айдер Сеитосманов{word}",
                                           f"Ayder Seitosmanov{unidecode(word)}", here)

    moved = await directory.intake.post(f"/api/v1/prisoners/{prisoner_id}/transfer", headers=directory.operator,
                                        json={"facility_id": there, "since": "2026-11-28"})

    assert moved.status_code == 200, moved.text
    assert (moved.json()["status"], moved.json()["facility_id"]) == ("transferred", there)
    await directory.delivery_knows(prisoner_id, "transferred")
    nowhere = await directory.intake.post(f"/api/v1/prisoners/{prisoner_id}/transfer", headers=directory.operator,
                                          json={"facility_id": "f_nowhere"})
    assert nowhere.status_code == 422
    stranger = await directory.intake.post("/api/v1/prisoners/p_nobody_here/transfer", headers=directory.operator,
                                           json={"facility_id": there})
    assert stranger.status_code == 404

    facility = (await directory.intake.get("/api/v1/staff/facilities", headers=directory.operator)).json()
    changed = next(f for f in facility if f["id"] == there) | {
        "rules": {"photos": {"value": "no", "verified_on": "2026-12-01"}}}
    saved = await directory.intake.put(f"/api/v1/facilities/{there}", headers=directory.operator, json=changed)

    assert saved.status_code == 200, saved.text
    assert saved.json()["prisoners_announced"] == 1
    public = {p["id"]: p for p in (await directory.intake.get("/api/v1/prisoners")).json()}
    assert "photos_not_handed_over" in [n["code"] for n in public[prisoner_id]["facility"]["notes"]]
