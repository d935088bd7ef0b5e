"""The fault-injection suite: each scenario prints its counts; the run ends with one summary line."""

from __future__ import annotations

import pytest

RESULTS: list[tuple[str, object]] = []


@pytest.fixture
def record():
    def keep(scenario: str, tally) -> None:
        print("\n" + tally.line(scenario))
        RESULTS.append((scenario, tally))

    return keep


def pytest_terminal_summary(terminalreporter):
    if RESULTS:
        def total(name: str) -> int:
            return sum(getattr(tally, name) for _, tally in RESULTS)

        terminalreporter.write_line(
            f"faults: {len(RESULTS)} scenarios, letters accepted: {total('accepted')}, "
            f"settled: {total('delivered') - total('held') + total('rejected')} (rejected: {total('rejected')}), "
            f"held: {total('held')}, lost: {total('lost')}, "
            # Parked messages, letters or not: the poison scenario parks its poison on purpose.
            f"duplicated: {total('duplicated')}; messages parked: {total('parked')}"
        )
