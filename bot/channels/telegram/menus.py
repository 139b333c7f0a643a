"""Command menus per role: everyone's default menu, and a chat-scoped one for each role holder.

Telegram shows the menu of the most specific scope it has: a chat's own list
(`BotCommandScopeChat`) before the default list of the user's language. Everyone gets the core
commands and the member ones (/myteams, /leave); a manager, coordinator or admin gets, in their
private chat, the core commands plus `menu_for(their roles)`, in their language.

Keeping the chat menus right as roles change:
- at start-up every role holder's menu is published, and the chat menus of people who lost
  their roles while the bot was stopped are deleted (the users with a chat menu are remembered
  in the `telegram_menus` setting);
- after each turn the user's roles are read again (two indexed queries) and their menu is
  refreshed if it no longer matches (redeeming a coordinator link, leaving the last team they
  managed, changing language); after a coordinator's or admin's turn every role holder is
  checked, since they may have appointed a manager;
- every schedule tick (`--schedule-interval`) checks every role holder again, which catches
  `ccbot roles grant|revoke` run while the bot is up.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Coroutine, Iterable
from typing import Any

from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import TelegramError

from bot.channels.telegram.commands import menu
from bot.channels.telegram.outcomes import outcome_of
from bot.channels.telegram.sender import chat_id_of
from bot.channels.telegram.translate import CHANNEL
from bot.definitions.model import DEFAULT_LOCALE
from bot.engine.core.events import UserKey
from bot.engine.core.roles import DirectoryRoles
from bot.engine.engine import Engine
from bot.engine.ports.directory import commit_ops, parse_key
from bot.engine.ports.directory_ops import SetSetting
from bot.storage.sqlite_store import SQLiteStore

log = logging.getLogger(__name__)

MENUS_SETTING = "telegram_menus"
# Seconds before a menu Telegram refused is tried again.
RETRY_FAILED = 600.0
# Roles that change what a user's menu holds (members see the default menu).
_CHANGES_OTHERS = frozenset({"coordinator", "admin"})

Entries = tuple[tuple[str, str], ...]


def default_menus(engine: Engine) -> dict[str, list[tuple[str, str]]]:
    """The default menu per language: the commands everyone may use."""
    return menu(engine.content, engine.command_list())


async def publish_defaults(bot: Bot, engine: Engine) -> dict[str, list[tuple[str, str]]]:
    """Set the default menu per language; a failure only leaves the old menu. Returns them."""
    menus = default_menus(engine)
    for locale, entries in menus.items():
        try:
            await bot.set_my_commands([BotCommand(name, text) for name, text in entries],
                                      language_code=None if locale == DEFAULT_LOCALE else locale)
        except TelegramError as exc:
            log.warning("could not set the command menu for %s: %s", locale,
                        outcome_of(exc).reason)
    return menus


class RoleMenus:
    """Publishes the default menu and keeps each role holder's chat menu up to date."""

    def __init__(self, bot: Bot, engine: Engine, store: SQLiteStore,
                 roles: DirectoryRoles) -> None:
        self.bot = bot
        self.engine = engine
        self.store = store
        self.roles = roles
        # user key -> the chat menu published for them (only users who have one).
        self.published: dict[str, Entries] = {}
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._sweep_queued = False
        # user key -> when to try again a menu Telegram refused (not at every tick).
        self._failed: dict[str, float] = {}

    # ------------------------------------------------------------------ what to show
    def wanted(self, key: str) -> Entries | None:
        """The chat menu `key` should have, or None for the default menu."""
        user = parse_key(key)
        roles = self.roles.roles(user) - {"member"}
        if not roles:
            return None
        record = self.store.load_user(user)
        locale = self.engine.pick_locale(record.locale if record else None)
        menus = menu(self.engine.content, self.engine.command_list(), roles)
        return tuple(menus.get(locale) or menus[DEFAULT_LOCALE])

    def holders(self) -> set[str]:
        """Telegram users who hold a role now (granted, CCBOT_ADMINS, or managing a team) and
        have talked to the bot: Telegram refuses a menu for a chat it does not know."""
        rows = self.store.query("SELECT user_key FROM role_grants UNION SELECT user_key FROM "
                                "team_members WHERE role = 'manager'")
        keys = {r["user_key"] for r in rows} | set(self.roles.admins)
        keys = {k for k in keys if k.startswith(f"{CHANNEL}:")}
        if not keys:
            return keys
        marks = ", ".join("?" * len(keys))
        known = self.store.query(f"SELECT key FROM users WHERE key IN ({marks})", tuple(keys))
        return {r["key"] for r in known}

    # ------------------------------------------------------------------ publishing
    async def start(self) -> None:
        """Publish the default menus and learn which chats had their own menu.

        The role holders' menus follow at the first `sweep` (the first schedule tick).
        """
        await publish_defaults(self.bot, self.engine)
        remembered = self.store.query("SELECT value FROM app_settings WHERE name = ?",
                                      (MENUS_SETTING,))
        stale: list[str] = []
        if remembered:
            try:
                stale = [str(k) for k in json.loads(remembered[0]["value"])]
            except (ValueError, TypeError):
                log.warning("the %s setting is not a JSON list; ignored", MENUS_SETTING)
        # Unknown published state: an impossible entry makes every one of them be sent again.
        self.published = {key: (("", ""),) for key in stale}

    async def refresh(self, keys: Iterable[str]) -> None:
        """Bring these users' chat menus in line with their roles now."""
        async with self._lock:
            before = set(self.published)
            now = time.monotonic()
            for key in sorted(keys):
                try:
                    wanted = self.wanted(key)
                except Exception:
                    log.exception("could not work out the menu of %s", key)
                    continue
                if wanted == self.published.get(key) or self._failed.get(key, 0.0) > now:
                    continue
                if await self._publish(key, wanted):
                    self._failed.pop(key, None)
                    if wanted is None:
                        self.published.pop(key, None)
                    else:
                        self.published[key] = wanted
                else:
                    self._failed[key] = now + RETRY_FAILED
            if set(self.published) != before:
                self._remember()

    async def _publish(self, key: str, entries: Entries | None) -> bool:
        scope = BotCommandScopeChat(chat_id_of(parse_key(key).id))
        try:
            if entries is None:
                await self.bot.delete_my_commands(scope=scope)
                log.info("%s holds no role now: default menu", key)
            else:
                await self.bot.set_my_commands([BotCommand(n, t) for n, t in entries],
                                               scope=scope)
                log.info("%s: menu with %d commands", key, len(entries))
            return True
        except TelegramError as exc:
            # Whatever the outcome (a 429, a chat that blocked us, ...), it is kept as
            # unpublished and tried again after RETRY_FAILED.
            log.warning("could not set the menu of %s: %s (%s)", key, outcome_of(exc).reason,
                        outcome_of(exc).kind.value)
            return False

    def _remember(self) -> None:
        try:
            commit_ops(self.store, [SetSetting(MENUS_SETTING,
                                               json.dumps(sorted(self.published)))])
        except Exception:  # the menus are only a convenience; the next change tries again
            log.exception("could not remember which chats have their own menu")

    async def sweep(self) -> None:
        """Check every role holder, and everyone who has a chat menu."""
        self._sweep_queued = False
        await self.refresh(self.holders() | set(self.published))

    # ------------------------------------------------------------------ after a turn
    def after_turn(self, user: UserKey) -> frozenset[str]:
        """Refresh the user's menu if their roles (or language) changed; return their roles."""
        if user.channel != CHANNEL:
            return frozenset()
        key = str(user)
        roles = self.roles.roles(user) - {"member"}
        if roles & _CHANGES_OTHERS:
            if not self._sweep_queued:
                self._sweep_queued = True
                self._spawn(self.sweep())
        elif roles or key in self.published:
            self._spawn(self.refresh([key]))
        return roles

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work, name="refresh a command menu")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Let menu refreshes in progress finish."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=2.0)
