"""Per-address rate limits for anonymous writers (the `limits` library, moving window).

Counts live in process memory: with several intake replicas each enforces its own share; point
`limits` at Redis (storage URI) if a campaign needs one global count.
"""

from __future__ import annotations

import math
import time

from limits import parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter


class RateLimited(Exception):
    def __init__(self, retry_after_s: int) -> None:
        super().__init__(retry_after_s)
        self.retry_after_s = retry_after_s


class AddressLimiter:
    def __init__(self, rules: dict[str, str]) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._rules = {name: parse(rule) for name, rule in rules.items()}

    async def hit(self, rule: str, address: str) -> None:
        item = self._rules[rule]
        if not await self._limiter.hit(item, address):
            stats = await self._limiter.get_window_stats(item, address)
            raise RateLimited(max(1, math.ceil(stats.reset_time - time.time())))
