"""The campaign's results: numbers, charts and reports for organisers, and a public summary."""

from fastapi import APIRouter

router = APIRouter()
