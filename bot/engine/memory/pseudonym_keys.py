"""The in-memory twin of the pseudonym key and salts: a random key per process, salts in a dict."""

from __future__ import annotations

import secrets

from bot.engine.core.events import UserKey


class MemoryPseudonymKeys:
    """PseudonymKeys over a dict; `forget_salt` is what /forget does to it."""

    def __init__(self) -> None:
        self._pseudonym_key = secrets.token_hex(32).encode("ascii")
        self._salts: dict[str, str] = {}

    def pseudonym_key(self) -> bytes:
        return self._pseudonym_key

    def pseudonym_salt(self, user: UserKey) -> str:
        return self._salts.setdefault(str(user), secrets.token_hex(16))

    def forget_salt(self, user: UserKey) -> None:
        """Drop the person's salt: whoever comes back with that key gets new codes."""
        self._salts.pop(str(user), None)
