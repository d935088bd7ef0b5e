"""The public results page and its shareable image, drawn from the safe summary in Ukrainian, English or Russian.

Both are made on the server: a link shared on a social network is previewed by a crawler that runs no
script, so the figures, the Open Graph tags and the image must be in what the server sends. The page
is a Jinja template with autoescaping (a hostile city or event name is text, never markup) and its
charts are inline SVG bars whose only variable is a number.
"""

from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo

from services.intake.results import places
from services.intake.results.domain import SMALL_COUNT, PublicCount, PublicSummary
from services.intake.results.report import DEJAVU, DEJAVU_BOLD
from services.intake.results.texts import LANGS, Texts

TEMPLATES = Path(__file__).resolve().parent / "templates"
# The size social networks show a link preview at (Open Graph's recommended 1.91:1).
SHARE_SIZE = (1200, 630)
SHARE_BACKGROUND = "#1f5f8b"
SHARE_MARGIN = 72
FOLDED = "other"  # domain.fold_small's name for the places folded together

_templates = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                         trim_blocks=True, lstrip_blocks=True)


@dataclass(frozen=True)
class Bar:
    label: str
    value: str
    width: float  # percent of the longest bar


def headline(summary: PublicSummary, tx: Texts) -> str:
    """"1,234 letters from 25 events in 13 cities and 4 countries", in the reader's language and grammar."""
    letters = tx.plural("public.n.letters", summary.letters)
    countries = tx.plural("public.n.countries", summary.country_count)
    if summary.event_count:
        return tx.t("public.headline", letters=letters, events=tx.plural("public.n.events", summary.event_count),
                    cities=tx.plural("public.n.cities", summary.city_count), countries=countries)
    return tx.t("public.headlineNoEvents", letters=letters, cities=tx.plural("public.n.citiesFrom", summary.city_count),
                countries=countries)


def period_label(summary: PublicSummary, tx: Texts, year: int | None) -> str:
    if summary.period.get("event") and summary.events:
        return summary.events[0].name
    return tx.t("public.periodYear", year=year) if year else tx.t("public.periodAll")


def bars(rows: list[tuple[str, PublicCount]], tx: Texts) -> list[Bar]:
    """Rows as bars; a hidden count ("<5") is drawn at half of SMALL_COUNT, short enough to say "a few"."""
    def amount(value: PublicCount) -> float:
        return SMALL_COUNT / 2 if isinstance(value, str) else float(value)

    longest = max((amount(value) for _, value in rows), default=0) or 1
    return [Bar(label, tx.number(value), round(100 * amount(value) / longest, 1)) for label, value in rows]


def _city(name: str, tx: Texts) -> str:
    return tx.t("public.other") if name == FOLDED else places.gazetteer().city_name(name, tx.lang)


def _country(code: str, tx: Texts) -> str:
    return tx.t("public.other") if code == FOLDED else tx.country(code)


def page_html(summary: PublicSummary, tx: Texts, *, year: int | None, links: dict[str, str], page_url: str,
              share_url: str) -> str:
    """The page; `links` holds this page in each language, `share_url` the absolute link of its image."""
    return _templates.get_template("public.html").render(
        lang=tx.lang, t=tx.t, langs=LANGS, links=links, language_names={code: Texts(code).t("public.languageName")
                                                                         for code in LANGS}, page_url=page_url, share_url=share_url,
        og_locale=tx.locale.language + "_" + (tx.locale.territory or ""),
        headline=headline(summary, tx), period=period_label(summary, tx, year),
        figures=[(tx.number(getattr(summary, name)), tx.t(f"public.{label}")) for name, label in (
            ("letters", "letters"), ("prisoners_written_to", "prisonersWrittenTo"),
            ("prisoners_reached", "prisonersReached"), ("handed_over", "handedOver"), ("replies", "replies"),
            ("events_abroad", "eventsAbroad"))],
        channels=bars([(tx.t(f"results.channel.{c}"), n) for c, n in summary.by_channel.items()], tx),
        cities=bars([(_city(p.name, tx), p.letters) for p in summary.cities], tx),
        countries=bars([(_country(p.name, tx), p.letters) for p in summary.countries], tx),
        events=[{"name": e.name, "city": _city(e.city, tx) if e.city else "", "country": _country(e.country, tx)
                 if e.country else "", "day": tx.day(e.starts_on), "letters": tx.number(e.letters)}
                for e in summary.events],
        share_size=SHARE_SIZE,
    )


def share_lines(summary: PublicSummary, tx: Texts, year: int | None) -> tuple[str, str, str]:
    """What the shareable image says: the campaign, the headline, the period."""
    return tx.t("public.campaign"), headline(summary, tx), period_label(summary, tx, year)


def share_png(lines: tuple[str, str, str]) -> bytes:
    """The image a shared link is previewed with (1200×630 PNG); its texts are also in its PNG metadata."""
    campaign, said, period = lines
    image = Image.new("RGB", SHARE_SIZE, SHARE_BACKGROUND)
    draw = ImageDraw.Draw(image)
    width = SHARE_SIZE[0] - 2 * SHARE_MARGIN
    draw.text((SHARE_MARGIN, SHARE_MARGIN - 8), campaign, font=_font(True, 40), fill="#ffd54f")
    size, wrapped = _fit(draw, said, width, SHARE_SIZE[1] - 2 * SHARE_MARGIN - 150)
    font = _font(True, size)
    box = draw.multiline_textbbox((0, 0), wrapped, font=font, spacing=size // 4)
    top = (SHARE_SIZE[1] - (box[3] - box[1])) // 2
    draw.multiline_text((SHARE_MARGIN, top), wrapped, font=font, fill="white", spacing=size // 4)
    draw.text((SHARE_MARGIN, SHARE_SIZE[1] - SHARE_MARGIN - 30), _printable(period)[:80], font=_font(False, 30),
              fill="#d7e6f0")
    info = PngInfo()
    info.add_itxt("Title", campaign)
    info.add_itxt("Description", said)
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info, optimize=True)
    return out.getvalue()


def _fit(draw: ImageDraw.ImageDraw, text: str, width: int, height: int) -> tuple[int, str]:
    """The largest font size (72 down to 32) at which the headline, wrapped, fits the box."""
    text = _printable(text)
    for size in range(72, 31, -4):
        font = _font(True, size)
        per_line = max(8, int(width / (draw.textlength("н", font=font) * 1.02)))
        for columns in range(per_line + 12, 7, -1):
            wrapped = "\n".join(textwrap.wrap(text, columns))
            box = draw.multiline_textbbox((0, 0), wrapped, font=font, spacing=size // 4)
            if box[2] - box[0] <= width:
                break
        if box[3] - box[1] <= height:
            return size, wrapped
    return 32, "\n".join(textwrap.wrap(text, 60)[:5])


def _font(bold: bool, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(DEJAVU_BOLD if bold and DEJAVU_BOLD.exists() else DEJAVU), size)


def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() else " " for ch in text)
