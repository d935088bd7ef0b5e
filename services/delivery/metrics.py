"""Delivery's Prometheus metrics, served on /metrics with the process's default registry."""

from prometheus_client import Counter, Gauge, Histogram

LETTERS = Gauge("delivery_letters", "Letters on the outgoing queue, by delivery state", ["state"])
OLDEST_WAITING = Gauge(
    "delivery_oldest_waiting_seconds", "Age of the oldest letter that has not left yet (queued, bundled, failed)"
)
BUNDLES = Gauge("delivery_bundles", "Bundles still in delivery's hands, by state", ["state"])
RECEIVED = Counter("delivery_letters_received_total", "Ready letters put on the outgoing queue")
TRANSITIONS = Counter("delivery_letter_transitions_total", "Letters moved to a delivery state", ["state"])
SEND_ATTEMPTS = Counter("delivery_send_attempts_total", "Attempts to send a bundle", ["channel", "result"])
BUNDLES_FAILED = Counter("delivery_bundles_failed_total", "Bundles given up on after the last attempt", ["channel"])
HANDLER_SECONDS = Histogram(
    "delivery_handler_seconds", "Time to handle one message or one scheduled job", ["handler"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
OVERDUE = Gauge("delivery_overdue_letters", "Letters past their deadline in a non-final state at the last sweep, "
                "by state", ["state"])
HEALED = Counter("delivery_overdue_healed_total", "Stuck letters the sweeper moved on, by the state they were in",
                 ["state"])
