"""The campaign's results against a real intake, its MongoDB and broker: every figure checked against the ledger.

The campaign is seeded through intake's API (events, kiosks, web, kiosk and photographed letters,
flagged ones) and moved along by progress events published on the broker, as sorting and
delivery would publish them. The expected figures are counted here from what was sent.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import re
import statistics
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from markupsafe import escape
from PIL import Image

from deploy.local import ROOT
from services.intake.results import public
from services.intake.results.api import CONTENT_SECURITY_POLICY
from services.intake.results.domain import PublicSummary
from services.intake.results.texts import Texts
from tests.integration.results.campaign import (
    DEMO_EVENT,
    FAILURE,
    NOT_A_PLACE,
    PRISONERS,
    PRIVATE_NOTE,
    QUIET_PRISONER,
    RELEASED,
    WRITER_EMAIL,
    WRITER_NAME,
    bearer,
    results_intake,
    seed_campaign,
)
from tests.support import pdf_text, squash

pytestmark = [pytest.mark.integration, pytest.mark.slow]

HELD = {pid for pid in PRISONERS if pid != RELEASED} | {QUIET_PRISONER}


@pytest.fixture(scope="module")
async def campaign(infra):
    async with results_intake(infra) as intake:
        ledger = await seed_campaign(intake, infra.amqp_url)
        yield intake, ledger


@pytest.fixture
async def http(campaign):
    intake, _ = campaign
    async with httpx.AsyncClient(base_url=intake.url, timeout=60) as client:
        yield client


def staff(campaign, role: str = "operator") -> dict[str, str]:
    return bearer(campaign[0].token(f"staff token ({role})"))


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def yesterday() -> str:
    return (datetime.now(UTC).date() - timedelta(days=1)).isoformat()


def ranked(counts: dict) -> dict:
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


async def report(http, campaign, **params) -> dict:
    answer = await http.get("/api/v1/results", params=params, headers=staff(campaign))
    assert answer.status_code == 200, answer.text
    return answer.json()


def percentile(values: list[float], fraction: float) -> float:
    """Linear interpolation between closest ranks, as statistics' inclusive method computes it."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(fraction * 100) - 1]


async def test_letters_are_counted_by_period_channel_event_city_and_country(http, campaign):
    _, ledger = campaign
    got = await report(http, campaign, **{"from": yesterday(), "to": today()})
    letters = ledger.letters
    assert got["totals"]["letters"] == len(letters) == 43
    # The offline kiosk's letter counts on the day it was written, not the day it arrived.
    assert got["by_day"] == {yesterday(): 1, today(): len(letters) - 1}
    assert sum(got["by_week"].values()) == sum(got["by_month"].values()) == len(letters)
    assert got["by_channel"] == {k: ledger.by("channel").get(k, 0) for k in ("web", "kiosk", "paper")}
    assert {e["id"]: e["letters"] for e in got["by_event"]} == {k: v for k, v in ledger.by("event_id").items() if k}
    assert got["letters_without_event"] == ledger.by("event_id")[None]
    assert got["totals"]["events"] == 5 and got["totals"]["events_abroad"] == 3


async def test_spellings_of_one_city_are_one_city_and_kiosks_abroad_count_in_their_country(http, campaign):
    _, ledger = campaign
    got = await report(http, campaign)
    cities = {k: v for k, v in ledger.by("place_city").items() if k and k != NOT_A_PLACE}
    assert got["by_city"] == ranked(cities) == {"Kyiv": 19, "Lviv": 10, "Berlin": 5, "Prague": 3, "Odesa": 2,
                                                "Warsaw": 2}
    assert got["letters_without_city"] == ledger.by("place_city")[None] == 1
    assert got["letters_not_a_place"] == 1 and "123 45 67" not in json.dumps(got)
    assert got["cities_not_in_gazetteer"] == {}
    assert got["by_country"] == ranked({k: v for k, v in ledger.by("place_country").items() if k}) == {
        "UA": 31, "DE": 5, "CZ": 3, "PL": 2}
    assert got["letters_without_country"] == 2
    assert got["country_names"]["CZ"] == "Czechia"
    assert (got["totals"]["cities"], got["totals"]["countries"]) == (6, 4)
    events = {e["id"]: (e["city"], e["country"], e["abroad"]) for e in got["by_event"]}
    assert events == {"e_r_lviv": ("Lviv", "UA", False), "e_r_berlin": ("Berlin", "DE", True),
                      "e_r_prague": ("Prague", "CZ", True), "e_r_warsaw": ("Warsaw", "PL", True),
                      DEMO_EVENT: ("Kyiv", "UA", False)}
    berlin = await report(http, campaign, event="e_r_berlin")
    assert berlin["by_city"] == {"Berlin": 5} and berlin["by_country"] == {"DE": 5}


