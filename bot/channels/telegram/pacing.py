"""One rate limiter for every message the bot sends: replies first, broadcasts in what is left.

Telegram allows about 30 messages a second overall, one a second per chat and 20 a minute per
group (DESIGN.md §4 rule 6). PTB's AIORateLimiter drops messages after a 429 and pauses every
request on one; here nothing is dropped and only broadcasts pause:

- `Pacer` hands out send slots evenly spaced at the overall rate, so any one-second window
  holds at most `rate` + 1 messages. Waiters are served by priority: a reply to a user (or the
  edit of an answered question) before a coordinator's progress message before a broadcast
  copy, so a big broadcast only ever uses the capacity replies leave over.
- After a 429 Telegram says how long to wait; `pause_broadcasts` holds every broadcast copy for
  that long while replies keep their slots.
- `ChatPacing` spaces the copies sent to one chat (1 s for a person, 3 s for a group at 20 a
  minute). Replies count too: a broadcast copy waits its interval after a reply.
- `ReplyBursts` lets a turn's few replies (the tapped question's edit, the prompt, the next
  question) go out together, as people expect and Telegram tolerates, while a chat's
  sustained reply rate stays at its interval: a bucket of `reply_burst` sends per chat that
  refills at one per interval.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

# Priorities: lower is served first.
REPLY = 0
PROGRESS = 1
BROADCAST = 2


@dataclass(frozen=True)
class Limits:
    """How fast the bot may send (docs/TELEGRAM.md, "Broadcasts and pacing")."""

    # Messages per second overall, replies and broadcasts together; None = no limit.
    rate: float | None = 25.0
    # Broadcast copies per second to one person's chat.
    chat_rate: float = 1.0
    # Messages per minute to one group chat (Telegram: 20).
    group_per_minute: float = 20.0
    # Replies (and edits) that may go to one chat back to back before its interval applies.
    reply_burst: int = 3

    def chat_interval(self, chat: str) -> float:
        """The least time between two broadcast copies to `chat` (group ids are negative)."""
        person = 1.0 / self.chat_rate
        return max(person, 60.0 / self.group_per_minute) if chat.startswith("-") else person


class Pacer:
    """Evenly spaced send slots at `rate` per second, served by priority."""

    def __init__(self, rate: float | None) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self._next = 0.0
        self._heap: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self._paused_until = 0.0
        self.granted = 0

    async def slot(self, priority: int) -> None:
        """Wait for the right to send one message."""
        if not self.interval and (priority != BROADCAST or not self.paused()):
            self.granted += 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._heap, (priority, next(self._order), waiter))
        self._dispatch()
        await waiter  # cancelled: the entry is skipped when it reaches the top

    def pause_broadcasts(self, seconds: float) -> None:
        """Telegram answered 429: no broadcast copy goes out for `seconds`; replies still do."""
        loop = asyncio.get_running_loop()
        self._paused_until = max(self._paused_until, loop.time() + seconds)
        self._dispatch()

    def paused(self) -> float:
        """Seconds broadcasts are still paused for (0 when they are not)."""
        return max(0.0, self._paused_until - asyncio.get_running_loop().time())

    def _dispatch(self) -> None:
        loop = asyncio.get_running_loop()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        while self._heap:
            priority, _, waiter = self._heap[0]
            if waiter.done():  # its task was cancelled while waiting
                heapq.heappop(self._heap)
                continue
            now = loop.time()
            if now < self._next:
                self._timer = loop.call_at(self._next, self._dispatch)
                return
            if priority == BROADCAST and now < self._paused_until:
                # Only broadcasts wait (anything more urgent would be at the top).
                self._timer = loop.call_at(self._paused_until, self._dispatch)
                return
            heapq.heappop(self._heap)
            waiter.set_result(None)
            self.granted += 1
            # Slots stay on the grid while we keep up (no rate lost to timer lateness); after
            # an idle spell the grid restarts from now (no burst to "catch up").
            behind = now - self._next
            self._next = self._next + self.interval if behind < self.interval else \
                now + self.interval


class ChatPacing:
    """The least interval between messages to one chat, for broadcast copies."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._last: dict[str, float] = {}
        # chat -> (its lock, how many copies hold or wait for it)
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    def sent(self, chat: str) -> None:
        """A message (reply or copy) is going to `chat` now."""
        now = asyncio.get_running_loop().time()
        self._last[chat] = now
        if len(self._last) > 20_000:
            horizon = now - 60.0 / self.limits.group_per_minute - 1.0 / self.limits.chat_rate
            self._last = {c: t for c, t in self._last.items() if t > horizon}

    def wait_for(self, chat: str) -> float:
        """Seconds until the next copy may go to `chat`."""
        last = self._last.get(chat)
        if last is None:
            return 0.0
        due = last + self.limits.chat_interval(chat)
        return max(0.0, due - asyncio.get_running_loop().time())

    @asynccontextmanager
    async def turn(self, chat: str) -> AsyncIterator[None]:
        """One copy at a time per chat (two broadcasts may reach the same person at once)."""
        lock, users = self._locks.get(chat, (asyncio.Lock(), 0))
        self._locks[chat] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[chat]
            if users <= 1:
                del self._locks[chat]
            else:
                self._locks[chat] = (lock, users - 1)


