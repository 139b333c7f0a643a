"""The Telegram channel in-process against the fake Bot API: buttons, hints, groups, failures."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fake_bot_api import FakeBotAPI

from bot.channels.telegram.app import connect, make_bot
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.config import TelegramConfig, WebhookConfig
from bot.channels.telegram.menus import publish_defaults
from bot.channels.telegram.poller import poll
from bot.channels.telegram.sender import RetryPolicy
from bot.channels.telegram.sqlite_channel import sqlite_channel
from bot.channels.telegram.translate import inbox_items
from bot.channels.telegram.webhook import SECRET_HEADER, listening
from bot.definitions.model import Content
from bot.engine.core.events import Event, Response
from bot.engine.engine import Engine
from bot.storage.inbox import SQLiteInbox
from bot.storage.sqlite_store import SQLiteStore

pytestmark = pytest.mark.slow  # the Telegram channel end to end against the fake Bot API

USER = 501_234_567
OTHER = 502_345_678
GROUP = -1_001_234_567
FAST_RETRY = RetryPolicy(tries=3, base_delay=0.05)


@dataclass
class Bot:
    """The channel running in this event loop, polling the fake."""

    fake: FakeBotAPI
    store: SQLiteStore
    channel: TelegramChannel
    engine: Engine

    def handled(self, update_id: int) -> bool:
        return self.store.seen("telegram", update_id)

    async def settle(self, *update_ids: int, timeout: float = 60.0) -> None:
        """Wait until the updates are handled and every reply is sent."""
        ok = await self.fake.wait_for_async(
            lambda: all(self.handled(u) for u in update_ids), timeout)
        assert ok, f"updates {update_ids} not handled within {timeout} s"
        await asyncio.wait_for(self.channel.queues.join(), timeout)

    def rows(self, table: str) -> list[dict[str, Any]]:
        return [dict(r) for r in self.store.query(f"SELECT * FROM {table}")]

    def tap(self, user: int, label: str, chat: int | None = None) -> int:
        """Press the newest button with this label in the chat."""
        for message in reversed(self.fake.messages(chat or user)):
            for text, data in FakeBotAPI.buttons(message):
                if text == label and data is not None:
                    return self.fake.press_button(user, message["message_id"], data, chat)
        raise AssertionError(f"no button {label!r} in chat {chat or user}")

    async def say(self, user: int, text: str) -> None:
        await self.settle(self.fake.send_text(user, text))

    async def press(self, user: int, label: str) -> None:
        await self.settle(self.tap(user, label))

    async def onboard(self, user: int) -> None:
        await self.say(user, "/start")
        await self.press(user, "Yes, I agree")
        await self.press(user, "Frontline staff")


@contextlib.asynccontextmanager
async def running(fake: FakeBotAPI, db: Path, content: Content, concurrency: int = 4,
                  read_timeout: float = 2.0, retry: RetryPolicy = FAST_RETRY
                  ) -> AsyncIterator[Bot]:
    store = SQLiteStore(db)
    engine = Engine(content, store)
    config = TelegramConfig(fake.token, fake.base_url, concurrency, read_timeout, poll_timeout=1)
    bot = make_bot(config)
    username = await connect(bot, config)
    channel = sqlite_channel(bot, engine, store, username, concurrency, retry)
    await publish_defaults(bot, engine)
    channel.resume()
    polling = asyncio.create_task(poll(bot, channel, 1, read_timeout))
    try:
        yield Bot(fake, store, channel, engine)
    finally:
        polling.cancel()
        await asyncio.gather(polling, return_exceptions=True)
        await channel.queues.close(2.0)
        await bot.shutdown()
        store.close()


def scenario(fake: FakeBotAPI, tmp_path: Path, content: Content,
             story: Callable[[Bot], Awaitable[None]], **options: Any) -> None:
    async def main() -> None:
        async with running(fake, tmp_path / "bot.db", content, **options) as bot:
            await story(bot)

    asyncio.run(main())


def texts(fake: FakeBotAPI, chat: int) -> list[str]:
    return [m["text"] or m["caption"] or "" for m in fake.messages(chat)]


def state_of(bot: Bot, user: int) -> tuple[Any, ...]:
    """Everything a button could change, without the 'last seen' times that every event moves."""
    key = f"telegram:{user}"
    users = bot.store.query("SELECT locale, consent, persona, active, turn, awaiting FROM users"
                            " WHERE key = ?", (key,))
    states = bot.store.query("SELECT dialogue, state, cycle, pass_start, pending_level FROM"
                             " dialogue_states WHERE user_key = ? ORDER BY dialogue", (key,))
    answers = bot.store.query("SELECT * FROM answers WHERE user_key = ? ORDER BY id", (key,))
    return tuple(tuple(map(tuple, rows)) for rows in (users, states, answers))


# ---------------------------------------------------------------------- buttons and text
def test_tap_answers_the_query_marks_the_question_and_sends_the_next(
        bot_api: FakeBotAPI, tmp_path: Path, content: Content) -> None:
    async def story(bot: Bot) -> None:
        await bot.say(USER, "/start")
        consent = bot.fake.last_message(USER)
        assert consent is not None and consent["parse_mode"] == "HTML"
        assert [t for t, _ in FakeBotAPI.buttons(consent)] == ["Yes, I agree", "No thanks"]
        await bot.press(USER, "Yes, I agree")
        edited = bot.fake.messages(USER)[0]
        assert edited["text"].endswith("\n\n✓ Yes, I agree")
        assert FakeBotAPI.buttons(edited) == []
        assert bot.fake.callback_answers[-1].get("text") is None
        assert "Which best describes your role?" in texts(bot.fake, USER)[-1]
        # The edit comes before the new question.
        edit_time = edited["edits"][0]["time"]
        assert all(edit_time < t for name, p, t in bot.fake.calls
                   if name == "sendMessage" and "Which best describes" in p["text"])

    scenario(bot_api, tmp_path, content, story)


def test_typed_answers_work_like_taps(bot_api: FakeBotAPI, tmp_path: Path,
                                      content: Content) -> None:
    async def story(bot: Bot) -> None:
        await bot.onboard(USER)
        await bot.say(USER, "developing")
        await bot.say(USER, "my note about <b>tags</b> & ampersands")
        await bot.say(USER, "3")
        answers = bot.rows("answers")
        assert [(a["question"], a["level"]) for a in answers] == [
            ("outcomes.insight", 2), ("outcomes.relationships", 3)]
        assert answers[0]["note"] == "my note about <b>tags</b> & ampersands"
        assert "Note saved." in texts(bot.fake, USER)

    scenario(bot_api, tmp_path, content, story)


def test_every_choice_is_an_inline_keyboard_with_short_ascii_data(
        bot_api: FakeBotAPI, tmp_path: Path, content: Content) -> None:
    async def story(bot: Bot) -> None:
        await bot.onboard(USER)
        question = bot.fake.last_message(USER)
        buttons = FakeBotAPI.buttons(question)
        assert [t for t, _ in buttons] == ["Not yet", "Developing", "Established", "Embedded",
                                           "Skip", "What do the levels mean?",
                                           "Why this matters"]
        assert all(d and d.isascii() and len(d.encode()) <= 64 for _, d in buttons)
        assert question is not None and "step 1 of 12" in question["text"]

    scenario(bot_api, tmp_path, content, story)


def test_one_step_is_one_tap_and_four_bot_api_calls(bot_api: FakeBotAPI, tmp_path: Path,
                                                    content: Content) -> None:
    def counts(since: int) -> dict[str, int]:
        found: dict[str, int] = {}
        for method, _, _ in bot_api.calls[since:]:
            if method != "getUpdates":
                found[method] = found.get(method, 0) + 1
        return found

    async def story(bot: Bot) -> None:
        await bot.onboard(USER)
        answered = len(bot.fake.callback_answers)
        before = len(bot.fake.calls)
        await bot.press(USER, "Developing")
        assert await bot.fake.wait_for_async(
            lambda: len(bot.fake.callback_answers) > answered, 10)
        assert counts(before) == {"answerCallbackQuery": 1, "editMessageText": 1,
                                  "sendMessage": 2}
        prompt, question = texts(bot.fake, USER)[-2:]
        assert "Type a note if you like" in prompt and "step 2 of 12" in question
        # Context on demand: the answer and one message; the question is not edited or moved.
        before = len(bot.fake.calls)
        await bot.press(USER, "Why this matters")
        assert await bot.fake.wait_for_async(
            lambda: len(bot.fake.callback_answers) > answered + 1, 10)
        assert counts(before) == {"answerCallbackQuery": 1, "sendMessage": 1}
        assert "step 2 of 12" in texts(bot.fake, USER)[-2]

    scenario(bot_api, tmp_path, content, story)


def test_user_text_is_escaped_for_html(bot_api: FakeBotAPI, tmp_path: Path,
                                       content: Content) -> None:
    async def story(bot: Bot) -> None:
        await bot.onboard(USER)
        await bot.say(USER, "/<b>oops</b>&")
        sent = [p["text"] for p in bot.fake.calls_to("sendMessage")]
        assert any("/&lt;b&gt;oops&lt;/b&gt;&amp;" in t for t in sent)
        assert not any("<b>" in t for t in sent)

    scenario(bot_api, tmp_path, content, story)


def test_start_payload_reaches_the_engine(bot_api: FakeBotAPI, tmp_path: Path,
                                          content: Content) -> None:
    async def story(bot: Bot) -> None:
        await bot.say(USER, "/start team-42")
        assert bot.rows("users")[0]["start_payload"] == "team-42"

    scenario(bot_api, tmp_path, content, story)


def test_command_menu_is_set_at_start(bot_api: FakeBotAPI, tmp_path: Path,
                                      content: Content) -> None:
    async def story(bot: Bot) -> None:
        menu = bot.fake.commands_for()
        assert menu is not None
        names = [c["command"] for c in menu]
        assert {"cycle", "help", "mydata", "forget"} <= set(names)
        assert all(3 <= len(c["description"]) <= 256 for c in menu)

    scenario(bot_api, tmp_path, content, story)


def test_stale_button_has_moved_on_and_changes_nothing(bot_api: FakeBotAPI, tmp_path: Path,
                                                       content: Content) -> None:
    async def story(bot: Bot) -> None:
        await bot.onboard(USER)
        old_question = bot.fake.last_message(USER)
        assert old_question is not None
        await bot.press(USER, "Developing")
        before = state_of(bot, USER)
        old_data = FakeBotAPI.buttons(old_question)[2][1]
        assert old_data is not None
        await bot.settle(bot.fake.press_button(USER, old_question["message_id"], old_data))
        assert state_of(bot, USER) == before
        assert bot.fake.callback_answers[-1]["text"] == "This question has moved on."
        assert "This question has moved on" in texts(bot.fake, USER)[-2]
        assert "step 2 of 12" in texts(bot.fake, USER)[-1]

    scenario(bot_api, tmp_path, content, story)


def test_forged_callback_data_is_safe(bot_api: FakeBotAPI, tmp_path: Path,
                                      content: Content) -> None:
    async def story(bot: Bot) -> None:
        await bot.onboard(USER)
        question = bot.fake.last_message(USER)
        assert question is not None
        before = state_of(bot, USER)
        forged = ["t999:1", "t3:9", "x" * 65, "t3:1" + "é", "", "\x00", "t3:1; DROP TABLE users",
                  "t" + "9" * 40 + ":1"]
        ids = [bot.fake.press_button(USER, question["message_id"], data) for data in forged]
        await bot.settle(*ids)
        assert state_of(bot, USER) == before
        answers = bot.fake.callback_answers[-len(forged):]
        assert all(a["text"] == "This question has moved on." for a in answers)

    scenario(bot_api, tmp_path, content, story)


def test_stickers_photos_voice_locations_and_files_get_the_hint(
        bot_api: FakeBotAPI, tmp_path: Path, content: Content) -> None:
    async def story(bot: Bot) -> None:
        await bot.onboard(USER)
        fake = bot.fake
        for send in (fake.send_sticker, fake.send_photo, fake.send_voice, fake.send_location,
                     fake.send_document):
            before = len(fake.messages(USER))
            await bot.settle(send(USER))
            new = texts(fake, USER)[before:]
            assert new[0] == "I can read text and buttons only."
            assert "step 1 of 12" in new[1]

    scenario(bot_api, tmp_path, content, story)


def test_group_chat_answers_only_commands_addressed_to_the_bot(
        bot_api: FakeBotAPI, tmp_path: Path, content: Content) -> None:
    async def story(bot: Bot) -> None:
        fake = bot.fake
        ignored = [fake.send_text(USER, text, chat_id=GROUP, chat_type="supergroup")
                   for text in ("hello all", "/help", "/help@some_other_bot", "2")]
        ignored.append(fake.send_sticker(USER, chat_id=GROUP, chat_type="supergroup"))
        await bot.settle(*ignored)
        assert fake.messages(GROUP) == []
        assert bot.rows("users") == []
        await bot.settle(fake.send_text(USER, "/help@ccbot_test_bot", chat_id=GROUP,
                                        chat_type="supergroup"))
        assert texts(fake, GROUP)[0].startswith("What I can do:")
        assert fake.messages(USER) == []

    scenario(bot_api, tmp_path, content, story)


def test_personal_commands_in_a_group_answer_with_a_link_to_the_private_chat(
        bot_api: FakeBotAPI, tmp_path: Path, content: Content) -> None:
    async def story(bot: Bot) -> None:
        await bot.onboard(USER)
        await bot.settle(bot.fake.send_text(USER, "2"))
        before = len(bot.fake.messages(USER))
        for command in ("/mydata", "/profile", "/team", "/makecoordinator", "/forget"):
            await bot.settle(bot.fake.send_text(USER, f"{command}@ccbot_test_bot",
                                                chat_id=GROUP, chat_type="supergroup"))
        posted = bot.fake.messages(GROUP)
        assert [m["text"] for m in posted] == [content.text("group.private_only", "en")] * 5
        for message in posted:
            (row,) = message["reply_markup"]["inline_keyboard"]
            assert [b["url"] for b in row] == ["https://t.me/ccbot_test_bot"]
        assert bot.fake.documents(GROUP) == [] and bot.fake.photos(GROUP) == []
        assert len(bot.fake.messages(USER)) == before  # nothing went to the private chat

    scenario(bot_api, tmp_path, content, story)


def test_edited_messages_do_not_reanswer(bot_api: FakeBotAPI, tmp_path: Path,
                                         content: Content) -> None:
    async def story(bot: Bot) -> None:
        await bot.onboard(USER)
        first = bot.fake.send_text(USER, "2")
        await bot.settle(first)
        before, count = state_of(bot, USER), len(bot.fake.messages(USER))
        message_id = bot.fake.sent_updates[-1]["message"]["message_id"]
        await bot.settle(bot.fake.send_edited_text(USER, message_id, "4"))
        assert state_of(bot, USER) == before
        assert len(bot.fake.messages(USER)) == count

    scenario(bot_api, tmp_path, content, story)


def test_bots_and_unknown_update_types_are_ignored_but_done(
        bot_api: FakeBotAPI, tmp_path: Path, content: Content) -> None:
    async def story(bot: Bot) -> None:
        fake = bot.fake
        from_bot = fake.send_raw_update({"message": {
            "message_id": 1, "date": int(time.time()), "text": "/start",
            "chat": {"id": OTHER, "type": "private"},
            "from": {"id": OTHER, "is_bot": True, "first_name": "Robot"}}})
        poll_answer = fake.send_raw_update({"poll_answer": {
            "poll_id": "1", "user": {"id": USER, "is_bot": False, "first_name": "A"},
            "option_ids": [0]}})
        strange = fake.send_raw_update({"something_new": {"x": 1}})
        await bot.settle(from_bot, poll_answer, strange)
        assert fake.messages(OTHER) == [] and fake.messages(USER) == []
        assert bot.rows("inbox") == [] and bot.rows("users") == []

    scenario(bot_api, tmp_path, content, story)


# ---------------------------------------------------------------------- privacy
def test_mydata_sends_a_json_document(bot_api: FakeBotAPI, tmp_path: Path,
                                      content: Content) -> None:
    async def story(bot: Bot) -> None:
        await bot.onboard(USER)
        await bot.say(USER, "3")
        await bot.say(USER, "a private note")
        await bot.say(USER, "/mydata")
        document = bot.fake.documents(USER)[-1]
        data = json.loads(document["content"])
        assert data["answers"][-1]["note"] == "a private note"
        assert document["filename"] == "my-data.json"
        assert "everything I store about you" in document["caption"]

    scenario(bot_api, tmp_path, content, story)


def test_forget_leaves_no_row_about_the_user_in_any_table(bot_api: FakeBotAPI, tmp_path: Path,
                                                          content: Content) -> None:
    async def story(bot: Bot) -> None:
        await bot.onboard(USER)
        await bot.say(USER, "2")
        await bot.say(USER, "note to forget")
        await bot.say(USER, "/mydata")
        await bot.onboard(OTHER)
        await bot.say(USER, "/forget")
        await bot.press(USER, "Yes")
        assert "everything about you has been deleted" in texts(bot.fake, USER)[-1]
        found = rows_mentioning(bot.store.path, str(USER))
        assert found == []
        assert rows_mentioning(bot.store.path, str(OTHER)) != []
        # Afterwards they are a new user.
        await bot.say(USER, "hello")
        assert "Is that OK with you?" in texts(bot.fake, USER)[-1]

    scenario(bot_api, tmp_path, content, story)


def rows_mentioning(path: str, needle: str) -> list[tuple[str, dict[str, Any]]]:
    """Every row of every table with `needle` in any column (text or blob)."""
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    found = []
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type ="
                                             " 'table' AND name NOT LIKE 'sqlite_%'")]
        for table in tables:
            for row in conn.execute(f"SELECT * FROM [{table}]"):
                values = [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
                          for v in tuple(row)]
                if any(needle in v for v in values):
                    found.append((table, dict(row)))
    finally:
        conn.close()
    return found


# ---------------------------------------------------------------------- failures
def test_429_waits_retry_after_then_delivers(bot_api: FakeBotAPI, tmp_path: Path,
                                             content: Content) -> None:
    async def story(bot: Bot) -> None:
        bot.fake.fail_next("sendMessage", "429", count=2, chat_id=USER, retry_after=1)
        started = time.monotonic()
        await bot.say(USER, "/start")
        assert time.monotonic() - started >= 2.0
        assert "Is that OK with you?" in texts(bot.fake, USER)[-1]
        assert len(bot.fake.calls_to("sendMessage")) == 3
        assert bot.rows("reply_outbox") == []

    scenario(bot_api, tmp_path, content, story)


def test_5xx_is_retried_with_backoff(bot_api: FakeBotAPI, tmp_path: Path,
                                     content: Content) -> None:
    async def story(bot: Bot) -> None:
        bot.fake.fail_next("sendMessage", "500", count=1, chat_id=USER)
        bot.fake.fail_next("sendMessage", "502", count=1, chat_id=USER)
        await bot.say(USER, "/start")
        assert len(texts(bot.fake, USER)) == 1
        assert len(bot.fake.calls_to("sendMessage")) == 3
        assert bot.rows("reply_outbox") == []

    scenario(bot_api, tmp_path, content, story)


def test_5xx_gives_up_after_bounded_tries_and_keeps_the_reason(
        bot_api: FakeBotAPI, tmp_path: Path, content: Content) -> None:
    async def story(bot: Bot) -> None:
        bot.fake.fail_next("sendMessage", "500", count=FAST_RETRY.tries, chat_id=USER)
        await bot.say(USER, "/start")
        assert bot.fake.messages(USER) == []
        assert len(bot.fake.calls_to("sendMessage")) == FAST_RETRY.tries
        [row] = bot.rows("reply_outbox")
        assert row["status"] == "failed" and "Internal Server Error" in row["reason"]
        # The bot carries on with the next message.
        await bot.say(USER, "/help")
        assert texts(bot.fake, USER)[0].startswith("What I can do:")

    scenario(bot_api, tmp_path, content, story)


def test_timeouts_are_retried(bot_api: FakeBotAPI, tmp_path: Path, content: Content) -> None:
    # Held well past the read timeout; the retry must then come back within it, so that is
    # not so short that a busy machine times the retry out too (a third call).
    bot_api.timeout_delay = 10.0

    async def story(bot: Bot) -> None:
        bot.fake.fail_next("sendMessage", "timeout", count=1, chat_id=USER)
        await bot.say(USER, "/start")
        assert "Is that OK with you?" in texts(bot.fake, USER)[-1]
        assert len(bot.fake.calls_to("sendMessage")) == 2

    scenario(bot_api, tmp_path, content, story, read_timeout=2.0)


def test_blocked_user_is_marked_inactive_without_a_retry_storm(
        bot_api: FakeBotAPI, tmp_path: Path, content: Content) -> None:
    async def story(bot: Bot) -> None:
        await bot.onboard(USER)
        bot.fake.block(USER)
        calls = len(bot.fake.calls)
        await bot.say(USER, "/help")  # answered with two messages; the first is refused
        refused = [c for c in bot.fake.calls[calls:] if c[0] == "sendMessage"]
        assert len(refused) == 1
        assert bot.rows("users")[0]["status"] == "blocked"
        assert {r["status"] for r in bot.rows("reply_outbox")} == {"blocked"}
        await asyncio.sleep(0.3)
        assert len([c for c in bot.fake.calls[calls:] if c[0] == "sendMessage"]) == 1
        # Writing again means they unblocked us.
        bot.fake.unblock(USER)
        await bot.say(USER, "/where")
        assert bot.rows("users")[0]["status"] == "active"
        assert "step 1 of 12" in texts(bot.fake, USER)[-1]

    scenario(bot_api, tmp_path, content, story)


def test_not_modified_and_query_too_old_are_harmless(
        bot_api: FakeBotAPI, tmp_path: Path, content: Content,
        caplog: pytest.LogCaptureFixture) -> None:
    async def story(bot: Bot) -> None:
        await bot.onboard(USER)
        bot.fake.fail_next("editMessageText", "400-not-modified")
        bot.fake.fail_next("answerCallbackQuery", "400-query-too-old")
        with caplog.at_level(logging.INFO):
            await bot.press(USER, "Established")
        assert "Type a note if you like" in texts(bot.fake, USER)[-2]
        assert bot.rows("reply_outbox") == []
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING]

    scenario(bot_api, tmp_path, content, story)


def test_an_error_in_handling_is_logged_the_user_told_and_the_bot_keeps_running(
        bot_api: FakeBotAPI, tmp_path: Path, content: Content,
        caplog: pytest.LogCaptureFixture) -> None:
    async def story(bot: Bot) -> None:
        await bot.onboard(USER)
        real = bot.engine.handle

        def flaky(event: Event) -> Response:
            if event.text == "boom":
                raise RuntimeError("a bug")
            return real(event)

        bot.engine.handle = flaky  # type: ignore[method-assign]
        with caplog.at_level(logging.ERROR):
            update_id = bot.fake.send_text(USER, "boom")
            await bot.settle(update_id)
        assert texts(bot.fake, USER)[-1].startswith("Sorry, something went wrong on my side")
        logged = "\n".join(r.getMessage() for r in caplog.records)
        assert f"update {update_id}" in logged and f"telegram:{USER}" in logged
        assert bot.rows("inbox") == []
        await bot.say(USER, "2")
        assert "Type a note if you like" in texts(bot.fake, USER)[-2]

    scenario(bot_api, tmp_path, content, story)


# ---------------------------------------------------------------------- durability
def test_left_over_replies_and_updates_are_handled_first_at_start(
        bot_api: FakeBotAPI, tmp_path: Path, content: Content) -> None:
    db = tmp_path / "bot.db"

    async def first(bot: Bot) -> None:
        await bot.say(USER, "/start")

    asyncio.run(_run_story(bot_api, db, content, first))
    # Simulate a crash: one reply queued but unsent, one update stored but unhandled.
    store = SQLiteStore(db)
    with store.transaction() as conn:
        conn.execute("INSERT INTO reply_outbox (channel, chat_id, user_key, text, created_at)"
                     " VALUES ('telegram', ?, ?, 'left over reply', 0)",
                     (str(USER), f"telegram:{USER}"))
    update = {"update_id": 10_000, "message": {
        "message_id": 99, "date": int(time.time()), "text": "/help",
        "chat": {"id": USER, "type": "private"},
        "from": {"id": USER, "is_bot": False, "first_name": "A"}}}
    SQLiteInbox(store).add(inbox_items([update]))
    store.close()

    async def second(bot: Bot) -> None:
        await bot.settle(10_000)

    asyncio.run(_run_story(bot_api, db, content, second))
    after = texts(bot_api, USER)
    assert after[1] == "left over reply"
    assert after[2].startswith("What I can do:")


async def _run_story(fake: FakeBotAPI, db: Path, content: Content,
                     story: Callable[[Bot], Awaitable[None]]) -> None:
    async with running(fake, db, content) as bot:
        await story(bot)


def test_chats_run_concurrently_but_each_in_order(bot_api: FakeBotAPI, tmp_path: Path,
                                                  content: Content) -> None:
    # Long enough that the calls overlap even when the loop, busy on a loaded machine, starts
    # them tens of milliseconds apart (each turn's database work runs on the loop).
    bot_api.latency = 0.1
    users = [USER + i for i in range(12)]

    async def story(bot: Bot) -> None:
        ids = [bot.fake.send_text(u, f"/{c}") for c in ("start", "help", "where") for u in users]
        await bot.settle(*ids)
        for user in users:
            said = texts(bot.fake, user)
            assert "Is that OK with you?" in said[0]
            assert said[1].startswith("What I can do:")
            assert "Is that OK with you?" in said[2]
            assert said[3].startswith("First, please answer this question")
        # Each call waits 100 ms at the fake before it is recorded, so calls recorded closer
        # together than that were in flight at the same time.
        times = sorted(t for name, _, t in bot.fake.calls if name == "sendMessage")
        assert max(sum(1 for u in times if t <= u < t + 0.09) for t in times) >= 3

    scenario(bot_api, tmp_path, content, story, concurrency=8)


# ---------------------------------------------------------------------- webhook
def post(url: str, body: bytes, secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return error.code


def test_webhook_checks_the_secret_before_storing_anything(
        bot_api: FakeBotAPI, tmp_path: Path, content: Content) -> None:
    async def story(bot: Bot) -> None:
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        hook = WebhookConfig("127.0.0.1", port, f"http://127.0.0.1:{port}/tg", "s3cret-Token")
        async with listening(bot.channel, hook, bot.store):
            update = {"update_id": 5_000, "message": {
                "message_id": 1, "date": int(time.time()), "text": "/start",
                "chat": {"id": OTHER, "type": "private"},
                "from": {"id": OTHER, "is_bot": False, "first_name": "W"}}}
            body = json.dumps(update).encode()
            for secret in (None, "wrong", "s3cret-Token-and-more", ""):
                assert await asyncio.to_thread(post, hook.url, body, secret) == 403
            assert bot.rows("inbox") == [] and not bot.handled(5_000)
            bad = await asyncio.to_thread(post, hook.url, b"not json", "s3cret-Token")
            assert bad == 400
            assert await asyncio.to_thread(post, hook.url, body, "s3cret-Token") == 200
            await bot.settle(5_000)
            assert "Is that OK with you?" in texts(bot.fake, OTHER)[-1]
            # A redelivery of the same update is acknowledged and not handled again.
            assert await asyncio.to_thread(post, hook.url, body, "s3cret-Token") == 200
            await asyncio.sleep(0.2)
            assert len(texts(bot.fake, OTHER)) == 1

    scenario(bot_api, tmp_path, content, story)
