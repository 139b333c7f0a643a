"""What the running bot does on a clock: due schedules, weekly digests, role menus.

PTB's JobQueue keeps nothing across a restart; here every rule lives in SQLite, so the loop only
asks "what is due now?" (DESIGN.md §4 rule 6, docs/BROADCASTS.md). It runs once at start-up,
after recovery, so a run missed while the bot was down is sent then (once, not repeated), and
then every `interval` seconds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.channels.telegram.broadcaster import BroadcastSender
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.menus import RoleMenus
from bot.engine.core.roles import DirectoryRoles
from bot.engine.features.broadcasts.schedules import run_due
from bot.engine.features.practice.followups import send_due
from bot.engine.features.reminders.nudges import send_nudges, send_quiet_offers
from bot.engine.features.team_view.digests import due_digests
from bot.storage.directory_store import SQLiteDirectory
from bot.storage.practice_store import SQLitePractice
from bot.storage.reminder_store import SQLiteReminders
from bot.storage.sqlite_store import SQLiteStore

log = logging.getLogger(__name__)


@dataclass
class Periodic:
    """One tick: schedules, then digests, then role menus."""

    channel: TelegramChannel
    store: SQLiteStore
    directory: SQLiteDirectory
    roles: DirectoryRoles
    broadcasts: BroadcastSender
    menus: RoleMenus | None = None
    practice: SQLitePractice | None = None
    reminders: SQLiteReminders | None = None
    clock: Callable[[], float] = time.time

    async def run(self, interval: float) -> None:
        """Tick now, then every `interval` seconds, until cancelled."""
        while True:
            await self.tick()
            await asyncio.sleep(interval)

    async def tick(self) -> None:
        """Everything due now; one failing part does not stop the others."""
        await self.schedules()
        await self.digests()
        await self.followups()
        if self.menus is not None:
            try:
                await self.menus.sweep()
            except Exception:
                log.exception("could not refresh the role menus")

    async def schedules(self) -> int:
        """Create the broadcasts of due schedules (the sender picks them up at once)."""
        engine = self.channel.engine
        try:
            runs = await asyncio.to_thread(run_due, self.directory, self.store, engine.content,
                                           self.clock(), holds=engine.roles.has)
        except Exception:
            log.exception("could not run the due schedules")
            return 0
        for run in runs:
            log.info("schedule %s: %s", run.schedule_id, run.result)
            if run.told is not None:
                self.channel.queues.submit(run.told, None)  # the creator's notice is queued
        created = sum(1 for run in runs if run.sent)
        if created:
            self.broadcasts.wake()
        return created

    async def followups(self) -> int:
        """Follow-ups and reminders now due (docs/PRACTICE.md), through the reply outbox."""
        if self.practice is None:
            return 0
        engine = self.channel.engine
        try:
            told = await asyncio.to_thread(send_due, self.practice, self.store, engine.content,
                                           self.clock(), channels=("telegram",))
            if self.reminders is not None:
                told += await asyncio.to_thread(send_nudges, self.reminders, self.store,
                                                engine.content, self.clock())
                told += await asyncio.to_thread(send_quiet_offers, self.reminders, self.store,
                                                engine.content, self.clock())
        except Exception:
            log.exception("could not send the due follow-ups and reminders")
            return 0
        for user, _ in told:
            self.channel.queues.submit(user.id, None)  # a private chat's id is its user's
        return len(told)

    async def digests(self) -> int:
        """Weekly digests, exactly as docs/BROADCASTS.md "Weekly digest" says."""
        engine = self.channel.engine
        try:
            # It draws charts: kept off the event loop.
            sent = await asyncio.to_thread(due_digests, self.directory, self.store,
                                           engine.content, engine.charts, self.clock(),
                                           admins=self.roles.admins)
        except Exception:
            log.exception("could not send the due weekly digests")
            return 0
        for message in sent:
            if message.queued:
                # The replies are in the reply outbox already: drain that chat.
                self.channel.queues.submit(message.chat_id, None)
            else:  # pragma: no cover - the Telegram store always queues
                log.error("digest for %s was not queued; not sent", message.user)
        if sent:
            log.info("sent %d weekly digest(s)", len(sent))
        return len(sent)
