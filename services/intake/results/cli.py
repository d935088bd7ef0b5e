"""The campaign's results from the command line: `python -m services.intake.results report --help`.

Reads intake's database with the service's own settings (the same environment variables), and
builds exactly the report the API serves.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from tqdm import tqdm

from services.intake.config import IntakeSettings
from services.intake.results import charts
from services.intake.results.api import render_export
from services.intake.results.domain import Report, ReportFilter
from services.intake.results.queries import ResultsQueries
from services.intake.results.report import REPORT_STEPS, build_report
from services.intake.results.texts import LANGS
from shared.mongo import client_for, learn_server

app = typer.Typer(help="The campaign's results: letters, prisoners reached, moderation and delivery.",
                  no_args_is_help=True)


class Format(str, Enum):
    json = "json"
    csv = "csv"
    pdf = "pdf"


def _day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise typer.BadParameter(f"{value!r} is not a date like 2026-01-31") from error


@app.callback()
def main() -> None:
    """The campaign's results."""


From = Annotated[str | None, typer.Option("--from", help="First day (UTC), e.g. 2026-01-01")]
To = Annotated[str | None, typer.Option("--to", help="Last day (UTC), included")]
Event = Annotated[str | None, typer.Option("--event", help="Only letters written at this campaign event")]
Demo = Annotated[bool, typer.Option("--demo", help="Count the demo campaign's fictional prisoners too")]
Lang = Annotated[str, typer.Option("--lang", help="The language of the PDF and the charts: uk, en or ru")]


@app.command()
def report(
    out: Annotated[Path, typer.Option("--out", help="Where to write the report", dir_okay=False, writable=True)],
    date_from: From = None,
    date_to: To = None,
    event: Event = None,
    fmt: Annotated[Format, typer.Option("--format", help="json, csv or pdf (with charts)")] = Format.json,
    progress: Annotated[bool, typer.Option("--progress/--quiet", help="Show a progress bar")] = True,
    demo: Demo = False,
    sep: Annotated[str, typer.Option("--sep", help="CSV separator: , or ; (Ukrainian and Russian spreadsheets)")] = ",",
    lang: Lang = "uk",
) -> None:
    """Write the report for a period (and an event) as JSON, CSV or PDF."""
    if sep not in (",", ";"):
        raise typer.BadParameter("the separator is , or ;", param_hint="--sep")
    _check_lang(lang)
    chosen = ReportFilter(_day(date_from), _day(date_to), event, include_demo=demo)
    if chosen.date_from and chosen.date_to and chosen.date_to < chosen.date_from:
        raise typer.BadParameter("the period ends before it starts", param_hint="--to")
    with tqdm(total=len(REPORT_STEPS) + 1, desc="report", unit="step", disable=not progress) as bar:
        built = asyncio.run(_build(chosen, lambda step: (bar.set_postfix_str(step), bar.update(1))))
        bar.set_postfix_str(f"writing {fmt.value}")
        out.write_bytes(render_export(built, fmt.value, sep, lang))
        bar.update(1)
    typer.echo(f"{built.totals.letters} letters, {built.totals.prisoners_written_to} prisoners written to, "
               f"{built.totals.prisoners_reached} reached → {out}")


async def _build(chosen: ReportFilter, step) -> Report:
    settings = IntakeSettings()
    mongo = client_for(settings.infra)
    try:
        await learn_server(mongo)
        queries = ResultsQueries(mongo[settings.infra.db_name(settings.db)])
        await queries.ensure_indexes()
        return await build_report(queries, chosen, today=datetime.now(UTC).date(), progress=step)
    finally:
        await mongo.close()


@app.command("charts")
def charts_command(
    directory: Annotated[Path, typer.Argument(file_okay=False, help="Where to write the PNG charts")],
    date_from: From = None,
    date_to: To = None,
    event: Event = None,
    demo: Demo = False,
    lang: Lang = "uk",
) -> None:
    """Write the charts (letters over time, cities, prisoners) as PNG files."""
    _check_lang(lang)
    built = asyncio.run(_build(ReportFilter(_day(date_from), _day(date_to), event, include_demo=demo), lambda _: None))
    directory.mkdir(parents=True, exist_ok=True)
    for name in tqdm(charts.NAMES, desc="charts", unit="chart"):
        (directory / f"{name}.png").write_bytes(charts.render(name, built, lang))
    typer.echo(f"wrote {len(charts.NAMES)} charts to {directory}")


def _check_lang(lang: str) -> None:
    if lang not in LANGS:
        raise typer.BadParameter(f"the language is one of {', '.join(LANGS)}", param_hint="--lang")


if __name__ == "__main__":
    app()
