"""Self-test of the fake Telegram Bot API server against a real python-telegram-bot client."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import json
import threading
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import AsyncIterator, Iterator

import pytest
from fake_bot_api import FakeBotAPI
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes
from telegram.request import HTTPXRequest

USER = 4242


@pytest.fixture
def fake() -> Iterator[FakeBotAPI]:
    with FakeBotAPI() as api:
        yield api
        assert api.server_errors == []


@contextlib.asynccontextmanager
async def ptb_bot(
    fake: FakeBotAPI, token: str | None = None, read_timeout: float = 5.0
) -> AsyncIterator[Bot]:
    # Own the request objects so their httpx clients are closed even if getMe fails.
    request = HTTPXRequest(read_timeout=read_timeout, connection_pool_size=8)
    polling = HTTPXRequest(read_timeout=read_timeout)
    bot = Bot(
        token or fake.token,
        base_url=fake.base_url,
        base_file_url=fake.base_file_url,
        request=request,
        get_updates_request=polling,
    )
    try:
        yield bot
    finally:
        await request.shutdown()
        await polling.shutdown()


def keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Yes", callback_data="yes")],
            [InlineKeyboardButton("No", callback_data="no")],
        ]
    )


def test_get_me_returns_bot_identity(fake: FakeBotAPI) -> None:
    async def run() -> None:
        async with ptb_bot(fake) as bot:
            me = await bot.get_me()
            assert (me.id, me.is_bot, me.first_name, me.username) == (
                999,
                True,
                "CCBot",
                "ccbot_test_bot",
            )

    asyncio.run(run())
    assert fake.base_url == f"http://127.0.0.1:{fake.port}/bot"
    assert [c[0] for c in fake.calls] == ["getMe"]


def test_send_message_with_inline_keyboard_is_recorded(fake: FakeBotAPI) -> None:
    async def run() -> None:
        async with ptb_bot(fake) as bot:
            first = await bot.send_message(USER, "Pick one", reply_markup=keyboard())
            second = await bot.send_message(USER, "123")
            assert first.reply_markup == keyboard()
            assert first.from_user is not None and first.from_user.id == 999
            assert second.message_id == first.message_id + 1
            assert second.text == "123"

    asyncio.run(run())
    msgs = fake.messages(USER)
    assert [m["text"] for m in msgs] == ["Pick one", "123"]
    assert fake.buttons(msgs[0]) == [("Yes", "yes"), ("No", "no")]
    assert fake.buttons(fake.last_message(USER)) == []


def test_get_updates_long_poll_returns_text_and_offset_drops_it(fake: FakeBotAPI) -> None:
    async def run() -> None:
        async with ptb_bot(fake) as bot:
            sender = threading.Timer(0.2, fake.send_text, args=(USER, "/start now"))
            sender.start()
            started = time.monotonic()
            updates = await bot.get_updates(timeout=5)
            assert time.monotonic() - started < 2
            assert len(updates) == 1
            message = updates[0].message
            assert message is not None and message.text == "/start now"
            assert message.chat.id == USER and message.chat.type == "private"
            # filters.COMMAND / CommandHandler need the bot_command entity.
            assert message.parse_entities(["bot_command"]) != {}
            assert fake.pending_updates() == 1

            again = await bot.get_updates(offset=updates[0].update_id + 1, timeout=0)
            assert again == ()
            assert fake.pending_updates() == 0
            assert fake.acknowledged_offset == updates[0].update_id + 1

    asyncio.run(run())


def test_non_text_user_messages_parse_in_ptb(fake: FakeBotAPI) -> None:
    fake.send_sticker(USER)
    fake.send_photo(USER, caption="look")
    fake.send_location(USER)
    fake.send_voice(USER)
    fake.send_document(USER, content=b"abc", filename="a.txt")
    fake.send_text(USER, "hello", chat_id=-100, chat_type="supergroup")
    first_id = fake.sent_updates[-1]["message"]["message_id"]
    fake.send_edited_text(USER, first_id, "hello again", chat_id=-100)

    async def run() -> list[Update]:
        async with ptb_bot(fake) as bot:
            return list(await bot.get_updates(timeout=1))

    updates = asyncio.run(run())
    msgs = [u.effective_message for u in updates]
    assert all(m is not None for m in msgs)
    assert msgs[0] is not None and msgs[0].sticker is not None
    assert msgs[1] is not None and msgs[1].photo and msgs[1].caption == "look"
    assert msgs[2] is not None and msgs[2].location is not None
    assert msgs[3] is not None and msgs[3].voice is not None
    assert msgs[4] is not None and msgs[4].document is not None
    assert msgs[5] is not None and msgs[5].chat.type == "supergroup"
    assert updates[6].edited_message is not None
    assert updates[6].edited_message.text == "hello again"


def test_press_button_produces_callback_query_ptb_parses(fake: FakeBotAPI) -> None:
    async def run() -> None:
        async with ptb_bot(fake) as bot:
            sent = await bot.send_message(USER, "Pick one", reply_markup=keyboard())
            fake.press_button(USER, sent.message_id, "yes")
            updates = await bot.get_updates(timeout=1)
            query = updates[0].callback_query
            assert query is not None and query.data == "yes"
            assert query.from_user.id == USER
            assert query.message is not None and query.message.message_id == sent.message_id
            assert await query.answer("Thanks")
            edited = await query.edit_message_text("You said yes")
            assert not isinstance(edited, bool) and edited.reply_markup is None
            with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
                await bot.edit_message_text(
                    "You said yes", chat_id=USER, message_id=sent.message_id
                )
            with pytest.raises(BadRequest, match=r"(?i)query is too old"):
                await bot.answer_callback_query("no-such-query")

    asyncio.run(run())
    assert fake.callback_answers[0]["text"] == "Thanks"
    message = fake.messages(USER)[0]
    assert message["text"] == "You said yes"
    assert message["reply_markup"] is None
    assert [e["text"] for e in message["edits"]] == ["You said yes"]


def test_send_document_and_photo_bytes_recorded(fake: FakeBotAPI) -> None:
    payload = bytes(range(256)) * 4 + b"\r\n--tail\r\n"

    async def run() -> None:
        async with ptb_bot(fake) as bot:
            doc = await bot.send_document(USER, payload, filename="report.bin", caption="Report")
            assert doc.document is not None and doc.document.file_name == "report.bin"
            photo = await bot.send_photo(USER, b"\x89PNG-fake", filename="chart.png", caption="42")
            assert photo.photo and photo.caption == "42"
            downloaded = await (await bot.get_file(doc.document.file_id)).download_as_bytearray()
            assert bytes(downloaded) == payload

    asyncio.run(run())
    (doc,) = fake.documents(USER)
    assert (doc["filename"], doc["content"], doc["caption"]) == ("report.bin", payload, "Report")
    (photo,) = fake.photos(USER)
    assert (photo["filename"], photo["content"], photo["caption"]) == (
        "chart.png",
        b"\x89PNG-fake",
        "42",
    )
    assert [m["method"] for m in fake.messages(USER)] == ["sendDocument", "sendPhoto"]


def test_set_my_commands_recorded_per_scope(fake: FakeBotAPI) -> None:
    async def run() -> None:
        async with ptb_bot(fake) as bot:
            await bot.set_my_commands([BotCommand("start", "Begin")])
            await bot.set_my_commands(
                [BotCommand("help", "Help")], scope=BotCommandScopeAllPrivateChats()
            )
            await bot.delete_my_commands()
            assert await bot.send_chat_action(USER, "typing")

    asyncio.run(run())
    assert fake.commands_for() is None
    assert fake.commands_for({"type": "all_private_chats"}) == [
        {"command": "help", "description": "Help"}
    ]


# PTB itself reads the deprecated int form of retry_after while building the exception.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
def test_injected_429_raises_retry_after(fake: FakeBotAPI) -> None:
    fake.fail_next("sendMessage", "429", retry_after=1)

    async def run() -> None:
        async with ptb_bot(fake) as bot:
            with pytest.raises(RetryAfter) as caught:
                await bot.send_message(USER, "hi")
            with warnings.catch_warnings():
                # PTB 22 warns that retry_after will become a timedelta; accept either form.
                warnings.simplefilter("ignore")
                retry_after = caught.value.retry_after
            if isinstance(retry_after, dtm.timedelta):
                assert retry_after.total_seconds() == 1
            else:
                assert retry_after == 1
            await bot.send_message(USER, "hi")

    asyncio.run(run())
    assert fake.texts(USER) == ["hi"]


def test_injected_5xx_raises_network_error_and_records_nothing(fake: FakeBotAPI) -> None:
    fake.fail_next("*", "500")
    fake.fail_next("sendMessage", "502")

    async def run() -> None:
        async with ptb_bot(fake) as bot:
            for _ in range(2):
                with pytest.raises(NetworkError) as caught:
                    await bot.send_message(USER, "hi")
                assert not isinstance(caught.value, BadRequest)
            assert fake.messages(USER) == []
            await bot.send_message(USER, "hi")

    asyncio.run(run())
    assert fake.texts(USER) == ["hi"]
    assert len(fake.calls_to("sendMessage")) == 3


def test_fault_with_chat_id_only_matches_that_chat(fake: FakeBotAPI) -> None:
    fake.fail_next("sendMessage", "500", chat_id=2)

    async def run() -> None:
        async with ptb_bot(fake) as bot:
            await bot.send_message(1, "one")
            with pytest.raises(NetworkError):
                await bot.send_message(2, "two")
            await bot.send_message(2, "two")

    asyncio.run(run())
    assert fake.texts(1) == ["one"]
    assert fake.texts(2) == ["two"]


def test_injected_403_and_block_raise_forbidden(fake: FakeBotAPI) -> None:
    fake.fail_next("sendMessage", "403")

    async def run() -> None:
        async with ptb_bot(fake) as bot:
            with pytest.raises(Forbidden, match="blocked"):
                await bot.send_message(USER, "hi")
            fake.block(USER)
            for _ in range(2):
                with pytest.raises(Forbidden, match="blocked"):
                    await bot.send_message(USER, "hi")
            fake.unblock(USER)
            await bot.send_message(USER, "hi")

    asyncio.run(run())
    assert fake.texts(USER) == ["hi"]


def test_injected_timeout_raises_timed_out(fake: FakeBotAPI) -> None:
    fake.timeout_delay = 2.0
    fake.fail_next("sendMessage", "timeout")

    async def run() -> None:
        async with ptb_bot(fake, read_timeout=0.5) as bot:
            started = time.monotonic()
            with pytest.raises(TimedOut):
                await bot.send_message(USER, "hi")
            assert time.monotonic() - started < 1.5
            await bot.send_message(USER, "hi")

    asyncio.run(run())
    assert fake.texts(USER) == ["hi"]


def test_wrong_token_raises_invalid_token(fake: FakeBotAPI) -> None:
    async def run() -> None:
        async with ptb_bot(fake, token="654321:WRONG-token") as bot:
            with pytest.raises(InvalidToken):
                await bot.get_me()

    asyncio.run(run())
    assert fake.calls == []


def test_raw_http_errors_use_bot_api_json(fake: FakeBotAPI) -> None:
    def fetch(url: str) -> tuple[int, dict[str, object]]:
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read())

    assert fetch(f"{fake.base_url}{fake.token}/noSuchMethod") == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found: method not found"},
    )
    assert fetch(f"{fake.base_url}999:nope/getMe") == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )


def test_stop_wakes_pending_long_poll_quickly() -> None:
    fake = FakeBotAPI().start()
    finished = threading.Event()

    def long_poll() -> None:
        url = f"{fake.base_url}{fake.token}/getUpdates?timeout=30"
        with contextlib.suppress(OSError):
            urllib.request.urlopen(url, timeout=10).read()
        finished.set()

    poller = threading.Thread(target=long_poll)
    poller.start()
    assert fake.wait_for(lambda: len(fake.calls) == 1, timeout=2)
    started = time.monotonic()
    fake.stop()
    assert finished.wait(2)
    poller.join()
    assert time.monotonic() - started < 1.0


def test_application_polling_round_trip(fake: FakeBotAPI) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text("Pick one", reply_markup=keyboard())

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()
        await query.edit_message_text(f"You said {query.data}")

    async def run() -> None:
        app = (
            Application.builder()
            .token(fake.token)
            .base_url(fake.base_url)
            .base_file_url(fake.base_file_url)
            .build()
        )
        app.add_handler(CommandHandler("start", start))
        app.add_handler(CallbackQueryHandler(pressed))
        async with app:
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling(timeout=dtm.timedelta(seconds=1))
            fake.send_text(USER, "/start")
            assert await fake.wait_for_async(lambda: len(fake.messages(USER)) == 1, 5)
            message = fake.last_message(USER)
            assert message is not None
            fake.press_button(USER, message["message_id"], "no")
            assert await fake.wait_for_async(lambda: fake.texts(USER) == ["You said no"], 5)
            await app.updater.stop()
            await app.stop()

    asyncio.run(run())
    assert len(fake.callback_answers) == 1
    assert fake.pending_updates() == 0
