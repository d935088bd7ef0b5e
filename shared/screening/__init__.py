"""Screening engine: flags what a moderator would flag before a letter goes to a prison censor.

from shared.screening import screen
result = screen(letter_text, lang="uk")
result.verdict        # "ok" | "review"
result.findings       # [Finding(rule, category, severity, start, end, message, suggestion)]
result.rules_version  # version of rules.yaml
"""

from shared.screening.engine import Finding, ScreeningResult, default_rules, screen
from shared.screening.rules import RuleBook, RulesFileError, load_rules

RULES_VERSION: str = default_rules().version

__all__ = [
    "RULES_VERSION",
    "Finding",
    "RuleBook",
    "RulesFileError",
    "ScreeningResult",
    "load_rules",
    "screen",
]
