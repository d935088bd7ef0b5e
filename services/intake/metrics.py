"""Intake's Prometheus metrics, served on /metrics with the process's default registry."""

from prometheus_client import Counter, Gauge

OVERDUE = Gauge("intake_overdue_letters", "Letters (and prisoners' records) past their deadline in a non-final "
                "state at the last sweep, by state", ["state"])
HEALED = Counter("intake_overdue_healed_total", "Stuck records the sweeper repaired, by state", ["state"])
