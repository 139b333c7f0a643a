"""Handles the inbox: each update through the engine, then its replies out of the outbox."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from telegram import Bot

from bot.channels.telegram.chat_queues import ChatQueues
from bot.channels.telegram.commands import ERROR_SAVED, MOVED_ON
from bot.channels.telegram.pacing import Pacing
from bot.channels.telegram.sender import RetryPolicy, Sender
from bot.channels.telegram.translate import Incoming, answered, inbox_items, read_update
from bot.engine.core.events import Event, Reply, Response, UserKey
from bot.engine.engine import Engine
from bot.engine.ports.blocked_chats import BlockedChats
from bot.engine.ports.inbox import Inbox, InboxItem
from bot.engine.ports.reply_outbox import ReplyOutbox
from bot.engine.ports.store import StoreError, StoreUnavailable

log = logging.getLogger(__name__)

# While the database cannot be written, a turn is tried again after 1, 2, 4 ... 30 s.
STORE_RETRY_FIRST = 1.0
STORE_RETRY_MAX = 30.0

# Work run in a chat's order, after what is queued for it (e.g. a broadcast's progress message,
# so it follows the coordinator's "sending" reply).
ChatJob = Callable[[], Awaitable[None]]
# Called with the user after each handled turn (role menus, waking the broadcast sender).
TurnHook = Callable[[UserKey], None]


class TelegramChannel:
    """Stores what arrives, then handles it: chats concurrently, each chat in order."""

    def __init__(self, bot: Bot, engine: Engine, inbox: Inbox, outbox: ReplyOutbox,
                 blocked: BlockedChats, username: str, concurrency: int = 16,
                 retry: RetryPolicy | None = None, pacing: Pacing | None = None) -> None:
        # The engine's commits must queue each turn's replies in `outbox`, in the turn's own
        # transaction; on SQLite sqlite_channel.py arranges that.
        self.engine = engine
        self.username = username
        self.inbox = inbox
        self.blocked = blocked
        self.sender = Sender(bot, outbox, blocked, retry, pacing)
        # None as an item means "only send what waits in the outbox".
        self.queues: ChatQueues[InboxItem | ChatJob | None] = ChatQueues(
            self.process, concurrency)
        self.turn_hooks: list[TurnHook] = []

    def resume(self) -> int:
        """Queue what an earlier run left: unsent replies first, then unhandled updates."""
        for chat in self.sender.outbox.chats_waiting():
            self.queues.submit(chat, None)
        pending = self.inbox.pending()
        for item in pending:
            self.queues.submit(item.chat, item)
        return len(pending)

    def receive(self, updates: Iterable[Mapping[str, Any]]) -> int:
        """Store updates durably (before they are acknowledged), then queue them."""
        new = self.inbox.add(inbox_items(updates))
        for item in new:
            self.queues.submit(item.chat, item)
        return len(new)

    async def process(self, chat: str, item: InboxItem | ChatJob | None) -> None:
        """Handle one update of `chat` (if any), then deliver the chat's outbox."""
        if item is not None and not isinstance(item, InboxItem):
            await item()
            return
        answering = await self.handle(item) if item is not None else None
        try:
            await self.sender.drain(chat)
        finally:
            if answering is not None:
                await answering

    async def handle(self, item: InboxItem) -> asyncio.Task[None] | None:
        """Run one update through the engine and mark a tapped question as answered.

        The answer to a button press is not a chat message, so it runs beside the chat's
        messages (one round trip less before the reply); the returned task is awaited after.
        """
        try:
            incoming = read_update(item.update, self.username)
        except Exception:  # whatever its shape, one odd update must not block the chat
            log.warning("update %s is not a Telegram update we can read; skipped",
                        item.update_id, exc_info=True)
            incoming = Incoming(item.chat, ignored="unreadable")
        event = incoming.event
        if event is None:
            log.debug("update %s ignored: %s", item.update_id, incoming.ignored)
            self.inbox.done(item)
            return self.answer(incoming.callback_id, None)
        if self.blocked.is_blocked(item.chat):
            # Only a private chat's writer is the user who had blocked us.
            self.blocked.unblock(item.chat, str(event.user) if event.user.id == item.chat
                                 else None)
        response = await self.respond(item, event)
        for hook in self.turn_hooks:
            try:
                hook(event.user)
            except Exception:  # a menu refresh must never cost the user their reply
                log.exception("after the turn of %s", event.user)
        note = self.text(MOVED_ON, event) if response.stale_choice else None
        answering = self.answer(incoming.callback_id, note)
        if response.chosen and incoming.message_id and incoming.message_text:
            await self.sender.edit(item.chat, incoming.message_id,
                                   answered(incoming.message_text, response.chosen),
                                   str(event.user))
        return answering

    def answer(self, callback_id: str | None, note: str | None) -> asyncio.Task[None] | None:
        """Start answering a button press (stops its spinner), if the update was one."""
        if not callback_id:
            return None
        return asyncio.create_task(self.sender.answer_callback(callback_id, note))

    async def respond(self, item: InboxItem, event: Event) -> Response:
        """The engine's response; on any error the user is told their progress is saved.

        While the database cannot be written (locked by another process, disk full) nothing
        of the turn is kept: the update stays in the inbox and the turn is tried again, with
        the chat's later updates waiting behind it in order. A stop leaves it for the next start.
        """
        delay = STORE_RETRY_FIRST
        while True:
            try:
                response = self.engine.handle(event)
                break
            except StoreUnavailable as exc:
                log.error("update %s stays in the inbox, tried again in %.0f s: %s",
                          item.update_id, delay, exc)
                await asyncio.sleep(delay)
                delay = min(STORE_RETRY_MAX, delay * 2)
            except Exception:
                log.exception("error handling update %s from user %s", item.update_id,
                              event.user)
                sorry = Reply(self.text(ERROR_SAVED, event))
                try:
                    # Marked done so a poisonous update is not retried forever.
                    self.inbox.done(item, event.user, (sorry,))
                except StoreError as exc:
                    log.error("update %s stays in the inbox for the next start: %s",
                              item.update_id, exc)
                return Response()
        if response.duplicate:
            self.inbox.done(item)
        return response

    def text(self, message_id: str, event: Event) -> str:
        """A channel message in the event's language."""
        return self.engine.content.text(message_id, self.engine.pick_locale(event.locale))
