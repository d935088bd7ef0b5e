"""Delivery's background loops: build bundles on schedule, send what is due, make intermediaries'
answers final when their undo window closes, keep the gauges fresh."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from services.delivery.bundling import build_bundles, resume_building
from services.delivery.context import Delivery
from services.delivery.handover import finalise_answers
from services.delivery.metrics import HANDLER_SECONDS
from services.delivery.monitor import refresh_gauges
from services.delivery.sending import send_due
from shared.service import every as run_every


def every(interval_s: float, job: Callable[[], Awaitable[object]], name: str, *, first_after_s: float):
    """The shared loop, each run timed in delivery's handler histogram under `name`."""
    async def timed() -> None:
        with HANDLER_SECONDS.labels(name).time():
            await job()

    return run_every(interval_s, timed, name, first_after_s=first_after_s)


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
