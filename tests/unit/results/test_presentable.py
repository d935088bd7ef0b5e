"""The results in the reader's language: the PDF in Ukrainian and English, the public page and its shareable image."""

from __future__ import annotations

import io
import json
import re
from datetime import date

import pytest
from PIL import Image

from services.intake.results import charts, public, texts
from services.intake.results.domain import PublicEvent, PublicPlace, PublicSummary, ReportFilter
from services.intake.results.report import build_report, report_csv, report_pdf
from services.intake.results.texts import Texts
from tests.support import pdf_text, squash
from tests.unit.results.fakes import FakeResultsQueries, make_letter
from tests.unit.results.test_report import TODAY, campaign

pytestmark = pytest.mark.unit

HOSTILE = "<img src=x onerror=alert(1)>"
FORMULA = '=HYPERLINK("http://x","y")'


def summary(**overrides) -> PublicSummary:
    values = {
        "period": {"from": None, "to": None, "event": None}, "letters": 1234, "prisoners_written_to": 218,
        "prisoners_reached": 200, "handed_over": 900, "replies": "<5", "events_abroad": "<5", "event_count": 25, "city_count": 13,
        "country_count": 4, "by_channel": {"web": 800, "kiosk": 400, "paper": 34},
        "cities": [PublicPlace(name="Kyiv", letters=500), PublicPlace(name=HOSTILE, letters=7),
                PublicPlace(name=FORMULA, letters=6), PublicPlace(name="other", letters="<5")],
        "countries": [PublicPlace(name="UA", letters=1000), PublicPlace(name="DE", letters=34)],
        "events": [PublicEvent(name="Briefe nach Krim", city="Berlin", country="DE", starts_on="2026-03-05", letters=5)],
    }
    return PublicSummary(**{**values, **overrides})


@pytest.mark.parametrize(("lang", "said"), [
    ("uk", "1 234 листи з 25 заходів у 13 містах та 4 країнах"),
    ("en", "1,234 letters from 25 events in 13 cities and 4 countries"),
    ("ru", "1 234 письма с 25 мероприятий в 13 городах и 4 странах"),
])
def test_the_headline_is_said_in_each_language_with_its_plurals(lang, said):
    assert public.headline(summary(), Texts(lang)).replace("\xa0", " ") == said


@pytest.mark.parametrize(("lang", "said"), [
    ("uk", "21 лист з 1 заходу у 2 містах та 1 країні"),
    ("en", "21 letters from 1 event in 2 cities and 1 country"),
    ("ru", "21 письмо с 1 мероприятия в 2 городах и 1 стране"),
])
def test_singular_and_few_forms_follow_the_language(lang, said):
    figures = summary(letters=21, event_count=1, city_count=2, country_count=1)
    assert public.headline(figures, Texts(lang)) == said


def test_a_hidden_count_takes_the_form_of_five_and_no_events_drops_them():
    figures = summary(letters="<5", event_count=0, city_count=1, country_count=1)
    assert public.headline(figures, Texts("uk")) == "<5 листів з 1 міста у 1 країні"
    assert public.headline(figures, Texts("en")) == "<5 letters from 1 city in 1 country"


@pytest.mark.parametrize("lang", texts.LANGS)
def test_the_shareable_image_is_a_1200_by_630_png_saying_the_summary(lang):
    figures = summary()
    png = public.share_png(public.share_lines(figures, Texts(lang), 2026))
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(png)) as image:
        assert image.size == (1200, 630) and image.format == "PNG"
        assert image.text["Description"] == public.headline(figures, Texts(lang))
        assert image.text["Title"] == Texts(lang).t("public.campaign")
        # Text was drawn: the headline's white pixels are there, not just the background.
        assert image.convert("RGB").getcolors(1_000_000) and len(image.convert("RGB").getcolors(1_000_000)) > 10


def test_a_long_hostile_headline_still_fits_the_image():
    figures = summary(letters=123_456_789, event_count=98_765, city_count=54_321, country_count=199)
    png = public.share_png(("x" * 200, public.headline(figures, Texts("ru")), HOSTILE * 5))
    with Image.open(io.BytesIO(png)) as image:
        assert image.size == (1200, 630)


