"""The command menu Telegram shows, and the message ids the Telegram channel says itself."""

from __future__ import annotations

from collections.abc import Iterable

from bot.definitions.model import DEFAULT_LOCALE, Content

# In menu order. /start is left out: Telegram shows its own Start button to new users.
MENU = ("cycle", "reflect", "strand", "back", "skip", "where", "profile", "progress", "pause",
        "language", "restart", "mydata", "forget", "help")
MOVED_ON = "telegram.moved_on"
ERROR_SAVED = "error.saved"
# `ccbot validate` checks these exist, like the engine's REQUIRED_MESSAGES.
TELEGRAM_MESSAGES: tuple[str, ...] = (
    *(f"command.{name}" for name in MENU), MOVED_ON, ERROR_SAVED)


def menu(content: Content, extra: Iterable[str] = ()) -> dict[str, list[tuple[str, str]]]:
    """(command, description) pairs per locale; `extra` commands join if they are described."""
    names = [n for n in dict.fromkeys([*MENU, *extra]) if f"command.{n}" in content.messages]
    texts = [content.messages[f"command.{n}"] for n in names]
    # A locale gets its own menu once any description is translated; gaps fall back to English.
    locales = [DEFAULT_LOCALE, *(code for code in content.locales if code != DEFAULT_LOCALE
                                 and any(t.has(code) for t in texts))]
    return {code: [(n, t.get(code)[:256]) for n, t in zip(names, texts)] for code in locales}
