"""The fault-injection suite: each scenario prints its counts; the run ends with one summary line."""

from __future__ import annotations

import pytest

RESULTS: list[tuple[str, int, int]] = []


@pytest.fixture
def record():
    def keep(scenario: str, tally) -> None:
        print("\n" + tally.line(scenario))
        RESULTS.append((scenario, tally.lost, tally.duplicated))

    return keep


def pytest_terminal_summary(terminalreporter):
    if RESULTS:
        lost = sum(r[1] for r in RESULTS)
        duplicated = sum(r[2] for r in RESULTS)
        terminalreporter.write_line(
            f"faults: {len(RESULTS)} scenarios, letters lost: {lost}, duplicated: {duplicated}"
        )
