"""Charts of the results, drawn on the server (matplotlib, Agg) as PNG: the page and the PDF show the same."""

from __future__ import annotations

import io
from datetime import date, timedelta

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from services.intake.results.domain import Report
from services.intake.results.texts import Texts

NAMES = ("letters-over-time", "cities", "prisoners")
COLOUR = "#1f5f8b"
ACCENT = "#e0a526"
# Longer periods are drawn by week: a bar per day is unreadable past a few months.
DAILY_UP_TO_DAYS = 120
TOP_CITIES = 15
ENGLISH = Texts("en")

# Labels are writers' and organisers' text: never markup. Without "text.parse_math" off, a city typed
# as "$x^$" is read as mathtext and the chart (and the PDF with it) fails.
STYLE = {"font.family": "DejaVu Sans", "font.size": 9, "axes.spines.top": False, "axes.spines.right": False,
         "text.parse_math": False, "text.usetex": False}
plt.rcParams.update(STYLE)


def _png(figure: Figure) -> bytes:
    out = io.BytesIO()
    try:
        figure.savefig(out, format="png", dpi=110, bbox_inches="tight")
    finally:
        plt.close(figure)
    return out.getvalue()


def _label(text: str, limit: int = 40) -> str:
    """A label as plain, printable text of a readable length."""
    printable = "".join(ch if ch.isprintable() else " " for ch in str(text))
    return printable if len(printable) <= limit else printable[:limit - 1] + "…"


def _empty(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#666")
    ax.set_xticks([])
    ax.set_yticks([])


def letters_over_time(report: Report, tx: Texts = ENGLISH) -> bytes:
    figure, ax = plt.subplots(figsize=(8, 3))
    if not report.by_day:
        _empty(ax, tx.t("results.chart.noLetters"))
    elif _span_days(report.by_day) <= DAILY_UP_TO_DAYS:
        days, counts = _every_day(report.by_day)
        ax.bar(days, counts, color=COLOUR, width=0.8)
        ax.set_xlim(days[0] - timedelta(days=1), days[-1] + timedelta(days=1))
        locator = mdates.AutoDateLocator(minticks=2, maxticks=10)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        ax.set_title(tx.t("results.chart.perDay"))
    else:
        weeks = list(report.by_week)
        ax.bar(range(len(weeks)), list(report.by_week.values()), color=COLOUR)
        step = max(1, len(weeks) // 12)
        ax.set_xticks(range(0, len(weeks), step), weeks[::step], rotation=45, ha="right")
        ax.set_title(tx.t("results.chart.perWeek"))
    ax.set_ylabel(tx.t("results.chart.letters"))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    return _png(figure)


def _every_day(by_day: dict[str, int]) -> tuple[list[date], list[int]]:
    """Days without letters are drawn as gaps of zero, not left out."""
    first, last = date.fromisoformat(min(by_day)), date.fromisoformat(max(by_day))
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return days, [by_day.get(day.isoformat(), 0) for day in days]


def _span_days(by_day: dict[str, int]) -> int:
    days = sorted(by_day)
    return (date.fromisoformat(days[-1]) - date.fromisoformat(days[0])).days + 1


def cities(report: Report, tx: Texts = ENGLISH) -> bytes:
    top = list(report.by_city.items())[:TOP_CITIES]
    rest = sum(report.by_city.values()) - sum(n for _, n in top)
    if rest:
        top.append((tx.t("results.chart.otherCities"), rest))
    figure, ax = plt.subplots(figsize=(8, max(2.2, 0.32 * len(top) + 0.8)))
    if not top:
        _empty(ax, tx.t("results.chart.noLetters"))
    else:
        names = [_label(name) for name, _ in top][::-1]
        counts = [n for _, n in top][::-1]
        # Positions, not names, on the axis: two cities printed alike must not be drawn as one bar.
        bars = ax.barh(range(len(names)), counts, color=COLOUR)
        ax.set_yticks(range(len(names)), names)
        ax.bar_label(bars, padding=3, fontsize=8)
        ax.set_title(tx.t("results.chart.byCity"))
        ax.set_xlabel(tx.t("results.chart.letters"))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return _png(figure)


def prisoners(report: Report, tx: Texts = ENGLISH) -> bytes:
    bins = report.prisoners.histogram
    figure, ax = plt.subplots(figsize=(8, 3))
    if not report.prisoners.held:
        _empty(ax, tx.t("results.chart.noPrisoners"))
    else:
        colours = [ACCENT if label == "0" else COLOUR for label in bins]
        bars = ax.bar(list(bins), list(bins.values()), color=colours)
        ax.bar_label(bars, padding=2, fontsize=8)
        ax.set_title(tx.t("results.chart.byLetters"))
        ax.set_xlabel(tx.t("results.chart.lettersReceived"))
        ax.set_ylabel(tx.t("results.chart.prisoners"))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    return _png(figure)


def render(name: str, report: Report, lang: str = "en") -> bytes:
    """A chart with its titles in `lang` (uk, en, ru)."""
    # The style (plain-text labels above all) is applied where each chart's texts are made.
    with plt.rc_context(STYLE):
        draw = {"letters-over-time": letters_over_time, "cities": cities, "prisoners": prisoners}[name]
        return draw(report, Texts(lang))


def render_all(report: Report, lang: str = "en") -> dict[str, bytes]:
    return {name: render(name, report, lang) for name in NAMES}
