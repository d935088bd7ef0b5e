"""Named crash points for the fault-injection suite (tests/faults), off unless FAILPOINTS is set.

`FAILPOINTS="outbox.after_change=3"` makes the process die abruptly (as SIGKILL would) the 3rd time
it reaches `failpoint("outbox.after_change")`. This is how the suite proves that a crash loses nothing
at the points where it could:

- `outbox.after_change`: a change is written with its events (inside the transaction, between the
  document and the outbox entries, where transactions run), not yet published;
- `outbox.after_store`: an event stored apart from its change (`Outbox.add_and_publish`), not yet published;
- `outbox.after_publish`: published, not yet marked published.
"""

from __future__ import annotations

import os
from collections import Counter

_hits: Counter[str] = Counter()


def _armed() -> dict[str, int]:
    armed = {}
    for item in filter(None, os.environ.get("FAILPOINTS", "").split(",")):
        name, _, nth = item.partition("=")
        armed[name.strip()] = int(nth or 1)
    return armed


_ARMED = _armed()


def failpoint(name: str) -> None:
    if name not in _ARMED:
        return
    _hits[name] += 1
    if _hits[name] == _ARMED[name]:
        os._exit(137)
