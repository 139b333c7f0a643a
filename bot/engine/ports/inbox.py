"""The durable inbox port: updates kept before they are acknowledged, until they are handled."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from bot.engine.core.events import Reply, UserKey


@dataclass(frozen=True)
class InboxItem:
    """One received update waiting to be handled: its id, chat, sender and raw JSON body."""

    update_id: int
    chat: str
    user_key: str | None
    update: dict[str, Any]


class Inbox(Protocol):
    """Received updates not yet handled (DESIGN.md §4 rules 3-4)."""

    def add(self, items: Iterable[InboxItem]) -> list[InboxItem]:
        """Keep a batch at once; return the items neither kept nor handled before."""
        ...

    def pending(self) -> list[InboxItem]:
        """Items left unhandled (by a crash or a stop), oldest first."""
        ...

    def done(self, item: InboxItem, user: UserKey | None = None,
             replies: tuple[Reply, ...] = ()) -> None:
        """Mark an item handled without the engine (ignored, or failed) and queue `replies`."""
        ...
