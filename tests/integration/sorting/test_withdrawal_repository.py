"""A writer's withdrawal in sorting's repositories, over the fake and MongoDB alike: it applies only
from a state before scanning, once, and excludes the scan's `ready` (and the reverse)."""

from __future__ import annotations

import pytest

from services.sorting.domain import WITHDRAWABLE_STATES
from shared.s3 import StoredObject
from tests.integration.sorting.test_repository import SCAN, facts, stores  # noqa: F401 (the fixture)

pytestmark = pytest.mark.integration


async def test_a_letter_in_review_is_withdrawn_once_and_then_never_marked_ready(stores):  # noqa: F811
    letters, _ = stores
    await letters.register(facts("l_w"))
    await letters.mark_review_needed("l_w")
    assert await letters.mark_withdrawn("l_w", WITHDRAWABLE_STATES)
    assert not await letters.mark_withdrawn("l_w", WITHDRAWABLE_STATES)
    stored = await letters.get("l_w")
    assert (stored["state"], stored["withdrawn_from"]) == ("withdrawn", "review_needed")
    scan = StoredObject(stored["scan_key"], SCAN.sha256, SCAN.size)
    assert not await letters.mark_ready("l_w", "review_needed", scan, 1)
    assert not await letters.mark_approved("l_w", "m")


async def test_a_scanned_letter_is_not_withdrawn(stores):  # noqa: F811
    letters, _ = stores
    await letters.register(facts("l_s"))
    scan = StoredObject((await letters.get("l_s"))["scan_key"], SCAN.sha256, SCAN.size)
    assert await letters.mark_ready("l_s", "received", scan, 1)
    assert not await letters.mark_withdrawn("l_s", WITHDRAWABLE_STATES)
    assert (await letters.get("l_s"))["state"] == "ready"
