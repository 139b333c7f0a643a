"""The reply sender on the ports: the in-memory twins, and an old database's outbox."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, cast

from sqlite_utils import Database
from telegram import Bot
from telegram.error import Forbidden, TelegramError

from bot.channels.telegram.sender import Sender
from bot.engine.core.events import Reply, UserKey
from bot.engine.memory.blocked_chats import MemoryBlockedChats
from bot.engine.memory.reply_outbox import MemoryReplyOutbox
from bot.storage.blocked_chats import SQLiteBlockedChats
from bot.storage.reply_outbox import SQLiteReplyOutbox
from bot.storage.schema import migrations
from bot.storage.sqlite_store import SQLiteStore

ALICE = UserKey("telegram", "42")


class RecordingBot:
    """Takes sendMessage calls (as PTB's request path), or refuses them with `refuse`."""

    def __init__(self, refuse: TelegramError | None = None) -> None:
        self.refuse = refuse
        self.sent: list[tuple[int | str, str]] = []

    async def _post(self, method: str, params: dict[str, Any]) -> object:
        """What sender.unparsed calls: PTB's one request path."""
        assert method == "sendMessage"
        if self.refuse is not None:
            raise self.refuse
        self.sent.append((params["chat_id"], params["text"]))
        return {"message_id": len(self.sent)}


def sender(bot: RecordingBot, outbox: MemoryReplyOutbox | SQLiteReplyOutbox,
           blocked: MemoryBlockedChats | SQLiteBlockedChats) -> Sender:
    return Sender(cast(Bot, bot), outbox, blocked)


def test_queued_replies_are_sent_in_order_and_dropped() -> None:
    outbox, bot = MemoryReplyOutbox(), RecordingBot()
    outbox.queue(ALICE, "42", 1, (Reply("one"), Reply("two")))
    asyncio.run(sender(bot, outbox, MemoryBlockedChats()).drain("42"))
    assert bot.sent == [(42, "one"), (42, "two")]
    assert outbox.pending("42") == []


def test_a_403_blocks_the_private_chat_with_its_user_and_holds_its_replies() -> None:
    outbox, blocked = MemoryReplyOutbox(), MemoryBlockedChats()
    outbox.queue(ALICE, "42", 1, (Reply("one"), Reply("two")))
    bot = RecordingBot(Forbidden("Forbidden: bot was blocked by the user"))
    asyncio.run(sender(bot, outbox, blocked).drain("42"))
    assert blocked.chats() == ["42"] and blocked.users == {"telegram:42"}
    assert outbox.pending("42") == []
    assert {r.status for r in outbox.rows} == {"blocked"}


def test_a_blocked_chats_replies_are_held_without_a_call() -> None:
    outbox, blocked, bot = MemoryReplyOutbox(), MemoryBlockedChats(), RecordingBot()
    blocked.block("42", "telegram:42")
    outbox.queue(ALICE, "42", 1, (Reply("one"),))
    asyncio.run(sender(bot, outbox, blocked).drain("42"))
    assert bot.sent == []
    assert outbox.pending("42") == []


def test_an_old_database_opens_and_its_pending_replies_are_still_sent(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = Database(path)
    migrations.apply(old, stop_before="m003_reply_outbox")  # the schema before the rename
    old.execute("INSERT INTO outbox (channel, chat_id, user_key, text, created_at) VALUES"
                " ('telegram', '42', 'telegram:42', 'left from before', 0)")
    old.conn.commit()
    old.close()
    store = SQLiteStore(path)
    outbox, bot = SQLiteReplyOutbox(store, "telegram"), RecordingBot()
    assert outbox.chats_waiting() == ["42"]
    asyncio.run(sender(bot, outbox, SQLiteBlockedChats(store, "telegram")).drain("42"))
    assert bot.sent == [(42, "left from before")]
    assert store.query("SELECT COUNT(*) FROM reply_outbox")[0][0] == 0
    store.close()
