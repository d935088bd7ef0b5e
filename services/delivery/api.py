"""Delivery's HTTP API: what operators watch."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel


class OutgoingLetter(BaseModel):
    letter_id: str
    prisoner_id: str
    state: str
    pages: int
    queued_at: datetime


class OutgoingView(BaseModel):
    counts: dict[str, int]
    waiting: list[OutgoingLetter]


def _outgoing(request: Request) -> Any:
    return request.app.state.outgoing


router = APIRouter(prefix="/api/v1", tags=["outgoing"])


@router.get("/outgoing", response_model=OutgoingView, summary="The outgoing queue: counts and oldest waiting")
async def outgoing(
    outgoing: Annotated[Any, Depends(_outgoing)], limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> OutgoingView:
    waiting = [
        OutgoingLetter(letter_id=doc["_id"], **{k: doc[k] for k in ("prisoner_id", "state", "pages", "queued_at")})
        for doc in await outgoing.waiting(limit)
    ]
    return OutgoingView(counts=await outgoing.counts(), waiting=waiting)
