"""The storage port the engine needs: users, their places, answers and handled updates."""

from __future__ import annotations

from typing import Any, Protocol

from bot.engine.core.events import UserKey
from bot.engine.core.records import Answer, Commit, UserRecord


class StoreError(Exception):
    """The store cannot be read or written; the message says what to do."""


class StoreUnavailable(StoreError):
    """The store cannot be written for now (locked by another process, disk full): nothing of
    the change was kept, and the same change can be tried again later."""


class Store(Protocol):
    """Where users, their dialogue positions, answers and handled update ids live."""

    def load_user(self, key: UserKey) -> UserRecord | None:
        """The user's record, or None for someone new (or forgotten)."""
        ...

    def seen(self, channel: str, update_id: int) -> bool:
        """True when this update was handled before."""
        ...

    def commit(self, change: Commit) -> bool:
        """Apply a change atomically; False (and nothing written) if its update id was seen."""
        ...

    def answers(self, key: UserKey, dialogue: str | None = None) -> list[Answer]:
        """The user's answers, oldest first."""
        ...

    def export_user(self, key: UserKey) -> dict[str, Any]:
        """Everything stored about the user, as plain JSON-able values."""
        ...

    def queues_replies(self) -> bool:
        """True when each commit's replies are queued for delivery in its own transaction."""
        ...

    def close(self) -> None:
        """Release resources."""
        ...