async def test_the_period_and_the_event_filter_what_is_counted(http, campaign):
    _, ledger = campaign
    tomorrow = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
    assert (await report(http, campaign, **{"from": tomorrow}))["totals"]["letters"] == 0
    assert (await report(http, campaign, to=(datetime.now(UTC).date() - timedelta(days=2)).isoformat())
            )["totals"]["letters"] == 0
    assert (await report(http, campaign, to=yesterday()))["totals"]["letters"] == 1  # the offline kiosk's
    berlin = await report(http, campaign, event="e_r_berlin")
    assert berlin["totals"]["letters"] == ledger.by("event_id")["e_r_berlin"] == 5
    assert berlin["by_city"] == {"Berlin": 5} and berlin["by_channel"] == {"web": 0, "kiosk": 5, "paper": 0}
    warsaw_yesterday = await report(http, campaign, event="e_r_warsaw", **{"from": yesterday(), "to": yesterday()})
    assert warsaw_yesterday["totals"]["letters"] == 1
    kyiv_fair = await report(http, campaign, event=DEMO_EVENT, **{"from": today(), "to": today()})
    assert kyiv_fair["by_channel"]["paper"] == 2 and kyiv_fair["totals"]["letters"] == 6
    bad = await http.get("/api/v1/results", params={"from": today(), "to": "2000-01-01"}, headers=staff(campaign))
    assert bad.status_code == 422


async def test_prisoners_written_to_reached_and_the_median_per_held_prisoner(http, campaign):
    _, ledger = campaign
    got = (await report(http, campaign))["prisoners"]
    per_prisoner = ledger.by("prisoner_id")
    passed_on: dict[str, int] = {}
    for letter in ledger.letters:
        if letter.final in ("handed_over", "answered"):
            passed_on[letter.prisoner_id] = passed_on.get(letter.prisoner_id, 0) + 1
    assert got["written_to"] == len(per_prisoner) == 4
    assert got["written_to_well"] == sum(1 for n in per_prisoner.values() if n >= 5)
    # The released prisoner was written to, but their letter is held: not reached.
    assert RELEASED in per_prisoner and RELEASED not in passed_on
    assert got["reached"] == len(passed_on) == 3
    assert got["well_reached"] == sum(1 for n in passed_on.values() if n >= 5)
    assert got["held"] == len(HELD) and got["held_without_letters"] == 1 and got["in_directory"] == 5
    assert got["median_letters_per_held_prisoner"] == statistics.median(per_prisoner.get(p, 0) for p in HELD)
    assert sum(got["histogram"].values()) == len(HELD) and got["histogram"]["0"] == 1


async def test_the_demos_fictional_prisoners_count_only_when_asked_for(http, campaign):
    _, ledger = campaign
    without = await report(http, campaign)
    assert without["totals"]["letters"] == len(ledger.letters)
    assert "Demo-Stadt" not in without["by_city"] and "p_demo_01" not in {p["id"] for p in without["per_prisoner"]}
    with_demo = await report(http, campaign, demo="true")
    assert with_demo["totals"]["letters"] == len(ledger.letters) + len(ledger.demo)
    assert with_demo["by_city"]["Demo-Stadt"] == len(ledger.demo)
    assert with_demo["totals"]["replies"] == without["totals"]["replies"] + 1
    assert with_demo["prisoners"]["in_directory"] == without["prisoners"]["in_directory"] + 4


