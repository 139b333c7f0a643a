"""Features plug commands, confirmations and buttons into a turn without growing the core."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.engine.events import Choice

if TYPE_CHECKING:
    from bot.engine.conversation import Turn

Handler = Callable[["Turn", str], None]


@dataclass(frozen=True)
class Command:
    """A command a feature adds: its handler and who may use it (checked on the server)."""

    name: str
    handler: Handler
    # A role the user must hold, or None for everyone who has consented. Features with finer
    # rules (e.g. "manager of this team") check again inside the handler.
    requires: str | None = None


class Feature:
    """Base class: a feature owns the awaiting states and button data that start with its prefix.

    Awaiting states are '<prefix>:<detail>'; buttons for them are ordinary turn-bound choices.
    Buttons that must outlive a turn (e.g. on a broadcast) use data '<prefix>:<detail>' too and
    are validated by the feature itself.
    """

    prefix = ""

    def commands(self) -> tuple[Command, ...]:
        """The commands this feature adds."""
        return ()

    def prompt(self, turn: Turn, awaiting: str) -> tuple[str, tuple[Choice, ...]] | None:
        """The question to show while the user is in one of this feature's awaiting states."""
        return None

    def act(self, turn: Turn, awaiting: str, option: str) -> None:
        """A choice (tapped or typed) was made in one of this feature's awaiting states."""

    def text(self, turn: Turn, awaiting: str, text: str) -> bool:
        """Free text arrived in one of this feature's awaiting states; True if consumed."""
        return False

    def button(self, turn: Turn, data: str) -> bool:
        """Button data with this feature's prefix, outside any awaiting state; True if handled."""
        return False

    def start_payload(self, turn: Turn, payload: str) -> bool:
        """A `/start <payload>` deep link after onboarding; True if this feature used it."""
        return False

    def owns(self, value: str) -> bool:
        """True when an awaiting state or button data belongs to this feature."""
        return bool(self.prefix) and value.startswith(self.prefix + ":")
