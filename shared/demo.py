"""The fictional demo campaign that a newcomer sees on first start."""

from functools import cache
from pathlib import Path
from typing import Any

import yaml

DEMO_FILE = Path(__file__).with_name("demo_campaign.yaml")


@cache
def demo_campaign() -> dict[str, Any]:
    return yaml.safe_load(DEMO_FILE.read_text(encoding="utf-8"))
