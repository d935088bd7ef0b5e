"""Sorting's Prometheus metrics, served on /metrics with the process's default registry."""

from prometheus_client import Counter, Gauge

OVERDUE = Gauge("sorting_overdue_letters", "Letters past their deadline in a non-final state at the last sweep, "
                "by state", ["state"])
HEALED = Counter("sorting_overdue_healed_total", "Stuck letters the sweeper moved on, by the state they were in",
                 ["state"])
