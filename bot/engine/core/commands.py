"""A chat command, declared once: its name, handler, menu text and the lowest role allowed."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from bot.engine.core.roles import ROLE_ORDER, rank

# Called as handler(feature, turn, argument), the turn a TurnApi (core/feature_api.py).
# Handlers are a feature class's own functions, so a feature's commands are known (for
# menus, /help and `ccbot validate`) without an instance.
Handler = Callable[[Any, Any, str], None]
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


@dataclass(frozen=True)
class Command:
    """One chat command; the engine checks `requires` on the server before every use."""

    name: str
    handler: Handler
    # The message id of its one-line menu description, or None to keep it out of the menus.
    menu: str | None = None
    # The lowest role that may use it, or None for everyone who has consented. Features with
    # finer rules (e.g. "manager of this team") check again inside the handler.
    requires: str | None = None
    # The message id of what it takes after its name, shown in /help ("NAME"), if anything.
    usage: str | None = None
    # Usable before onboarding consent (/start, /help, /mydata, /forget).
    before_consent: bool = False
    # Answered in a group chat too; every other command points to the private chat there.
    in_groups: bool = False

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"command name {self.name!r}: Telegram allows 1-32 lowercase "
                             "letters, digits and underscores, starting with a letter")
        if self.requires is not None and self.requires not in ROLE_ORDER:
            raise ValueError(f"/{self.name} requires unknown role {self.requires!r}; "
                             f"use one of {', '.join(ROLE_ORDER)} or None")


def menu_for(commands: Iterable[Command], roles: frozenset[str]) -> list[tuple[str, str]]:
    """(command, menu message id) pairs a holder of `roles` sees: everyone's commands first,
    then by the role they need, each group in declaration order."""
    held = rank(roles)
    shown = [c for c in commands if c.menu is not None and least_rank(c) <= held]
    return [(c.name, c.menu) for c in sorted(shown, key=least_rank) if c.menu is not None]


def least_rank(command: Command) -> int:
    """The rank of the lowest role that may use the command (0: everyone)."""
    return ROLE_ORDER.index(command.requires) if command.requires else 0


def menu_messages(commands: Iterable[Command]) -> tuple[str, ...]:
    """The message ids of the commands' menu texts and usages, for `ccbot validate`."""
    ids = [m for c in commands for m in (c.menu, c.usage) if m is not None]
    return tuple(dict.fromkeys(ids))
