"""What delivery's use cases refuse with: the routes turn each into its HTTP answer (main.py)."""

from __future__ import annotations


class NotFound(LookupError):
    pass


class Conflict(Exception):
    """The request does not fit the letter's or bundle's current state."""


class Invalid(ValueError):
    pass