async def test_moderation_outcomes_and_the_most_frequent_findings(http, campaign):
    _, ledger = campaign
    got = (await report(http, campaign))["moderation"]
    moderation = ledger.by("moderation")
    finals = ledger.by("final")
    assert got["auto_approved"] == moderation.get("auto", 0) > 0
    assert got["approved_after_review"] == moderation.get("approved", 0) > 0
    assert got["redacted"] == moderation.get("redacted", 0) > 0
    assert got["rejected"] == finals["rejected"] == 2
    assert got["awaiting_review"] == finals["review_needed"] == 1
    reviewed = [letter for letter in ledger.letters if letter.final != "received"]
    expected: dict[str, int] = {}
    for letter in reviewed:
        for category in letter.categories:
            expected[category] = expected.get(category, 0) + 1
    assert got["top_finding_categories"] == dict(sorted(expected.items(), key=lambda i: (-i[1], i[0])))
    assert {"slogans", "handwritten"} <= set(expected)
    assert all(letter.verdict == "review" for letter in ledger.letters if "slogans" in letter.categories)


async def test_delivery_outcomes_replies_and_the_time_to_hand_over(http, campaign):
    _, ledger = campaign
    got = (await report(http, campaign))["delivery"]
    finals = ledger.by("final")
    assert got["handed_over"] == finals["handed_over"] + finals["answered"]
    assert got["answered"] == finals["answered"] == 4
    # One reply thanked for three letters, a second answered one of them again, a third another letter.
    assert got["replies"] == len({r for letter in ledger.letters for r in letter.replies}) == 3
    assert got["blocked"] == finals["blocked"] == 2 and got["returned"] == finals["returned"] == 1
    assert got["held"] == finals["held"] == 3
    assert got["held_by_reason"] == {"prisoner_released": 1, "prisoner_deceased": 0, "prisoner_moving": 0, "no_route": 1,
                                     "archived": 1}
    assert got["failed"] == finals["failed"] == 2 and got["failed_reasons"] == {FAILURE: 2}
    assert got["stuck"]["stuck"] and got["stuck"]["failed_letters"] == 2 and got["stuck"]["failing_since"]
    assert got["sent"] == sum(finals.get(s, 0) for s in ("sent", "handed_over", "answered", "blocked", "returned"))
    assert got["in_progress"] == finals["ready"] == 2
    assert got["blocked_reasons"] == {"censor: content": 2} and got["returned_reasons"] == {"addressee moved": 1}
    delays = sorted(letter.delay_days for letter in ledger.letters if letter.delay_days is not None)
    assert got["handover_days_median"] == pytest.approx(statistics.median(delays), abs=0.01)
    assert got["handover_days_p90"] == pytest.approx(percentile(delays, 0.9), abs=0.01)
    assert got["handover_median"].endswith(" days")


async def test_fair_attention_shows_the_quiet_prisoner_first_and_the_coming_birthday(http, campaign):
    answer = await http.get("/api/v1/results/attention", params={"days": 7, "birthdays_within": 10},
                            headers=staff(campaign, "moderator"))
    assert answer.status_code == 200, answer.text
    view = answer.json()
    assert view["fewest_recent_letters"][0]["id"] == QUIET_PRISONER
    assert view["fewest_recent_letters"][0]["recent_letters"] == 0
    assert RELEASED not in {p["id"] for p in view["fewest_recent_letters"]}  # released
    assert not {p["id"] for p in view["fewest_recent_letters"]} & {"p_demo_01", "p_demo_02", "p_demo_03"}
    assert [b["id"] for b in view["upcoming_birthdays"]] == [QUIET_PRISONER]
    assert PRIVATE_NOTE not in answer.text


