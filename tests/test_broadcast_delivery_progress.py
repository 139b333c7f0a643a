"""The broadcast sender in-process: a progress message that can no longer be edited (deleted
by the coordinator, or too old) is replaced by a new one, whose id is stored."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from broadcast_seed import Seeded
from fake_bot_api import FakeBotAPI

from bot.channels.telegram.app import connect, make_bot
from bot.channels.telegram.broadcaster import BroadcastSender
from bot.channels.telegram.config import TelegramConfig
from bot.channels.telegram.pacing import Limits, Pacing
from bot.channels.telegram.sqlite_channel import sqlite_channel
from bot.definitions.model import Content
from bot.engine.engine import Engine
from bot.storage.sqlite_store import SQLiteStore
from bot.wiring import engine_parts

pytestmark = pytest.mark.slow  # the broadcast sender end to end against the fake Bot API

COORDINATOR = 42
PEOPLE = [850_000_000 + i for i in range(5)]


async def send_all(fake: FakeBotAPI, db: Path, content: Content, bid: int) -> int | None:
    store = SQLiteStore(db)
    parts = engine_parts(store)
    engine = Engine(content, store, features=parts.features, roles=parts.roles)
    config = TelegramConfig(fake.token, fake.base_url, 4, 2.0, poll_timeout=1)
    bot = make_bot(config)
    await connect(bot, config)
    pacing = Pacing(Limits(rate=None))
    channel = sqlite_channel(bot, engine, store, bot.username, 4, pacing=pacing)
    sender = BroadcastSender(channel, parts.directory, pacing, progress_every=0.2)
    try:
        sender.recover()
        running = asyncio.create_task(sender.run())
        assert await fake.wait_for_async(
            lambda: any("Delivered: 5 of 5" in (m["text"] or "")
                        for m in fake.messages(COORDINATOR)), 10)
        await sender.close(1.0)
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await channel.queues.close(1.0)
        found = parts.directory.broadcast(bid)
        return found.progress_message_id if found else None
    finally:
        await bot.shutdown()
        store.close()


def test_a_progress_message_that_cannot_be_edited_is_sent_again(
        bot_api: FakeBotAPI, tmp_path: Path, content: Content,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CCBOT_ADMINS", raising=False)
    db = tmp_path / "bot.db"
    seed = Seeded(db)
    seed.users([*PEOPLE, COORDINATOR])
    seed.grant(COORDINATOR)
    seed.team("five", PEOPLE)
    bid = seed.broadcast("five", "Hello five", by=COORDINATOR)
    seed.directory.set_progress_message(bid, 999)  # deleted since, say
    seed.close()
    stored = asyncio.run(send_all(bot_api, db, content, bid))
    (message,) = bot_api.messages(COORDINATOR)
    assert stored == message["message_id"] != 999
    assert all(len(bot_api.messages(p)) == 1 for p in PEOPLE)

