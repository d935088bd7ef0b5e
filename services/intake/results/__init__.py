"""The campaign's results: numbers, charts and reports for organisers, and a public summary."""

from services.intake.results.api import router

__all__ = ["router"]
