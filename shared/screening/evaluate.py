"""Evaluate the screening engine on the labelled development set.

    python -m shared.screening.evaluate [FILES...] [--misses] [--markdown]

Without FILES it reads every ``*.jsonl`` under ``tests/data/screening_dev/``. One letter per line::

    {"id": "insults-003", "kind": "insults", "expect": "review", "why": "...", "text": "...",
     "writer_first_name": "...", "writer_city": "..."}        # the last two are optional

Each letter is screened as the service screens it: ``screen(text, lang="en", fields={...})`` with the
writer's name and city when present. A letter is *flagged* when the verdict is "review".

The metrics, with "needs a moderator" (expect "review") as the positive class:

- per kind: how many letters, the verdict they should get, how many were flagged, and
  **recall** (flagged / letters) for kinds that should be flagged, or the **false-flag rate**
  (flagged / letters) for kinds that should pass;
- **recall**: of the letters a moderator must see, the share the engine flagged (missed ones reach
  the censor);
- **precision**: of the letters the engine flagged, the share that really needed a moderator (the
  rest is moderators' time wasted). It depends on the mix of ok and review letters in the files;
- **plain letters flagged**: the share of letters of kind "plain" (ordinary everyday letters) that
  were flagged; every one of them is a supporter whose letter is held up for nothing.

The exit code is 0 whatever the scores; 2 if a file is missing or malformed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from shared.screening.engine import Finding, screen

DEV_SET_DIR = Path(__file__).resolve().parents[2] / "tests" / "data" / "screening_dev"
EXPECTS = ("ok", "review")
FIELDS = ("writer_first_name", "writer_city")
PLAIN_KIND = "plain"


class DevSetError(ValueError):
    """A dev-set file is missing or a line in it is malformed."""


@dataclass(frozen=True)
class Letter:
    id: str
    kind: str
    expect: str
    why: str
    text: str
    fields: dict[str, str]
    source: str  # "file:line", for messages


@dataclass(frozen=True)
class Judged:
    letter: Letter
    verdict: str
    findings: list[Finding]

    @property
    def flagged(self) -> bool:
        return self.verdict == "review"

    @property
    def correct(self) -> bool:
        return self.verdict == self.letter.expect


@dataclass(frozen=True)
class KindRow:
    kind: str
    expect: str
    letters: int
    flagged: int

    @property
    def rate(self) -> float:
        """Recall for a review kind, false-flag rate for an ok kind: both are flagged / letters."""
        return self.flagged / self.letters


@dataclass(frozen=True)
class Summary:
    kinds: list[KindRow]
    letters: int
    positives: int  # letters that should be flagged
    true_positives: int
    flagged: int
    plain_letters: int
    plain_flagged: int

    @property
    def recall(self) -> float | None:
        return _ratio(self.true_positives, self.positives)

    @property
    def precision(self) -> float | None:
        return _ratio(self.true_positives, self.flagged)

    @property
    def plain_flag_rate(self) -> float | None:
        return _ratio(self.plain_flagged, self.plain_letters)


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


# ---------------------------------------------------------------- reading


def default_files() -> list[Path]:
    """Every *.jsonl of the dev set, in name order."""
    return sorted(DEV_SET_DIR.glob("*.jsonl"))


def load_letters(paths: Iterable[Path]) -> list[Letter]:
    """Read and check the dev-set files; raise DevSetError naming the file and line of any problem."""
    letters: list[Letter] = []
    seen: dict[str, str] = {}
    for path in paths:
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as error:
            raise DevSetError(f"{path}: cannot read: {error}") from error
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            source = f"{path}:{number}"
            letter = _parse(line, source)
            if letter.id in seen:
                raise DevSetError(f"{source}: id {letter.id!r} is already used at {seen[letter.id]}")
            seen[letter.id] = source
            letters.append(letter)
    return letters


def _parse(line: str, source: str) -> Letter:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as error:
        raise DevSetError(f"{source}: not valid JSON: {error}") from error
    if not isinstance(row, dict):
        raise DevSetError(f"{source}: a line must be a JSON object")
    for key in ("id", "kind", "expect", "text"):
        if not isinstance(row.get(key), str) or not row[key].strip():
            raise DevSetError(f"{source}: {key!r} must be a non-empty string")
    if row["expect"] not in EXPECTS:
        raise DevSetError(f"{source}: expect must be one of {EXPECTS}, not {row['expect']!r}")
    if not isinstance(row.get("why", ""), str):
        raise DevSetError(f"{source}: 'why' must be a string")
    fields = {}
    for key in FIELDS:
        value = row.get(key)
        if value is not None and not isinstance(value, str):
            raise DevSetError(f"{source}: {key!r} must be a string")
        if value:
            fields[key] = value
    return Letter(
        id=row["id"],
        kind=row["kind"],
        expect=row["expect"],
        why=row.get("why", ""),
        text=row["text"],
        fields=fields,
        source=source,
    )


# ---------------------------------------------------------------- judging and scoring


def judge(letters: Iterable[Letter]) -> list[Judged]:
    """Screen every letter as the service does (English messages, printed fields included)."""
    judged = []
    for letter in letters:
        result = screen(letter.text, lang="en", fields=letter.fields)
        judged.append(Judged(letter=letter, verdict=result.verdict, findings=result.findings))
    return judged


def summarise(judged: Sequence[Judged]) -> Summary:
    """Per-kind counts (in order of first appearance) and the overall metrics."""
    counts: dict[tuple[str, str], list[int]] = {}
    for item in judged:
        letters_flagged = counts.setdefault((item.letter.kind, item.letter.expect), [0, 0])
        letters_flagged[0] += 1
        letters_flagged[1] += item.flagged
    positives = [item for item in judged if item.letter.expect == "review"]
    plain = [item for item in judged if item.letter.kind == PLAIN_KIND]
    return Summary(
        kinds=[KindRow(kind, expect, n, flagged) for (kind, expect), (n, flagged) in counts.items()],
        letters=len(judged),
        positives=len(positives),
        true_positives=sum(item.flagged for item in positives),
        flagged=sum(item.flagged for item in judged),
        plain_letters=len(plain),
        plain_flagged=sum(item.flagged for item in plain),
    )


def evaluate(paths: Iterable[Path] | None = None) -> tuple[list[Judged], Summary]:
    """Load, screen and score the given files (default: the whole dev set)."""
    judged = judge(load_letters(default_files() if paths is None else paths))
    return judged, summarise(judged)


# ---------------------------------------------------------------- printing


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def format_table(summary: Summary, markdown: bool = False) -> str:
    header = ["kind", "letters", "expected", "flagged", "recall", "false-flag rate"]
    rows = [
        [
            row.kind,
            str(row.letters),
            row.expect,
            str(row.flagged),
            _fmt(row.rate) if row.expect == "review" else "—",
            _fmt(row.rate) if row.expect == "ok" else "—",
        ]
        for row in summary.kinds
    ]
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
    else:
        widths = [max(len(cells[i]) for cells in [header, *rows]) for i in range(len(header))]
        lines = [
            "  ".join(cell.ljust(width) for cell, width in zip(cells, widths)) for cells in [header, *rows]
        ]
        lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def format_overall(summary: Summary, markdown: bool = False) -> str:
    s = summary
    lines = [
        f"letters: {s.letters} ({s.positives} need a moderator, {s.letters - s.positives} ok)",
        f"recall (letters needing a moderator that were flagged): {_fmt(s.recall)}"
        + f" ({s.true_positives} of {s.positives})",
        f"precision (flagged letters that needed a moderator): {_fmt(s.precision)}"
        + f" ({s.true_positives} of {s.flagged})",
        f'plain letters flagged (kind "{PLAIN_KIND}"): {_fmt(s.plain_flag_rate)}'
        + f" ({s.plain_flagged} of {s.plain_letters})",
    ]
    return "\n".join(f"- {line}" for line in lines) if markdown else "\n".join(lines)


def format_misses(judged: Sequence[Judged]) -> str:
    """Every wrongly judged letter: id, what was expected, and what the engine flagged (and where)."""
    blocks = []
    for item in judged:
        if item.correct:
            continue
        letter = item.letter
        head = f"{letter.id} [{letter.kind}] expected {letter.expect}, got {item.verdict} — {letter.why}"
        lines = [head]
        if item.findings:
            for finding in item.findings:
                source = letter.text if finding.field == "body" else letter.fields.get(finding.field, "")
                span = source[finding.start : finding.end]
                lines.append(f"    {finding.rule} in {finding.field}: {span!r}")
        else:
            lines.append("    nothing flagged")
            for name, value in letter.fields.items():
                lines.append(f"    {name}: {value!r}")
            excerpt = letter.text if len(letter.text) <= 300 else letter.text[:300] + "…"
            lines.append(f"    text: {excerpt!r}")
        blocks.append("\n".join(lines))
    return "\n".join(blocks) if blocks else "no misses"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m shared.screening.evaluate",
        description="Screen the labelled dev set and print recall, precision and per-kind results.",
    )
    parser.add_argument(
        "files", nargs="*", type=Path, help="JSONL files (default: tests/data/screening_dev/*.jsonl)"
    )
    parser.add_argument(
        "--misses", action="store_true", help="print every wrongly judged letter and its spans"
    )
    parser.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    args = parser.parse_args(argv)

    paths = args.files or default_files()
    if not paths:
        print(f"no *.jsonl files under {DEV_SET_DIR}", file=sys.stderr)
        return 2
    try:
        judged, summary = evaluate(paths)
    except DevSetError as error:
        print(f"malformed dev set: {error}", file=sys.stderr)
        return 2

    print(format_table(summary, markdown=args.markdown))
    print()
    print(format_overall(summary, markdown=args.markdown))
    if args.misses:
        print()
        print(format_misses(judged))
    return 0


if __name__ == "__main__":
    sys.exit(main())
