"""Delivery's background loops: build bundles on schedule, send what is due, make intermediaries'
answers final when their undo window closes, keep the gauges fresh."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from services.delivery.bundling import build_bundles, resume_building
from services.delivery.handover import finalise_answers
from services.delivery.metrics import HANDLER_SECONDS
from services.delivery.monitor import refresh_gauges
from services.delivery.sending import send_due
from services.delivery.service import Delivery

log = logging.getLogger("delivery.scheduler")


async def every(interval_s: float, job: Callable[[], Awaitable[object]], name: str, *, first_after_s: float) -> None:
    """Run `job` forever, `interval_s` apart; a failing run is logged and the next one comes anyway."""
    await asyncio.sleep(first_after_s)
    while True:
        try:
            with HANDLER_SECONDS.labels(name).time():
                await job()
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.warning("scheduled job failed; it runs again at the next interval",
                        extra={"job": name, "error": repr(error)})
        await asyncio.sleep(interval_s)


def loops(delivery: Delivery, *, bundle_interval_s: float, send_poll_s: float, metrics_refresh_s: float) -> list:
    async def sending() -> None:
        await resume_building(delivery)  # a builder that died: finished within seconds, not at the next round
        await send_due(delivery)

    return [
        # The first scheduled bundles come one interval after start: a restart does not send early.
        lambda: every(bundle_interval_s, lambda: build_bundles(delivery), "build-bundles",
                      first_after_s=bundle_interval_s),
        lambda: every(send_poll_s, sending, "send-bundles", first_after_s=send_poll_s),
        # Intermediaries' answers whose undo window closed: announced within a poll of it closing.
        lambda: every(send_poll_s, lambda: finalise_answers(delivery), "finalise-answers", first_after_s=send_poll_s),
        lambda: every(metrics_refresh_s, lambda: refresh_gauges(delivery), "refresh-gauges", first_after_s=0),
    ]
