"""The in-memory twin of the blocked-chats registry."""

from __future__ import annotations


class MemoryBlockedChats:
    """Blocked chats in a set; `users` are the user keys kept with them, as in SQLite."""

    def __init__(self) -> None:
        self._chats: set[str] = set()
        self.users: set[str] = set()

    def block(self, chat: str, user_key: str | None) -> None:
        self._chats.add(chat)
        if user_key:
            self.users.add(user_key)

    def unblock(self, chat: str, user_key: str | None) -> None:
        self._chats.discard(chat)
        if user_key:
            self.users.discard(user_key)

    def is_blocked(self, chat: str) -> bool:
        return chat in self._chats

    def chats(self) -> list[str]:
        return sorted(self._chats)
