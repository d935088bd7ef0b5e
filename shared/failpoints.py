"""Named crash points for the fault-injection suite (tests/faults), off unless FAILPOINTS is set.

`FAILPOINTS="outbox.after_store=3"` makes the process die abruptly (as SIGKILL would) the 3rd time
it reaches `failpoint("outbox.after_store")`. This is how the suite proves that a crash between
storing an event and publishing it, or between publishing and marking it published, loses nothing.
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
