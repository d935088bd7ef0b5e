"""Structured logs: one JSON object per line on stdout, from our code and from the libraries.

Everything goes through the root logger's one handler: our loggers, FastStream's (whose own
package logger would otherwise print coloured text to stderr), uvicorn's, warnings, and uncaught
exceptions; a traceback is the `exception` field of its line. In an outage the repeating lines
(reconnect attempts, events the outbox cannot publish yet) come at most once per interval, with
the number they stand for.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import structlog

# One line per repeating condition per this many seconds during an outage.
REPEAT_INTERVAL_S = 30.0
# Libraries that log a lost connection or a failed reconnect attempt as an error: for an operator
# a broker that is away for a while is a warning (readiness says so too); what is lost is ours to say.
RECONNECT_LOGGERS = ("aiormq", "aio_pika")


class Every:
    """At most one line per interval for a condition that repeats, with how many times it happened.

        away = Every(log, 30)
        away.warning("outbox event not published yet", error=repr(error))   # count=… on the line
    """

    def __init__(self, logger: logging.Logger, interval_s: float = REPEAT_INTERVAL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._logger, self._interval_s, self._clock = logger, interval_s, clock
        self._last: float | None = None
        self._count = 0

    def warning(self, message: str, **extra: Any) -> bool:
        """Count one occurrence; write the line if the interval is over. True if it was written."""
        self._count += 1
        now = self._clock()
        if self._last is not None and now - self._last < self._interval_s:
            return False
        self._logger.warning(message, extra={**extra, "count": self._count, "interval_s": self._interval_s})
        self._last, self._count = now, 0
        return True


class ReconnectsAsWarnings(logging.Filter):
    """A library's connection-lifecycle errors become warnings, and one per interval per message."""

    def __init__(self, interval_s: float = REPEAT_INTERVAL_S, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._interval_s, self._clock = interval_s, clock
        self._seen: dict[str, tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(RECONNECT_LOGGERS):
            return True
        template = str(record.msg)
        if not any(word in record.getMessage().lower() for word in ("connect", "close", "transport")):
            return True
        if record.levelno > logging.WARNING:
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        last, held = self._seen.get(template, (None, 0))
        now = self._clock()
        if last is not None and now - last < self._interval_s:
            self._seen[template] = (last, held + 1)
            return False
        record.count = held + 1
        self._seen[template] = (now, 0)
        return True


def _drop_colours(_, __, event: dict) -> dict:
    # uvicorn adds a copy of its message with terminal colour codes.
    event.pop("color_message", None)
    return event


def configure_logging(service: str, level: str = "INFO") -> None:
    shared_processors = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared_processors, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared_processors,
            processors=[
                lambda _, __, event: {**event, "service": service},
                _drop_colours,
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer(ensure_ascii=False, default=str),
            ],
        )
    )
    # On the handler, not the libraries' loggers: they log through child loggers (aio_pika.tools,
    # aio_pika.robust_connection), and a logger's filter sees only its own records.
    handler.addFilter(ReconnectsAsWarnings())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("pymongo", "botocore", "boto3", "urllib3", "aiormq", "aio_pika", "fontTools", "fpdf"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # uvicorn installs its own handlers, and FastStream gives its package logger a coloured stderr
    # handler that does not propagate (on import, hence the import here): route their records
    # through ours instead.
    import faststream  # noqa: F401
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "faststream", "faststream.access"):
        library = logging.getLogger(name)
        library.handlers[:] = []
        library.propagate = True
        library.setLevel(logging.NOTSET)
    logging.captureWarnings(True)
    _log_uncaught_exceptions()


def _log_uncaught_exceptions() -> None:
    """A crash is a JSON line too, not Python's traceback on stderr."""
    crash = logging.getLogger("crash")

    def on_main(kind, error, traceback) -> None:
        if issubclass(kind, KeyboardInterrupt):
            return sys.__excepthook__(kind, error, traceback)
        crash.critical("uncaught exception", exc_info=(kind, error, traceback))

    def on_thread(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        crash.critical("uncaught exception in a thread", exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
                       extra={"thread": getattr(args.thread, "name", None)})

    sys.excepthook = on_main
    threading.excepthook = on_thread
