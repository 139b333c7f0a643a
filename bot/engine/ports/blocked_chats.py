"""The blocked-chats port: the one registry of chats that refuse the bot's messages."""

from __future__ import annotations

from typing import Protocol


class BlockedChats(Protocol):
    """Chats of one channel that blocked the bot; replies and broadcasts skip them.

    A private chat's id is its user's id, so a blocked private chat is a blocked user: pass
    the user key when the chat is the user's own, and it is kept with the user (the broadcast
    audience leaves them out too). A group is only remembered until the bot stops.
    """

    def block(self, chat: str, user_key: str | None) -> None:
        """The chat answered 403: stop sending to it until it writes again."""
        ...

    def unblock(self, chat: str, user_key: str | None) -> None:
        """The chat wrote to us, so it can be reached again."""
        ...

    def is_blocked(self, chat: str) -> bool:
        """True while the chat is known to refuse our messages."""
        ...

    def chats(self) -> list[str]:
        """Every chat known to refuse our messages, sorted."""
        ...
