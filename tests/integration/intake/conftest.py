"""What intake's API tests share: a client of the running intake."""

from __future__ import annotations

import httpx
import pytest


@pytest.fixture
async def intake(stack):
    async with httpx.AsyncClient(base_url=stack.url("intake"), timeout=30) as client:
        yield client
