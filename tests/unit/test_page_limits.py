"""The pages' forms stop typing where the server would refuse (`maxlength`): the templates take each
limit from where the server defines it, and the rendered pages hold it."""

from __future__ import annotations

import re

import pytest

from services.intake import web as intake_web
from services.sorting import web as sorting_web
from shared.events import MAX_LETTER_CHARS, MAX_WRITER_FIELD_CHARS
from shared.pages import PageTemplates

INTAKE = intake_web.TEMPLATES
SORTING = PageTemplates(sorting_web.TEMPLATES_DIR, {}, **sorting_web.LIMITS)
LIMITED_FIELDS = [
    (INTAKE, "writer.html", "letter-body", MAX_LETTER_CHARS),
    (INTAKE, "kiosk.html", "kiosk-body", MAX_LETTER_CHARS),
    (INTAKE, "receipt.html", "receipt-resend-text", MAX_LETTER_CHARS),
    (SORTING, "translation.html", "translation-text", MAX_LETTER_CHARS),
    (SORTING, "moderation.html", "transcription-text", MAX_LETTER_CHARS),
    (INTAKE, "writer.html", "author-name", MAX_WRITER_FIELD_CHARS),
    (INTAKE, "writer.html", "author-city", MAX_WRITER_FIELD_CHARS),
    (INTAKE, "writer.html", "author-country", MAX_WRITER_FIELD_CHARS),
    (INTAKE, "kiosk.html", "kiosk-name", MAX_WRITER_FIELD_CHARS),
    (INTAKE, "kiosk.html", "kiosk-city", MAX_WRITER_FIELD_CHARS),
    (SORTING, "moderation.html", "field-value", MAX_WRITER_FIELD_CHARS),
]


@pytest.mark.parametrize(("templates", "page", "field", "limit"), LIMITED_FIELDS,
                         ids=[f"{page}#{field}" for _, page, field, _ in LIMITED_FIELDS])
def test_a_field_stops_typing_at_the_servers_limit(templates, page, field, limit):
    html = templates.render(page)
    tag = re.search(rf'<(?:textarea|input)[^>]*\bid="{field}"[^>]*>', html)
    assert tag, f"{page} has no field #{field}"
    found = re.search(r'\bmaxlength="(\d+)"', tag.group(0))
    assert found and int(found.group(1)) == limit, f"{page} #{field}: {tag.group(0)}"


@pytest.mark.parametrize("page", ["writer.html", "receipt.html", "kiosk.html", "directory-import.html"])
def test_every_intake_page_renders_whole(page):
    html = INTAKE.render(page)
    assert html.startswith("<!doctype html>") and html.rstrip().endswith("</html>")
    assert 'id="lang-switch"' in html and "{{" not in html and "{%" not in html
