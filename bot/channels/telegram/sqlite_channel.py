"""Builds the Telegram channel on one SQLite store: its inbox, reply outbox and blocked chats."""

from __future__ import annotations

from telegram import Bot

from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.pacing import Pacing
from bot.channels.telegram.sender import RetryPolicy
from bot.channels.telegram.translate import CHANNEL
from bot.engine.engine import Engine
from bot.storage.blocked_chats import SQLiteBlockedChats
from bot.storage.inbox import SQLiteInbox
from bot.storage.reply_outbox import SQLiteReplyOutbox, queue_each_turn
from bot.storage.sqlite_store import SQLiteStore


def sqlite_channel(bot: Bot, engine: Engine, store: SQLiteStore, username: str,
                   concurrency: int = 16, retry: RetryPolicy | None = None,
                   pacing: Pacing | None = None) -> TelegramChannel:
    """The Telegram channel on `store`, whose commits from now on queue their replies."""
    queue_each_turn(store)
    return TelegramChannel(bot, engine, SQLiteInbox(store, CHANNEL),
                           SQLiteReplyOutbox(store, CHANNEL), SQLiteBlockedChats(store, CHANNEL),
                           username, concurrency, retry, pacing)