class ReplyBursts:
    """Per chat, a bucket of `reply_burst` reply sends that refills at one per chat interval."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        # chat -> (sends left, loop time they were counted at)
        self._left: dict[str, tuple[float, float]] = {}

    def _now_left(self, chat: str, now: float) -> float:
        burst = float(self.limits.reply_burst)
        left, at = self._left.get(chat, (burst, now))
        return min(burst, left + (now - at) / self.limits.chat_interval(chat))

    def wait_for(self, chat: str) -> float:
        """Seconds until the next reply may go to `chat` (0 while the burst lasts)."""
        now = asyncio.get_running_loop().time()
        left = self._now_left(chat, now)
        return 0.0 if left >= 1.0 else (1.0 - left) * self.limits.chat_interval(chat)

    def take(self, chat: str) -> None:
        """A reply is going to `chat` now."""
        now = asyncio.get_running_loop().time()
        self._left[chat] = (self._now_left(chat, now) - 1.0, now)
        if len(self._left) > 20_000:
            # A chat whose bucket is full again needs no entry.
            self._left = {c: v for c, v in self._left.items()
                          if self._now_left(c, now) < self.limits.reply_burst}


class Pacing:
    """The shared pacer and per-chat spacing every sender of the process uses."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self.pacer = Pacer(self.limits.rate)
        self.chats = ChatPacing(self.limits)
        self.bursts = ReplyBursts(self.limits)

    async def reply(self, chat: str) -> None:
        """A slot for a reply (or an edit) to a user: served before anything else.

        One chat's replies are sent one at a time (its outbox is drained in order), so the
        wait and the take below never interleave for a chat.
        """
        while (delay := self.bursts.wait_for(chat)) > 0:
            await asyncio.sleep(delay)
        self.bursts.take(chat)
        await self.pacer.slot(REPLY)
        self.chats.sent(chat)

    async def progress(self, chat: str) -> None:
        """A slot for a coordinator's progress message."""
        await self.pacer.slot(PROGRESS)
        self.chats.sent(chat)

    async def broadcast(self, chat: str) -> None:
        """A slot for a broadcast copy: after the chat's interval, in the capacity left over.

        Call inside `chats.turn(chat)` so two copies to one chat wait for each other.
        """
        while True:
            delay = self.chats.wait_for(chat)
            if delay > 0:
                await asyncio.sleep(delay)
            await self.pacer.slot(BROADCAST)
            if self.chats.wait_for(chat) <= 0:
                break
            # A reply to this chat went out while we waited for the slot: space again. The
            # slot is spent, which only makes the overall rate a little more conservative.
        self.chats.sent(chat)