@pytest.mark.parametrize("path", ["/api/v1/results", "/api/v1/results/attention", "/api/v1/results/export.csv",
                                  "/api/v1/results/charts/cities.png"])
async def test_the_staff_results_need_a_staff_token(http, campaign, path):
    intake, _ = campaign
    assert (await http.get(path)).status_code == 401
    assert (await http.get(path, headers=bearer(intake.token("kiosk token")))).status_code == 401
    assert (await http.get(path, headers=bearer("not-a-token"))).status_code == 401
    assert (await http.get(path, headers=staff(campaign, "moderator"))).status_code == 200


@pytest.mark.parametrize("name", ["letters-over-time", "cities", "prisoners"])
async def test_charts_are_drawn_on_the_server(http, campaign, name):
    answer = await http.get(f"/api/v1/results/charts/{name}.png", headers=staff(campaign))
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/png"
    assert answer.content.startswith(b"\x89PNG")
    assert (await http.get("/api/v1/results/charts/nope.png", headers=staff(campaign))).status_code == 404


async def test_exports_hold_the_same_figures_and_are_audited(http, campaign):
    intake, ledger = campaign
    as_json = await http.get("/api/v1/results/export.json", headers=staff(campaign))
    assert as_json.status_code == 200 and "attachment" in as_json.headers["content-disposition"]
    exported = json.loads(as_json.content)
    assert exported["totals"]["letters"] == len(ledger.letters) and exported["by_city"]["Kyiv"] == 19
    as_csv = await http.get("/api/v1/results/export.csv", headers=staff(campaign))
    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert ["totals", "letters", str(len(ledger.letters))] in rows
    assert ["by_city", "Kyiv", "19"] in rows and ["by_country", "DE", "5"] in rows and ["delivery", "replies", "3"] in rows
    assert "123 45 67" not in as_csv.text
    semicolons = await http.get("/api/v1/results/export.csv", params={"sep": ";"}, headers=staff(campaign))
    assert ["totals", "letters", str(len(ledger.letters))] in list(
        csv.reader(io.StringIO(semicolons.content.decode("utf-8-sig")), delimiter=";"))
    as_pdf = await http.get("/api/v1/results/export.pdf", params={"lang": "en"}, headers=staff(campaign))
    assert as_pdf.content.startswith(b"%PDF") and as_pdf.headers["content-type"] == "application/pdf"
    text = squash(pdf_text(as_pdf.content))
    assert f"Letters written {len(ledger.letters)}" in text and "Нариман" in text
    assert "Replies received 3" in text and "Kyiv 19" in text and "held: archived by an operator 1" in text
    assert as_pdf.content.count(b"/Subtype /Image") >= 3
    # Staff read it in Ukrainian first: without a language (and a browser asking for none), the PDF is Ukrainian.
    in_ukrainian = squash(pdf_text((await http.get("/api/v1/results/export.pdf", headers=staff(campaign))).content))
    assert f"Листів написано {len(ledger.letters)}" in in_ukrainian and "Отримано відповідей 3" in in_ukrainian
    assert "затримано: архівовано оператором 1" in in_ukrainian and "Letters written" not in in_ukrainian
    audit = (await http.get("/api/v1/audit", headers=bearer(intake.token("staff token (admin)")))).json()
    assert {e["target"] for e in audit if e["action"] == "exported results"} >= {"json", "csv", "pdf"}


