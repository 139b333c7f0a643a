"""Delivers broadcasts from the durable `broadcast_outbox` (docs/BROADCASTS.md, DESIGN.md §4
rule 6): paced, retried, every recipient's outcome recorded, nothing confirmed sent sent again.

The loop claims due copies (`claim_due`, one per chat per batch) only while fewer than
`concurrency` are in flight, so a kill -9 leaves at most that many rows 'sending'. Each copy:

- is rendered in the recipient's language (`render_broadcast`, escaped HTML, its buttons);
- waits for its chat's interval and a broadcast slot of the shared pacer (replies go first);
- on success is marked sent with Telegram's message id, in its own transaction;
- on 429 pauses every broadcast copy for `retry_after` and goes back to pending for then;
- on 5xx, timeouts and connection errors goes back to pending with exponential backoff, and
  is marked failed (with the reason) after `policy.tries` attempts;
- on 403 is marked blocked, and so is its user (skipped from then on, until they write again);
- on any other refusal (400: chat not found, ...) is marked failed with Telegram's reason.

At start-up `recover()` puts back the rows a crash left 'sending' (counted in the broadcast's
`in_flight_at_restart`, which the report states) before anything is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from telegram.error import TelegramError

from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.outcomes import Kind, outcome_of
from bot.channels.telegram.pacing import Pacing
from bot.channels.telegram.progress import ProgressMessages
from bot.channels.telegram.sender import RetryPolicy, send_part
from bot.channels.telegram.translate import CHANNEL, render
from bot.engine.core.events import Reply
from bot.engine.features.broadcasts.views import render_broadcast
from bot.engine.ports.broadcasts import Broadcast, Delivery
from bot.engine.ports.store import StoreError
from bot.storage.directory_store import SQLiteDirectory

log = logging.getLogger(__name__)

# When nothing is due, look again this often (a new broadcast also wakes the loop at once).
POLL = 1.0


class BroadcastSender:
    """Drains the broadcast outbox through the shared pacer."""

    def __init__(self, channel: TelegramChannel, directory: SQLiteDirectory, pacing: Pacing,
                 concurrency: int = 8, policy: RetryPolicy | None = None,
                 progress_every: float = 2.0, clock: Callable[[], float] = time.time) -> None:
        self.channel = channel
        self.bot = channel.sender.bot
        self.engine = channel.engine
        self.directory = directory
        self.pacing = pacing
        self.concurrency = max(1, concurrency)
        self.policy = policy or RetryPolicy()
        self.clock = clock
        self.progress = ProgressMessages(channel, directory, pacing, progress_every)
        self.sent = 0
        self._broadcasts: dict[int, Broadcast] = {}
        self._active: set[asyncio.Task[None]] = set()
        # Copies whose Bot API call has started: these are the ones a stop waits for.
        self._calling: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self.stopping = False

    # ------------------------------------------------------------------ start and stop
    def recover(self) -> dict[int, int]:
        """Call once at start-up, before sending: rows a crash left in flight go back.

        Returns {broadcast id: copies that were in flight at the kill}; each of those people
        may get the message twice, which the report says.
        """
        found = self.directory.recover_in_flight(self.clock())
        for bid, count in sorted(found.items()):
            log.warning("broadcast #%s: %d message(s) were in flight when the bot stopped; "
                        "they are sent again, so those people may get it twice", bid, count)
        unfinished = self.directory.unfinished()
        for broadcast in unfinished:
            self.progress.track(broadcast)
        if unfinished:
            log.info("resuming %d unfinished broadcast(s): %s", len(unfinished),
                     ", ".join(f"#{b.id}" for b in unfinished))
        return found

    def wake(self) -> None:
        """Look for due copies now (a broadcast was just created)."""
        self._wake.set()

    async def run(self) -> None:
        """Claim and send due copies until cancelled."""
        progress = asyncio.create_task(self.progress.run(), name="broadcast progress")
        try:
            while not self.stopping:
                free = self.concurrency - len(self._active)
                if free <= 0:
                    self._room.clear()
                    await self._room.wait()
                    continue
                paused = self.pacing.pacer.paused()
                if paused > 0:
                    # Claimed rows would only sit 'sending'; claim once the pause is over.
                    await asyncio.sleep(min(paused, POLL))
                    continue
                try:
                    due = self.directory.claim_due(CHANNEL, self.clock(), free)
                except StoreError as exc:
                    log.error("could not read the broadcast outbox: %s", exc)
                    await asyncio.sleep(POLL)
                    continue
                for delivery in due:
                    task = asyncio.create_task(self.deliver(delivery),
                                               name=f"broadcast copy {delivery.id}")
                    self._active.add(task)
                    task.add_done_callback(self._settled)
                if due:
                    await asyncio.sleep(0)
                    continue
                self._wake.clear()
                with contextlib.suppress(asyncio.TimeoutError):  # not TimeoutError before 3.11
                    await asyncio.wait_for(self._wake.wait(), POLL)
        finally:
            progress.cancel()
            await asyncio.gather(progress, return_exceptions=True)

    def _settled(self, task: asyncio.Task[None]) -> None:
        self._active.discard(task)
        self._calling.discard(task)
        self._room.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("broadcast copy failed unexpectedly", exc_info=task.exception())

    async def close(self, grace: float) -> None:
        """Stop claiming; copies not yet sent go back to pending, calls in progress get
        `grace` seconds (a copy cut off in its call is counted as in flight at the next start).
        """
        self.stopping = True
        self._wake.set()
        self._room.set()
        for task in list(self._active - self._calling):
            task.cancel()
        if self._active:
            _, late = await asyncio.wait(list(self._active), timeout=grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    # ------------------------------------------------------------------ one copy
    def broadcast(self, broadcast_id: int) -> Broadcast | None:
        """The broadcast (cached: what is sent never changes)."""
        found = self._broadcasts.get(broadcast_id)
        if found is None:
            found = self.directory.broadcast(broadcast_id)
            if found is not None:
                if len(self._broadcasts) > 256:
                    self._broadcasts.clear()
                self._broadcasts[broadcast_id] = found
        return found

    async def deliver(self, copy: Delivery) -> None:
        """Send one claimed copy and record its outcome."""
        task = asyncio.current_task()
        assert task is not None
        try:
            broadcast = self.broadcast(copy.broadcast_id)
            if broadcast is None:
                self.directory.mark_failed(copy.id, "the broadcast was deleted", self.clock())
                return
            self.progress.track(broadcast)
            locale = self.engine.pick_locale(copy.locale)
            text, choices = render_broadcast(self.engine.content, broadcast, locale)
            try:
                parts = render(Reply(text, choices))
            except ValueError as exc:
                self.directory.mark_failed(copy.id, str(exc), self.clock())
                return
            message_id: int | None = None
            async with self.pacing.chats.turn(copy.chat_id):
                for part in parts:
                    await self.pacing.broadcast(copy.chat_id)
                    self._calling.add(task)
                    try:
                        message_id = await send_part(self.bot, copy.chat_id, part)
                    except TelegramError as exc:
                        self.failed(copy, exc)
                        return
            self.directory.mark_sent(copy.id, message_id, self.clock())
            self.sent += 1
        except asyncio.CancelledError:
            if task not in self._calling:
                # Stopped before its call started: certainly not sent, so no "in flight".
                self.directory.mark_retry(copy.id, "not sent yet when the bot stopped",
                                          self.clock())
            raise
        except StoreError as exc:
            # Left 'sending': the next start counts it as in flight and sends it again.
            log.error("could not record broadcast copy %s: %s", copy.id, exc)
        except Exception as exc:
            # A bug, not Telegram: record it, so the broadcast still ends and /report says why.
            log.exception("broadcast copy %s", copy.id)
            with contextlib.suppress(StoreError):  # then it is in flight at the next start
                self.directory.mark_failed(copy.id, f"internal error: {exc}"[:300],
                                           self.clock())

    def failed(self, copy: Delivery, error: TelegramError) -> None:
        """Record why Telegram did not take a copy, and what happens next."""
        now = self.clock()
        what = f"broadcast #{copy.broadcast_id} to chat {copy.chat_id}"
        outcome = outcome_of(error)
        reason = outcome.reason
        if outcome.kind is Kind.RETRY_AFTER:
            wait = outcome.retry_after
            # Too fast for Telegram overall: every copy waits; replies to users go on.
            self.pacing.pacer.pause_broadcasts(wait)
            log.info("%s: flood control; broadcasts pause %.1f s", what, wait)
            self.directory.mark_retry(copy.id, f"Too Many Requests: retry after {wait:g}",
                                      now + wait)
        elif outcome.kind is Kind.BLOCKED:
            log.info("%s: %s; marked blocked", what, reason)
            # The directory marks the user blocked in the copy's own transaction.
            self.directory.mark_blocked(copy.id, reason, now)
            if not copy.chat_id.startswith("-"):
                # A private chat is its user: their replies are held too, until they write.
                self.channel.blocked.block(copy.chat_id, None)
        elif outcome.kind is Kind.BOT_REFUSED:
            # Not the recipient's fault: the bot stops on this (the poller reports it).
            self.directory.mark_retry(copy.id, reason, now + 30.0)
        elif outcome.kind is Kind.TRANSIENT:  # 5xx, timeouts, connection errors
            if copy.attempts >= self.policy.tries:
                reason = f"{reason} (gave up after {copy.attempts} tries)"
                log.warning("%s: %s", what, reason)
                self.directory.mark_failed(copy.id, reason, now)
            else:
                delay = self.policy.delay(copy.attempts)
                log.info("%s: %s; try %d in %.1f s", what, reason, copy.attempts + 1, delay)
                self.directory.mark_retry(copy.id, reason, now + delay)
        else:  # a refusal (400: chat not found, ...); "not modified" cannot answer a send
            log.warning("%s refused: %s", what, reason)
            self.directory.mark_failed(copy.id, reason, now)