def page(lang: str, figures: PublicSummary | None = None) -> str:
    links = {code: f"/campaign?lang={code}" for code in texts.LANGS}
    return public.page_html(figures or summary(), Texts(lang), year=2026, links=links,
                            page_url=f"https://example.org/campaign?lang={lang}",
                            share_url=f"https://example.org/api/v1/results/public/share.png?lang={lang}")


@pytest.mark.parametrize("lang", texts.LANGS)
def test_the_public_page_has_open_graph_tags_pointing_to_its_image(lang):
    html = page(lang)
    said = public.headline(summary(), Texts(lang))
    assert f'<html lang="{lang}">' in html
    assert f'<meta property="og:image" content="https://example.org/api/v1/results/public/share.png?lang={lang}">' \
        in html
    assert f'<meta property="og:description" content="{said}">' in html
    assert '<meta property="og:image:width" content="1200">' in html


def test_the_public_page_prints_hostile_places_as_text():
    html = page("uk")
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "=HYPERLINK(&#34;http://x&#34;,&#34;y&#34;)" in html
    assert "<script" not in html and "style=" not in html


def test_the_public_page_names_cities_and_countries_in_the_readers_language():
    uk, ru, en = page("uk"), page("ru"), page("en")
    assert "Київ" in uk and "Німеччина" in uk and "інші" in uk and "5 березня 2026" in uk
    assert "Киев" in ru and "Германия" in ru
    assert "Kyiv" in en and "Germany" in en and "5 March 2026" in en


def test_every_results_text_is_in_ukrainian_english_and_russian():
    catalogue = json.loads(texts.CATALOGUE.read_text(encoding="utf-8"))
    assert set(catalogue) == set(texts.LANGS)
    keys = {lang: set(catalogue[lang]) for lang in texts.LANGS}
    assert keys["uk"] == keys["en"] == keys["ru"]
    plural_forms = {"uk": {"one", "few", "many", "other"}, "ru": {"one", "few", "many", "other"}, "en": {"one", "other"}}
    for lang, entries in catalogue.items():
        for key, entry in entries.items():
            if isinstance(entry, dict):
                assert set(entry) == plural_forms[lang], (lang, key)


def test_the_language_comes_from_the_request_else_the_browser_else_ukrainian():
    assert texts.language("en", "uk-UA") == "en"
    assert texts.language(None, "de-DE,ru;q=0.8,en;q=0.5") == "ru"
    assert texts.language(None, "de-DE") == "uk"
    assert texts.language("fr", None) == "uk"


async def test_the_pdf_report_is_written_in_ukrainian_or_english():
    report = await build_report(campaign(), ReportFilter(date(2026, 1, 1), date(2026, 12, 31)), today=TODAY)
    uk = squash(pdf_text(report_pdf(report, charts.render_all(report, "uk"), "uk")))
    en = squash(pdf_text(report_pdf(report, charts.render_all(report, "en"), "en")))
    assert "Результати кампанії" in uk and "Листів написано 5" in uk and "Період: 1 січня 2026 р. – 31 грудня 2026 р." in uk
    assert "Модерація" in uk and "Доставка" in uk and "сторінка 1" in uk and "Ремзі" in uk
    assert "Campaign results" not in uk and "Letters written" not in uk
    assert "Campaign results" in en and "Letters written 5" in en and "Period: 1 January 2026 – 31 December 2026" in en
    assert "Листів написано" not in en


async def test_the_pdf_writes_durations_and_numbers_as_the_reader_does():
    letters = [make_letter(n, status="handed_over", handed_over_after_s=5.5 * 3600) for n in range(3)]
    report = await build_report(FakeResultsQueries(letters), ReportFilter(), today=TODAY)
    uk = squash(pdf_text(report_pdf(report, {}, "uk")))
    en = squash(pdf_text(report_pdf(report, {}, "en")))
    assert "5,5 години / 5,5 години" in uk
    assert "5.5 hours / 5.5 hours" in en


async def test_the_semicolon_csv_writes_fractions_with_a_decimal_comma():
    report = await build_report(campaign(), ReportFilter(), today=TODAY)
    medians = [line for line in report_csv(report, ";").splitlines() if "median_letters_per_held_prisoner" in line]
    assert medians and re.fullmatch(r"prisoners;median_letters_per_held_prisoner;\d+(,\d+)?", medians[0])
