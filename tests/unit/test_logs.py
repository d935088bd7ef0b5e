"""Logs in an outage: repeating lines once per interval with a count; reconnects are warnings."""

from __future__ import annotations

import io
import json
import logging
import sys
import threading

import pytest

from shared.logs import Every, ReconnectsAsWarnings, configure_logging


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_repeating_warning_is_written_once_per_interval_with_how_often_it_happened(caplog):
    clock, log = Clock(), logging.getLogger("unit.every")
    away = Every(log, 30, clock)
    written = [away.warning("broker away", event_id=str(n)) for n in range(100)]
    clock.now += 31
    written.append(away.warning("broker away", event_id="last"))
    assert written.count(True) == 2
    first, second = [r for r in caplog.records if r.name == "unit.every"]
    assert (first.count, second.count) == (1, 100)
    assert second.event_id == "last"


def record(name: str, level: int, msg: str) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, (), None)


def test_a_failed_reconnect_attempt_is_a_warning_and_comes_once_per_interval():
    clock = Clock()
    reconnects = ReconnectsAsWarnings(30, clock)
    first = record("aio_pika", logging.ERROR, "Reconnect attempt failed %s due to %s: %s. Retrying after %r seconds.")
    assert reconnects.filter(first) and first.levelname == "WARNING" and first.count == 1
    assert not any(reconnects.filter(record("aio_pika", logging.ERROR, first.msg)) for _ in range(20))
    clock.now += 30
    later = record("aio_pika", logging.ERROR, first.msg)
    assert reconnects.filter(later) and later.count == 21


def test_other_library_errors_pass_unchanged():
    other = record("aiormq.connection", logging.ERROR, "Unexpected frame %r")
    assert ReconnectsAsWarnings().filter(other) and other.levelname == "ERROR"


@pytest.fixture
def json_lines(monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    root = logging.getLogger()
    saved = root.handlers[:], root.level, sys.excepthook, threading.excepthook
    configure_logging("unit", "DEBUG")
    yield lambda: [json.loads(line) for line in out.getvalue().splitlines()]
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    sys.excepthook, threading.excepthook = saved[2], saved[3]
    logging.captureWarnings(False)


def test_faststream_uvicorn_and_tracebacks_are_json_lines_through_the_root_handler(json_lines):
    logging.getLogger("faststream.broker").error("handler crashed", exc_info=ValueError("bad letter"))
    logging.getLogger("uvicorn.error").info("Started server process [%d]", 7,
                                            extra={"color_message": "Started server process [\x1b[36m%d\x1b[0m]"})
    faststream, uvicorn = json_lines()
    assert faststream["logger"] == "faststream.broker" and faststream["level"] == "error"
    assert "ValueError: bad letter" in faststream["exception"]
    assert uvicorn["event"] == "Started server process [7]" and "color_message" not in uvicorn
