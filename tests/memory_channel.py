"""The Telegram channel built on the in-memory twins of every delivery port (tests only)."""

from __future__ import annotations

from telegram import Bot

from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.sender import RetryPolicy
from bot.engine.core.records import Commit
from bot.engine.engine import Engine
from bot.engine.memory.blocked_chats import MemoryBlockedChats
from bot.engine.memory.inbox import MemoryInbox
from bot.engine.memory.reply_outbox import MemoryReplyOutbox
from bot.engine.memory.store import MemoryStore


def memory_channel(bot: Bot, engine: Engine, store: MemoryStore, username: str,
                   retry: RetryPolicy | None = None) -> TelegramChannel:
    """As sqlite_channel, on twins: each commit marks its update handled and queues replies."""
    outbox = MemoryReplyOutbox()
    inbox = MemoryInbox(outbox)

    def queue(change: Commit) -> None:
        item = inbox.items.pop(change.update_id, None) if change.update_id is not None else None
        if change.update_id is not None:
            inbox.handled.add(change.update_id)
        if change.forget:
            outbox.forget(str(change.user))
        if change.replies:
            outbox.queue(change.user, item.chat if item else change.user.id, change.update_id,
                         change.replies)

    store.turn_queue = queue
    return TelegramChannel(bot, engine, inbox, outbox, MemoryBlockedChats(), username, 4, retry)
