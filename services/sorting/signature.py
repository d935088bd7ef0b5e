"""The line under a letter: the writer's first name and city, nothing else about them.

Its own module because the scan's render workers (services/sorting/render_pool.py) print it
and must not load the screening engine that services/sorting/domain.py brings along.
"""

from __future__ import annotations


def signature_line(first_name: str | None, city: str | None) -> str:
    """The line under the letter on the scan, and on the moderators' page exactly the same."""
    return ", ".join(part for part in (first_name, city) if part)
