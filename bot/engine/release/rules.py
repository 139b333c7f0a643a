"""Minimum groups: how many people (never counting the viewer) a released figure needs."""

from __future__ import annotations

from dataclasses import dataclass

LOWEST_MINIMUM = 3  # a deployment may raise the minimum for averages, never lower it below this
DEFAULT_MINIMUM = 5
SPREAD_MINIMUM = 8
DEFAULT_ROUND_MONTHS = 1


@dataclass(frozen=True)
class Rules:
    """The deployment's release rules (docs/PRIVACY.md, "Release rules")."""

    minimum: int = DEFAULT_MINIMUM  # respondents for any average
    spread_minimum: int = SPREAD_MINIMUM  # respondents for any spread or distribution
    round_months: int = DEFAULT_ROUND_MONTHS

    def __post_init__(self) -> None:
        if self.minimum < LOWEST_MINIMUM:
            raise ValueError(f"the minimum group is {self.minimum}; it may not be below "
                             f"{LOWEST_MINIMUM}: set CCBOT_MIN_GROUP to {LOWEST_MINIMUM} or more")
        if self.spread_minimum < self.minimum:
            raise ValueError("the spread minimum may not be below the minimum group")
        if self.round_months < 1:
            raise ValueError("rounds last at least one month: set CCBOT_ROUND_MONTHS to 1 or more")


MIN_GROUP = "CCBOT_MIN_GROUP"
ROUND_MONTHS = "CCBOT_ROUND_MONTHS"
RULE_SETTINGS = (MIN_GROUP, ROUND_MONTHS)


def _number(values: dict[str, str], name: str, default: int) -> int:
    text = values.get(name)
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{name} is {text!r}; set it to a whole number") from None


def rules_from(values: dict[str, str]) -> Rules:
    """Rules from settings (CCBOT_MIN_GROUP, CCBOT_ROUND_MONTHS); defaults when unset."""
    minimum = _number(values, MIN_GROUP, DEFAULT_MINIMUM)
    return Rules(minimum, max(SPREAD_MINIMUM, minimum),
                 _number(values, ROUND_MONTHS, DEFAULT_ROUND_MONTHS))
