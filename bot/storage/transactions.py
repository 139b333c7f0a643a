"""What the delivery stages need of the database: a write transaction and shared reads.

SQLiteStore provides both; the inbox and the reply outbox type against this, not the store,
because the store itself calls into them inside a turn's transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Protocol

from bot.engine.core.records import Commit

# Called inside a turn's transaction to queue its replies (bot/storage/reply_outbox.py).
TurnQueue = Callable[[sqlite3.Connection, Commit, str | None], None]


class Transactions(Protocol):
    """One writer connection: transactions on it, and reads through it."""

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on any error."""
        ...

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        """A read on the shared connection."""
        ...


class TurnQueueing(Protocol):
    """A store that can queue each turn's replies in the turn's own transaction."""

    reply_outbox: TurnQueue | None
