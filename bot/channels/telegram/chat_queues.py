"""Runs work concurrently across chats and strictly in order within each chat, with a bound."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

Item = TypeVar("Item")


class ChatQueues(Generic[Item]):
    """One queue and at most one running task per chat; at most `concurrency` items at once.

    PTB's concurrent_updates reordered replies within chats (DESIGN.md §4 rule 5); a queue per
    chat cannot, and the semaphore keeps a burst from opening hundreds of connections.
    """

    def __init__(self, work: Callable[[str, Item], Awaitable[None]], concurrency: int,
                 high_water: int = 1000) -> None:
        self._work = work
        self._slots = asyncio.Semaphore(concurrency)
        self._queues: dict[str, deque[Item]] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._queued = 0
        self._high_water = high_water
        self._room = asyncio.Event()
        self._room.set()
        self._idle = asyncio.Event()
        self._idle.set()
        self.stopping = False

    def submit(self, chat: str, item: Item) -> None:
        """Queue `item` after everything already queued for `chat`."""
        if self.stopping:
            return  # it is still in the inbox or outbox; the next start picks it up
        self._queues.setdefault(chat, deque()).append(item)
        self._queued += 1
        if self._queued >= self._high_water:
            self._room.clear()
        if chat not in self._tasks:
            self._idle.clear()
            self._tasks[chat] = asyncio.create_task(self._run(chat), name=f"chat {chat}")

    async def _run(self, chat: str) -> None:
        queue = self._queues[chat]
        try:
            while queue and not self.stopping:
                item = queue.popleft()
                self._taken()
                async with self._slots:
                    if self.stopping:
                        break
                    try:
                        await self._work(chat, item)
                    except Exception:
                        # The work logs its own failures; this keeps one chat's bug from
                        # stopping the chat's queue or the bot.
                        log.exception("unexpected error while working for chat %s", chat)
        finally:
            self._taken(len(queue))  # left behind by a stop; still safe in SQLite
            del self._queues[chat], self._tasks[chat]
            if not self._tasks:
                self._idle.set()

    def _taken(self, count: int = 1) -> None:
        self._queued -= count
        if self._queued < self._high_water:
            self._room.set()

    async def wait_for_room(self) -> None:
        """Wait while too many items are queued (they are safe in SQLite meanwhile)."""
        await self._room.wait()

    async def join(self) -> None:
        """Wait until every queued item has been worked."""
        await self._idle.wait()

    async def close(self, grace: float) -> None:
        """Start nothing new; let running items finish for up to `grace` seconds, then cancel."""
        self.stopping = True
        tasks = list(self._tasks.values())
        if not tasks:
            return
        _, late = await asyncio.wait(tasks, timeout=grace)
        for task in late:
            task.cancel()
        if late:
            log.warning("cancelled work for %d chat(s) still running after %.1f s; what was not "
                        "finished is sent or handled at the next start", len(late), grace)
            await asyncio.gather(*late, return_exceptions=True)
