"""The command menu Telegram shows, and the message ids the Telegram channel says itself."""

from __future__ import annotations

from collections.abc import Iterable

from bot.definitions.model import DEFAULT_LOCALE, Content
from bot.engine.core.commands import Command, menu_for
from bot.engine.features.personal import PERSONAL_COMMANDS

MOVED_ON = "telegram.moved_on"
ERROR_SAVED = "error.saved"
# `ccbot validate` checks these exist, like the engine's REQUIRED_MESSAGES (which already holds
# every command's menu text).
TELEGRAM_MESSAGES: tuple[str, ...] = (MOVED_ON, ERROR_SAVED)
# The commands everyone sees in the default menu, in order (derived, for tests and docs).
MENU = tuple(name for name, _ in menu_for(PERSONAL_COMMANDS, frozenset()))


def menu(content: Content, commands: Iterable[Command] = PERSONAL_COMMANDS,
         roles: frozenset[str] = frozenset()) -> dict[str, list[tuple[str, str]]]:
    """(command, description) pairs per locale that a holder of `roles` sees."""
    pairs = [(n, content.messages[m]) for n, m in menu_for(commands, roles)
             if m in content.messages]
    # A locale gets its own menu once any description is translated; gaps fall back to English.
    locales = [DEFAULT_LOCALE, *(code for code in content.locales if code != DEFAULT_LOCALE
                                 and any(text.has(code) for _, text in pairs))]
    return {code: [(n, text.get(code)[:256]) for n, text in pairs] for code in locales}