async def test_the_public_summary_is_open_and_holds_no_personal_data(http, campaign):
    _, ledger = campaign
    answer = await http.get("/api/v1/results/public")
    assert answer.status_code == 200
    text = answer.text
    summary = answer.json()
    assert summary["letters"] == len(ledger.letters)
    for private in (WRITER_NAME, WRITER_EMAIL, "Writer 2", PRIVATE_NOTE, "lawyer", "@", "p_demo_01", QUIET_PRISONER,
                    "123 45 67", "Demo-Stadt"):
        assert private not in text
    assert summary["replies"] == "<5" and summary["events_abroad"] == "<5"
    assert {p["name"]: p["letters"] for p in summary["countries"]}["UA"] == 31
    assert "Odesa" not in text  # 2 letters: folded into "other"
    assert {p["name"]: p["letters"] for p in summary["cities"]}["Kyiv"] >= 5
    events = {e["name"]: e["letters"] for e in summary["events"]}
    assert events["Dopisy"] == "<5" and events["Listy"] == "<5" and events["Briefe nach Krim"] == 5
    assert all(isinstance(n, str) or n == 0 or n >= 5 for n in _counts(summary))
    year = datetime.now(UTC).year
    assert (await http.get("/api/v1/results/public", params={"year": year})).json()["letters"] == len(ledger.letters)
    assert (await http.get("/api/v1/results/public", params={"year": year - 1})).json()["letters"] == 0


@pytest.mark.parametrize("lang", ["uk", "en", "ru"])
async def test_the_public_page_and_its_image_show_the_summary_in_each_language(http, campaign, lang):
    _, ledger = campaign
    summary = (await http.get("/api/v1/results/public")).json()
    totals = (await http.get("/api/v1/results", headers=staff(campaign))).json()["totals"]
    assert (summary["event_count"], summary["city_count"], summary["country_count"]) == (
        totals["events"], totals["cities"], totals["countries"])
    answer = await http.get("/campaign", params={"lang": lang})
    assert answer.status_code == 200 and answer.headers["content-language"] == lang
    assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    html = answer.text
    tx = Texts(lang)
    said = public.headline(PublicSummary.model_validate(summary), tx)
    assert f'<p class="headline" id="headline">{escape(said)}</p>' in html
    assert f'<div class="value">{tx.number(len(ledger.letters))}</div>' in html
    assert "Briefe nach Krim" in html and tx.t("public.other") in html
    for private in (WRITER_NAME, WRITER_EMAIL, PRIVATE_NOTE, "p_demo_01", QUIET_PRISONER, "123 45 67", "Demo-Stadt"):
        assert private not in html
    (image_url,) = re.findall(r'<meta property="og:image" content="([^"]+)">', html)
    assert image_url.startswith(intake_url(campaign) + "/api/v1/results/public/share.png?") and f"lang={lang}" in image_url
    image = await http.get(image_url.replace("&amp;", "&"))
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert "max-age" in image.headers["cache-control"]
    with Image.open(io.BytesIO(image.content)) as png:
        assert png.format == "PNG" and png.size == (1200, 630) and png.text["Description"] == said
    again = await http.get(image_url.replace("&amp;", "&"))
    assert again.content == image.content  # cached: one drawing serves everyone


def intake_url(campaign) -> str:
    return campaign[0].url.rstrip("/")


def _counts(summary: dict) -> list:
    counts = [summary[k] for k in ("letters", "prisoners_reached", "handed_over", "replies")]
    counts += list(summary["by_channel"].values())
    counts += [p["letters"] for key in ("cities", "countries", "events") for p in summary[key]]
    return counts


async def run_cli(env: dict, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "services.intake.results", *args]
    return await asyncio.to_thread(subprocess.run, command, cwd=ROOT, env=env, capture_output=True, text=True,
                                   timeout=120, check=False)


async def test_the_command_line_writes_the_same_report(campaign, tmp_path):
    intake, ledger = campaign
    out = tmp_path / "report.json"
    env = {**os.environ, **intake.env}
    done = await run_cli(env, "report", "--from", yesterday(), "--to", today(), "--format", "json", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text())["totals"]["letters"] == len(ledger.letters)
    assert "report" in done.stderr  # the progress bar
    pdf = tmp_path / "report.pdf"
    done = await run_cli(env, "report", "--event", "e_r_berlin", "--format", "pdf", "--out", str(pdf), "--quiet",
                         "--lang", "en")
    assert done.returncode == 0, done.stderr
    assert "Letters written 5" in squash(pdf_text(pdf.read_bytes()))
