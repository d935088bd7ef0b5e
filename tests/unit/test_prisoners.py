"""Who can receive letters is decided in one place (shared/prisoners.py), and nothing restates it."""

import re
from pathlib import Path

import pytest

from shared.prisoners import PRISONER_STATUSES, can_receive_letters

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("status, receives", [
    ("detained", True), ("transferred", True), ("released", False), ("deceased", False), (None, True),
])
def test_only_prisoners_still_held_receive_letters(status, receives):
    assert can_receive_letters(status) is receives


def test_the_status_names_and_the_receiving_rule_are_written_down_once():
    """Two or more status names together outside shared/prisoners.py is the rule restated."""
    names = "|".join(PRISONER_STATUSES)
    together = re.compile(rf"[\"']({names})[\"']\s*[,)|]\s*[\"']({names})[\"']")
    copies = []
    for path in [*ROOT.glob("services/**/*.py"), *ROOT.glob("shared/**/*.py"), *ROOT.glob("services/**/*.js")]:
        if path.name == "prisoners.py" and path.parent.name == "shared":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if together.search(line):
                copies.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert copies == [], "\n".join(copies)
