"""The scan's renderer against the alternatives, on the same typed letters: CPU per letter and correctness.

    .venv/bin/python -m bench.renderers --letters 100          # fpdf2 only (what the project installs)
    /tmp/r/bin/python -m bench.renderers --letters 100          # a venv with pymupdf and reportlab too

Each renderer typesets the same letters (`bench.letters`, plus a line with every Crimean Tatar
Latin letter and the Ukrainian ones) on A4 with 20 mm margins, the font cut once to what letters
use (services/sorting/scan.py's `letter_font`), and is timed per letter with `time.process_time`
(one process, no other work; a busy machine moves it little). Correct means the PDF's text, as
pypdf extracts it, contains the whole letter (whitespace aside) and every letter of the check line.
A renderer that is not installed is reported as such. Writes `OUT/renderers.json`.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from html import escape
from pathlib import Path

from pypdf import PdfReader

from bench.letters import make_letters

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
CHECK_LINE = "Selâm, Şükrü, Çağrı, Ğani, Iıñ, Ömer, Ümmü; ёлка, йод; Її, єнот, ґанок, Єва."
PRISONER = "Ремзи Демо"
MM = 72 / 25.4
A4_PT = (210 * MM, 297 * MM)


def squash(text: str) -> str:
    return " ".join(text.split())


def scan_renderer(font: str) -> Callable[[str, str], bytes]:
    """services/sorting/scan.py as it is (ReportLab since 2026-12-02)."""
    from services.sorting.scan import TypedLetter, render_typed_letter

    def render(body: str, signature: str) -> bytes:
        first, city = signature.split(", ")
        return render_typed_letter(TypedLetter(PRISONER, body, first, city, datetime(2026, 1, 1, tzinfo=UTC)), font).pdf

    return render


def fpdf2_renderer(font: str) -> Callable[[str, str], bytes]:
    """The scan as fpdf2 typeset it until 2026-12-02 (services/sorting/scan.py then)."""
    from fpdf import FPDF

    def render(body: str, signature: str) -> bytes:
        pdf = FPDF(format="A4", unit="mm")
        pdf.set_margins(20, 20, 20)
        pdf.set_auto_page_break(auto=True, margin=20)
        pdf.set_creation_date(datetime(2026, 1, 1, tzinfo=UTC))
        pdf.set_title("Письмо")
        pdf.add_font("letter", fname=font)
        pdf.add_page()
        pdf.set_font("letter", size=11)
        pdf.multi_cell(0, 6, f"Для: {PRISONER}")
        pdf.ln(6)
        pdf.set_font("letter", size=12)
        pdf.multi_cell(0, 7, body)
        pdf.ln(6)
        pdf.set_font("letter", size=11)
        pdf.multi_cell(0, 6, signature, align="R")
        return bytes(pdf.output())

    return render


def reportlab_renderer(font: str) -> Callable[[str, str], bytes]:
    from reportlab.lib.enums import TA_RIGHT
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    pdfmetrics.registerFont(TTFont("letter", font))
    small = ParagraphStyle("small", fontName="letter", fontSize=11, leading=6 * MM)
    body_style = ParagraphStyle("body", fontName="letter", fontSize=12, leading=7 * MM)
    right = ParagraphStyle("right", parent=small, alignment=TA_RIGHT)

    def render(body: str, signature: str) -> bytes:
        out = io.BytesIO()
        doc = SimpleDocTemplate(out, pagesize=A4_PT, leftMargin=20 * MM, rightMargin=20 * MM, topMargin=20 * MM,
                                bottomMargin=20 * MM, title="Письмо", invariant=1)
        story = [Paragraph(escape(f"Для: {PRISONER}"), small), Spacer(1, 6 * MM)]
        story += [Paragraph(escape(part).replace("\n", "<br/>"), body_style) for part in body.split("\n\n")]
        story += [Spacer(1, 6 * MM), Paragraph(escape(signature), right)]
        doc.build(story)
        return out.getvalue()

    return render


def pymupdf_renderer(font: str) -> Callable[[str, str], bytes]:
    import pymupdf

    archive = pymupdf.Archive(str(Path(font).parent))
    css = (f"@font-face {{font-family: letter; src: url({Path(font).name});}} "
           "body {font-family: letter; font-size: 12pt; line-height: 7mm;} "
           ".small {font-size: 11pt;} .right {text-align: right;}")
    where = pymupdf.Rect(0, 0, *A4_PT) + (20 * MM, 20 * MM, -20 * MM, -20 * MM)

    def render(body: str, signature: str) -> bytes:
        paragraphs = "".join(f"<p>{escape(part).replace(chr(10), '<br/>')}</p>" for part in body.split("\n\n"))
        html = (f"<p class='small'>{escape(f'Для: {PRISONER}')}</p>{paragraphs}"
                f"<p class='small right'>{escape(signature)}</p>")
        story = pymupdf.Story(html, user_css=css, archive=archive)
        out = io.BytesIO()
        writer = pymupdf.DocumentWriter(out)
        more = True
        while more:
            device = writer.begin_page(pymupdf.Rect(0, 0, *A4_PT))
            more, _ = story.place(where)
            story.draw(device)
            writer.end_page()
        writer.close()
        doc = pymupdf.open("pdf", out.getvalue())
        doc.subset_fonts()
        return doc.tobytes(garbage=3, deflate=True)

    return render


RENDERERS = {"scan": scan_renderer, "fpdf2": fpdf2_renderer, "reportlab": reportlab_renderer, "pymupdf": pymupdf_renderer}


def measure(name: str, make: Callable[[str], Callable[[str, str], bytes]], font: str,
            letters: list[tuple[str, str]]) -> dict:
    try:
        started = time.process_time()
        render = make(font)
        render(*letters[0])  # warm: imports, font parsing
        warm_s = time.process_time() - started
    except ImportError as error:
        return {"installed": False, "error": str(error)}
    times, sizes, pages, intact, alphabet = [], [], 0, 0, 0
    for body, signature in letters:
        started = time.process_time()
        pdf = render(body, signature)
        times.append((time.process_time() - started) * 1000)
        sizes.append(len(pdf))
        reader = PdfReader(io.BytesIO(pdf))
        pages += len(reader.pages)
        text = squash(" ".join(page.extract_text() for page in reader.pages))
        intact += squash(body) in text
        alphabet += all(c in text for c in CHECK_LINE if not c.isspace())
    return {
        "installed": True, "version": _version(name), "warm_s": round(warm_s, 3),
        "cpu_ms_per_letter": {"median": round(statistics.median(times), 2), "mean": round(statistics.fmean(times), 2),
                              "p95": round(sorted(times)[int(0.95 * (len(times) - 1))], 2)},
        "bytes_mean": round(statistics.fmean(sizes)), "pages": pages,
        "letters_intact": intact, "alphabet_intact": alphabet, "letters": len(letters),
    }


def _version(name: str) -> str:
    from importlib.metadata import version

    return version({"scan": "reportlab", "fpdf2": "fpdf2", "reportlab": "reportlab", "pymupdf": "pymupdf"}[name])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--letters", type=int, default=100)
    parser.add_argument("--renderers", nargs="*", default=list(RENDERERS))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    from services.sorting.scan import letter_font

    font = letter_font(FONT)
    prisoners = [{"id": "p_demo", "names": {"ru": PRISONER}}]
    letters = [(f"{row['body']}\n\n{CHECK_LINE}", f"{row['author']['display_name']}, {row['author']['city']}")
               for row in make_letters(args.letters, prisoners, seed=args.seed)]
    results = {name: measure(name, RENDERERS[name], font, letters) for name in args.renderers}
    report = {"letters": len(letters), "chars_mean": round(statistics.fmean(len(b) for b, _ in letters)),
              "font": FONT, "renderers": results}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "renderers.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    for name, result in results.items():
        if not result["installed"]:
            print(f"{name:10} not installed")
            continue
        cpu = result["cpu_ms_per_letter"]
        print(f"{name:10} {cpu['median']:7.1f} ms median {cpu['mean']:7.1f} mean {cpu['p95']:7.1f} p95  "
              f"{result['bytes_mean']:7} B  intact {result['letters_intact']}/{result['letters']}  "
              f"alphabet {result['alphabet_intact']}/{result['letters']}")


if __name__ == "__main__":
    main()
