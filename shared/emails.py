"""E-mails from template files: each service keeps its own beside the code that sends them.

One template file is one e-mail: its subject is the template's top-level `{% set subject %}` block and
its plain-text body is everything it writes. HTML templates (`.html`) are autoescaped; plain-text ones
are not, so a link such as a presigned download address reaches the reader exactly as it is (its
`&` escaped would break it). Every value a template uses must be given: a missing one fails the
send instead of leaving a gap in what a writer or an intermediary reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jinja2
from babel import Locale


@dataclass(frozen=True)
class Email:
    subject: str
    text: str


def email_templates(directory: Path) -> jinja2.Environment:
    templates = jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        # A block tag takes its own line with it: the text reads in the file as it reads in the e-mail.
        trim_blocks=True,
        lstrip_blocks=True,
    )
    templates.filters["plural"] = plural
    return templates


@jinja2.pass_context
def plural(context: jinja2.runtime.Context, n: int, **forms: str) -> str:
    """`{{ 3 | plural(one="письмо", few="письма", many="писем") }}` → "3 письма": CLDR's plural forms
    of the template's language (its `lang`), `other` when a form is not given."""
    form = Locale.parse(context["lang"]).plural_form(n)
    return f"{n} {forms.get(form, forms.get('other', forms.get('many', '')))}".rstrip()


def render_email(templates: jinja2.Environment, template: str, /, **context: object) -> Email:
    module = templates.get_template(template).make_module(context)
    # A subject is one line whatever the template's layout: a header cannot hold a line break.
    return Email(subject=" ".join(str(module.subject).split()), text=str(module))
