"""Exports that survive what writers type: formulas in every locale, chart markup, odd characters."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from services.intake.results import charts
from services.intake.results.api import render_export
from services.intake.results.domain import ReportFilter
from services.intake.results.report import build_report, neutralise, report_csv, report_pdf
from tests.support import pdf_text, squash
from tests.unit.results.fakes import FakeResultsQueries, make_letter

pytestmark = pytest.mark.unit

TODAY = date(2026, 12, 1)
HOSTILE_CITIES = [
    "$\\frac{1}{0}$", "Kyiv $x^$", "$$", "$", "a$b$c$", r"\$\mathrm{x", "=HYPERLINK(\"http://x\";\"y\")", "+380",
    "-1+1", "@SUM(A1)", "\t=1", "\r=1", "＝1+1", "﹦1", "＋1", "－1", "＠x", "Kyiv;=1+1", "Київ;+1", "a,=1",
    "\x00\x07bell", "😀🇺🇦", "漢字", "\u202eevil\u202d", "A" * 80, "<b>bold</b>", "%s%n", "{0}", "\\", "\ufeff",
]


def hostile_campaign() -> FakeResultsQueries:
    letters = [make_letter(n, writer_city=city, writer_country=city, day="2026-03-10")
               for n, city in enumerate(HOSTILE_CITIES)]
    letters.append(make_letter(99, writer_city="Kyiv", status="handed_over"))
    directory = [{"_id": "p_1", "names": {"uk": "$x^$ <i>", "en": "=cmd|' /C calc'!A0"}, "status": "detained"}]
    events = [{"_id": "e_x", "name": "$\\alpha$ =1+1", "city": "$Berlin$", "country": "$$", "starts_on": "2026-03-10"}]
    letters.append(make_letter(100, campaign_event_id="e_x", writer_city=None, channel="kiosk"))
    return FakeResultsQueries(letters, directory, events)


async def hostile_report():
    return await build_report(hostile_campaign(), ReportFilter(), today=TODAY)


@pytest.mark.parametrize("lead", ["=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠", "﹦", "﹢", "﹣", "﹫"])
def test_every_formula_leading_character_is_neutralised_also_in_full_width(lead):
    assert neutralise(f"{lead}1+1") == f"'{lead}1+1"


@pytest.mark.parametrize("separator", [";", ",", "\t", "\n"])
def test_a_formula_after_any_locales_separator_is_neutralised_too(separator):
    assert neutralise(f"Kyiv{separator}=1+1") == f"Kyiv{separator}'=1+1"
    assert neutralise(f"Kyiv{separator} -1") == f"Kyiv{separator} '-1"


def test_plain_text_and_numbers_are_left_alone():
    assert neutralise("Київ") == "Київ" and neutralise("2026-W05") == "2026-W05" and neutralise(-3) == -3
    assert neutralise("Kyiv - Lviv") == "Kyiv - Lviv" and neutralise("") == ""


@pytest.mark.parametrize("delimiter", [",", ";"])
async def test_no_cell_of_the_csv_starts_a_formula_in_either_separator(delimiter):
    text = report_csv(await hostile_report(), delimiter)
    for reading in (",", ";"):  # however a spreadsheet splits the line
        for row in csv.reader(io.StringIO(text), delimiter=reading):
            for cell in row:
                for piece in _pieces(cell):
                    assert not piece.lstrip(" ")[:1] or piece.lstrip(" ")[0] not in "=+-@＝＋－＠﹦﹢﹣﹫", (cell, reading)


def _pieces(cell: str) -> list[str]:
    for separator in ";,\t\r\n":
        cell = cell.replace(separator, "\x00")
    return cell.split("\x00")


async def test_the_csv_export_has_a_byte_order_mark_so_spreadsheets_read_cyrillic():
    body = render_export(await hostile_report(), "csv", ";")
    assert body.startswith("\ufeff".encode()) and body.decode("utf-8-sig").startswith("section;key;value")


@pytest.mark.parametrize("name", charts.NAMES)
async def test_charts_draw_hostile_labels_as_plain_text(name):
    png = charts.render(name, await hostile_report())
    assert png.startswith(b"\x89PNG")


async def test_a_dollar_pair_in_a_city_is_drawn_not_parsed_as_mathtext():
    queries = FakeResultsQueries([make_letter(1, writer_city="$x^$"), make_letter(2, writer_city="$\\frac{a}$")])
    report = await build_report(queries, ReportFilter(), today=TODAY)
    assert set(report.by_city) == {"$x^$", "$\\frac{a}$"}
    assert charts.cities(report).startswith(b"\x89PNG")


@pytest.mark.parametrize("fmt", ["csv", "json", "pdf"])
async def test_a_hostile_field_never_makes_an_export_fail(fmt):
    body = render_export(await hostile_report(), fmt)
    assert body


async def test_the_pdf_prints_hostile_cities_as_text():
    report = await hostile_report()
    text = squash(pdf_text(report_pdf(report, charts.render_all(report))))
    assert "$\\frac{1}{0}$" in text and "Kyiv $x^$" in text


async def test_a_phone_number_or_address_typed_as_a_city_is_never_printed_as_one():
    letters = [make_letter(1, writer_city="+380 67 123 45 67"), make_letter(2, writer_city="anna@example.org"),
               make_letter(3, writer_city="https://t.me/anna"), make_letter(4, writer_city="Kyiv")]
    report = await build_report(FakeResultsQueries(letters), ReportFilter(), today=TODAY)
    assert report.by_city == {"Kyiv": 1} and report.letters_not_a_place == 3
    for fmt in ("csv", "json"):
        body = render_export(report, fmt).decode("utf-8-sig")
        assert "123 45 67" not in body and "anna" not in body
    text = squash(pdf_text(render_export(report, "pdf")))
    assert "123 45 67" not in text and "anna" not in text and "Not a place" in text
