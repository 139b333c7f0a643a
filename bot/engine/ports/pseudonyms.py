"""The pseudonym key (kept outside the database) and each person's salt, made on first use."""

from __future__ import annotations

from typing import Protocol

from bot.engine.core.events import UserKey


class PseudonymKeys(Protocol):
    """What pseudonyms and member codes are made from: one key, and a salt per person."""

    def pseudonym_key(self) -> bytes:
        """The HMAC key; never stored in the database, so a backup cannot recompute names."""
        ...

    def pseudonym_salt(self, user: UserKey) -> str:
        """The person's salt, made on first use; /forget deletes it, so they return as new."""
        ...
