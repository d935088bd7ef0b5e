"""E-mails come from template files (shared/emails.py): subject and plain text from one file, HTML escaped."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import jinja2
import pytest

from services.delivery.channels import compose_email
from services.intake.privacy import NOTICE_LANGUAGES, NOTICE_STATUSES, NOTICES, compose_notice
from shared.emails import email_templates, render_email
from tests.unit.delivery.test_channels import make_parcel

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def body(message) -> str:
    return message.get_body(("plain",)).get_content()


def test_the_intermediarys_email_reads_as_before_with_the_letters_counted_in_good_russian():
    message = compose_email(make_parcel(letters=1, pages=2), "l@x.test")
    assert message["Subject"] == "Письма для Ремзи Демо: 1"
    assert body(message) == (
        "Здравствуйте, Эльвира!\n\nВо вложении 1 письмо (2 стр.) для Ремзи Демо.\n\n"
        "Когда передадите письма, пожалуйста, отметьте это по вашей личной ссылке:\n"
        "https://d.test/confirm/t0k\n"
        "Если передать не удалось, по той же ссылке можно указать причину.\n"
        "Не пересылайте эту ссылку никому.\n\nСпасибо!\n")
    assert "Во вложении 5 писем (9 стр.)" in body(compose_email(make_parcel(letters=5, pages=9), "l@x.test"))
    assert "Во вложении 22 письма" in body(compose_email(make_parcel(letters=22), "l@x.test"))


def test_a_plain_text_email_carries_names_and_links_exactly_as_they_are():
    # A presigned link's & escaped to &amp; would no longer download anything.
    link = "https://s3.test/b?X-Amz-Expires=604800&X-Amz-Signature=ab<c>"
    message = compose_email(make_parcel(pdf=None, download_url=link, recipient_name="Эльвира & <Сын>"), "l@x.test")
    text = body(message)
    assert f"ограниченное время):\n{link}\n" in text and "Здравствуйте, Эльвира & <Сын>!" in text
    assert "&amp;" not in text


def test_an_html_email_template_escapes_every_value(tmp_path):
    (tmp_path / "hello.html").write_text("{% set subject %}Для {{ name }}{% endset %}<p>{{ name }}</p>\n")
    email = render_email(email_templates(tmp_path), "hello.html", name="<script>x</script>")
    assert email.text == "<p>&lt;script&gt;x&lt;/script&gt;</p>\n"


def test_a_value_the_template_needs_but_is_not_given_fails_instead_of_leaving_a_gap(tmp_path):
    (tmp_path / "hello.txt").write_text("{% set subject %}S{% endset %}Здравствуйте, {{ name }}!\n")
    with pytest.raises(jinja2.UndefinedError):
        render_email(email_templates(tmp_path), "hello.txt")


def test_a_subject_is_one_line_however_its_template_is_laid_out(tmp_path):
    (tmp_path / "hello.txt").write_text("{% set subject %}\n  Письма\n  для {{ name }}\n{% endset %}Текст\n")
    assert render_email(email_templates(tmp_path), "hello.txt", name="Ремзи").subject == "Письма для Ремзи"


def test_a_writers_notice_says_the_same_as_before_in_ukrainian_then_english():
    notice = compose_notice("handed_over")
    assert notice.subject == "Ваш лист передано / Your letter was handed over"
    assert notice.text == "Ваш лист передали адресатові. Дякуємо, що пишете!\nYour letter was handed over. Thank you for writing!\n"
    answered = compose_notice("answered")
    assert answered.subject == "На ваш лист відповіли / Your letter was answered"
    assert answered.text == "На ваш лист надійшла відповідь. Дякуємо!\nYour letter was answered. Thank you!\n"


def test_every_notice_has_its_words_in_every_language():
    assert NOTICE_STATUSES == {"handed_over", "answered"}
    for language in NOTICE_LANGUAGES:
        assert set(NOTICES[language]) == NOTICE_STATUSES, language
        assert all(words["subject"] and words["body"] for words in NOTICES[language].values()), language


def test_the_templates_are_found_from_any_working_directory(tmp_path):
    script = ("from services.delivery.channels import compose_email; from services.intake.privacy import compose_notice;"
              "from tests.unit.delivery.test_channels import make_parcel;"
              "print(compose_email(make_parcel(), 'l@x.test')['Subject'], compose_notice('answered').subject)")
    shown = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, check=True,
                           timeout=60, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}).stdout
    assert shown == "Письма для Ремзи Демо: 3 На ваш лист відповіли / Your letter was answered\n"
