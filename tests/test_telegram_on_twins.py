"""The Telegram channel runs on the in-memory twins of its ports, against the fake Bot API."""

from __future__ import annotations

import asyncio

import pytest
from fake_bot_api import FakeBotAPI
from memory_channel import memory_channel

from bot.channels.telegram.app import connect, make_bot
from bot.channels.telegram.config import TelegramConfig
from bot.channels.telegram.poller import poll
from bot.channels.telegram.sender import RetryPolicy
from bot.definitions.model import Content
from bot.engine.core.events import UserKey
from bot.engine.engine import Engine
from bot.engine.memory.store import MemoryStore

pytestmark = pytest.mark.slow  # the Telegram channel end to end against the fake Bot API

USER = 503_456_789


def test_onboarding_and_an_answer_on_the_twins(bot_api: FakeBotAPI, content: Content) -> None:
    async def main() -> None:
        store = MemoryStore()
        engine = Engine(content, store)
        config = TelegramConfig(bot_api.token, bot_api.base_url, 4, 2.0, poll_timeout=1)
        bot = make_bot(config)
        username = await connect(bot, config)
        channel = memory_channel(bot, engine, store, username,
                                 RetryPolicy(tries=3, base_delay=0.05))
        polling = asyncio.create_task(poll(bot, channel, 1, 2.0))

        async def settle(update_id: int) -> None:
            assert await bot_api.wait_for_async(lambda: store.seen("telegram", update_id), 30)
            await asyncio.wait_for(channel.queues.join(), 30)

        def tap(label: str) -> int:
            for message in reversed(bot_api.messages(USER)):
                for text, data in FakeBotAPI.buttons(message):
                    if text == label and data is not None:
                        return bot_api.press_button(USER, message["message_id"], data)
            raise AssertionError(f"no button {label!r}")

        try:
            await settle(bot_api.send_text(USER, "/start"))
            await settle(tap("Yes, I agree"))
            await settle(tap("Frontline staff"))
            await settle(bot_api.send_text(USER, "2"))
            said = [m["text"] or "" for m in bot_api.messages(USER)]
            assert any("step 1 of 12" in text for text in said)
            assert "step 2 of 12" in said[-1]  # every reply went out
            assert "Type a note if you like" in said[-2]
            record = store.load_user(UserKey("telegram", str(USER)))
            assert record is not None and record.persona == "frontline"
            assert channel.inbox.pending() == []
        finally:
            polling.cancel()
            await asyncio.gather(polling, return_exceptions=True)
            await channel.queues.close(2.0)
            await bot.shutdown()

    asyncio.run(main())
