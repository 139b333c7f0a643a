"""The broadcast and schedule wizards' state: a draft kept in the user's awaiting state."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass


def split_awaiting(awaiting: str) -> tuple[str, str]:
    """'bc:<step>:<payload>' -> (step, payload)."""
    _, _, rest = awaiting.partition(":")
    step, _, payload = rest.partition(":")
    return step, payload


@dataclass(frozen=True)
class Draft:
    """A broadcast or schedule being put together, kept in the user's awaiting state.

    The awaiting state ('bc:<step>:<json>') is written with the turn, and the next prompt is
    rendered from it in the same turn; an op would not be readable until after the commit.
    """

    purpose: str  # 'now' or 'schedule'
    audience: str = ""
    label: str = ""
    kind: str = ""  # 'prompt', 'text' or 'cycle'
    question: str = ""
    body: str = ""
    strand: str = ""
    frequency: str = ""
    weekday: int = -1
    time: str = ""
    zone: str = ""

    def encode(self) -> str:
        """Compact JSON of the fields set so far."""
        values = {k: v for k, v in asdict(self).items() if v not in ("", -1)}
        return json.dumps(values, separators=(",", ":"), ensure_ascii=False)

    @staticmethod
    def decode(text: str) -> Draft | None:
        """The draft in `text`, or None when it cannot be read."""
        try:
            values = json.loads(text)
            return Draft(**values) if isinstance(values, dict) else None
        except (ValueError, TypeError):
            return None

    def next_step(self) -> str:
        """The first thing still missing."""
        if not self.audience:
            return "aud"
        if not self.kind:
            return "strand" if self.strand else "content"
        if self.kind == "text" and not self.body:
            return "text"
        if self.purpose == "now":
            return "preview"
        if not self.frequency:
            return "freq"
        if self.frequency == "weekly" and self.weekday < 0:
            return "day"
        if not self.time:
            return "time"
        if not self.zone:
            return "zone"
        return "confirm"
