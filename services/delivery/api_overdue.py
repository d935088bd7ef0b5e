"""The operators' view of overdue letters: each service's latest sweep (services/*/sweeper.py).

Intake's and sorting's sweepers send their reports over the bus (`overdue.reported.<service>`),
delivery's own sweeper keeps its report directly; this route shows the latest of each.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from services.delivery.api import Operator
from services.delivery.ports import OverdueReports
from shared.events import OverdueReport, OverdueService


def _reports(request: Request) -> OverdueReports:
    return request.app.state.overdue_reports


ReportsDep = Annotated[OverdueReports, Depends(_reports)]

router = APIRouter(prefix="/api/v1", tags=["monitor"])


class OverdueEntry(BaseModel):
    letter_id: str = Field(description="The letter's id; for intake's `facility_copy`, the prisoner's id")
    state: str = Field(description="Where it waits, in the reporting service's words", examples=["bundled"])
    since: datetime = Field(description="Since when it has waited there")
    note: str = Field(description="What is known of why, and who can act")


class ServiceOverdue(BaseModel):
    service: OverdueService
    checked_at: datetime = Field(description="When that service's sweeper last looked")
    overdue: list[OverdueEntry] = Field(description="Empty when nothing waits past its deadline; at most 100, "
                                                    "the longest-waiting first")


class OverdueView(BaseModel):
    reports: list[ServiceOverdue] = Field(description="The latest report of each service, by service name")


def overdue_view(reports: list[OverdueReport]) -> OverdueView:
    return OverdueView(reports=[
        ServiceOverdue(service=report.service, checked_at=report.checked_at,
                       overdue=[OverdueEntry.model_validate(entry.model_dump()) for entry in report.overdue])
        for report in sorted(reports, key=lambda report: report.service)])


@router.get("/monitor/overdue", response_model=OverdueView,
            summary="Letters waiting past their deadline in a non-final state, by service")
async def overdue(_: Operator, reports: ReportsDep) -> OverdueView:
    """Role: operator or admin. What each service's sweeper could not heal; a service not listed has not
    reported yet. The monitor page polls it."""
    return overdue_view(await reports.latest())
