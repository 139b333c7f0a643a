"""Delivers the reply outbox to Telegram, per chat in order, retrying what can be retried."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from telegram import (
    Bot,
)
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.channels.telegram.outcomes import HARMLESS, SENT, Kind, Outcome, outcome_of
from bot.channels.telegram.pacing import Pacing
from bot.channels.telegram.translate import CHANNEL, Part, render
from bot.engine.core.events import PRIVATE_CHAT
from bot.engine.ports.blocked_chats import BlockedChats
from bot.engine.ports.reply_outbox import ReplyOutbox

log = logging.getLogger(__name__)

_NO_PREVIEW = {"is_disabled": True}


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries with exponential backoff for 5xx answers and timeouts."""

    tries: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait before try number `attempt + 1`, with jitter so chats spread out."""
        backoff = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        return backoff * random.uniform(0.8, 1.2)


def chat_id_of(chat: str) -> int | str:
    """A chat key as the Bot API takes it: a number, or an @username."""
    try:
        return int(chat)
    except ValueError:
        return chat


def unparsed(bot: Bot, method: str, params: dict[str, Any]) -> Awaitable[Any]:
    """A Bot API call whose answer we never read, without PTB building objects from it.

    Measured (benchmarks/README.md, "The HTTP client"): turning every sendMessage and edit
    answer into a Message was ~10 % of the bot's CPU, and all we need is that it succeeded.
    PTB's own request path still sends it: defaults, errors (429, 403, ...) and timeouts as
    for any call; only the answer is left as the Bot API's JSON.
    """
    return bot._post(method, params)


async def send_part(bot: Bot, chat: str, part: Part) -> int | None:
    """Send one part (HTML, buttons on the last text, no link previews); its message id."""
    chat_id = chat_id_of(chat)
    if part.method == "sendMessage":
        # Plain JSON, as the Bot API takes it: no PTB objects built and taken apart per call.
        markup = {"inline_keyboard": [
            [{"text": c.label, "url": f"https://t.me/{bot.username}"} if c.id == PRIVATE_CHAT
             else {"text": c.label, "callback_data": c.id} for c in row]
            for row in part.keyboard]} if part.keyboard else None
        answer = await unparsed(bot, "sendMessage", {
            "chat_id": chat_id, "text": part.text, "parse_mode": ParseMode.HTML,
            "reply_markup": markup, "link_preview_options": _NO_PREVIEW})
        found = answer.get("message_id") if isinstance(answer, dict) else None
        return found if isinstance(found, int) else None
    assert part.file is not None, f"{part.method} needs a file"
    caption = part.text or None
    if part.method == "sendPhoto":
        message = await bot.send_photo(chat_id, part.file.data, caption=caption,
                                       parse_mode=ParseMode.HTML, filename=part.file.filename)
    else:
        message = await bot.send_document(chat_id, part.file.data, caption=caption,
                                          parse_mode=ParseMode.HTML,
                                          filename=part.file.filename)
    return message.message_id


class Sender:
    """Sends replies, callback answers and edits; skips and records chats that blocked the bot.

    With `pacing`, every message and edit takes a reply slot of the shared pacer first (see
    pacing.py): replies go before broadcast copies, and a 429 also pauses broadcasting.
    """

    def __init__(self, bot: Bot, outbox: ReplyOutbox, blocked: BlockedChats,
                 policy: RetryPolicy | None = None, pacing: Pacing | None = None) -> None:
        self.bot = bot
        self.outbox = outbox
        self.blocked = blocked
        self.policy = policy or RetryPolicy()
        self.pacing = pacing

    # ------------------------------------------------------------------ the outbox
    async def drain(self, chat: str) -> None:
        """Send the chat's queued replies, oldest first, each part once it is confirmed."""
        if self.blocked.is_blocked(chat):
            self.outbox.hold(chat, "the chat has blocked the bot")
            return
        for queued in self.outbox.pending(chat):
            try:
                parts = render(queued.reply)
            except ValueError as exc:
                log.error("reply %s for chat %s cannot be sent: %s", queued.id, chat, exc)
                self.outbox.failed(queued.id, str(exc))
                continue
            for index in range(queued.parts_sent, len(parts)):
                outcome = await self.deliver(chat, parts[index])
                if outcome.kind is Kind.BLOCKED:
                    self.block(chat, queued.user_key, outcome.reason)
                    return
                if outcome.kind not in HARMLESS:
                    log.error("gave up on reply %s for chat %s: %s", queued.id, chat,
                              outcome.reason)
                    self.outbox.failed(queued.id, outcome.reason)
                    break
                if index + 1 < len(parts):
                    self.outbox.progress(queued.id, index + 1)
            else:
                self.outbox.sent(queued.id)

    async def deliver(self, chat: str, part: Part) -> Outcome:
        """Send one part, retrying as Telegram allows."""
        return await self.call(f"{part.method} to chat {chat}", lambda: self._send(chat, part))

    async def _send(self, chat: str, part: Part) -> int | None:
        if self.pacing is not None:
            await self.pacing.reply(chat)
        return await send_part(self.bot, chat, part)

    async def call(self, what: str, make: Callable[[], Awaitable[object]]) -> Outcome:
        """Run a Bot API call: wait out 429s, back off on 5xx and timeouts, stop on the rest.

        The outcome is never RETRY_AFTER or TRANSIENT: a reply is never dropped for a 429,
        and a transient error ends FAILED after `policy.tries` attempts.
        """
        attempt = 0
        while True:
            try:
                await make()
                return SENT
            except TelegramError as exc:
                outcome = outcome_of(exc)
            if outcome.kind is Kind.RETRY_AFTER:
                log.info("%s: flood control, retrying in %.1f s", what, outcome.retry_after)
                if self.pacing is not None:
                    # We are over Telegram's limit: broadcasts give way for as long.
                    self.pacing.pacer.pause_broadcasts(outcome.retry_after)
                await asyncio.sleep(outcome.retry_after)
            elif outcome.kind is Kind.TRANSIENT:
                attempt += 1
                if attempt >= self.policy.tries:
                    return Outcome(Kind.FAILED,
                                   f"{outcome.reason} (gave up after {attempt} tries)")
                delay = self.policy.delay(attempt)
                log.info("%s: %s; retry %d in %.1f s", what, outcome.reason, attempt, delay)
                await asyncio.sleep(delay)
            else:
                if outcome.kind in HARMLESS:
                    log.debug("%s: %s (harmless)", what, outcome.reason)
                return outcome

    # ------------------------------------------------------------------ buttons
    async def answer_callback(self, query_id: str, text: str | None = None) -> None:
        """Stop the button's spinner; once only, as a late answer is useless."""
        try:
            await self.bot.answer_callback_query(query_id, text=text)
        except TelegramError as exc:
            # TOO_LATE ("query is too old") after a restart is expected; nothing else depends
            # on this answer, so every outcome is only logged.
            log.debug("answerCallbackQuery %s: %s", query_id, outcome_of(exc).reason)

    async def edit(self, chat: str, message_id: int, html: str, user_key: str | None) -> None:
        """Replace a question's text and remove its buttons; failures cost only looks."""
        async def edit() -> object:
            if self.pacing is not None:
                await self.pacing.reply(chat)
            return await unparsed(self.bot, "editMessageText", {
                "chat_id": chat_id_of(chat), "message_id": message_id, "text": html,
                "parse_mode": ParseMode.HTML, "link_preview_options": _NO_PREVIEW})

        outcome = await self.call(f"editMessageText in chat {chat}", edit)
        if outcome.kind is Kind.BLOCKED:
            self.block(chat, user_key, outcome.reason)
        elif outcome.kind not in HARMLESS:
            log.warning("could not mark the answer in chat %s: %s", chat, outcome.reason)

    # ------------------------------------------------------------------ blocking
    def block(self, chat: str, user_key: str | None, reason: str) -> None:
        """Stop sending to a chat that refuses us (no retry storm) until it writes again."""
        # Only a private chat is its user; a group that removed us says nothing about them.
        self.blocked.block(chat, user_key if user_key == f"{CHANNEL}:{chat}" else None)
        self.outbox.hold(chat, reason)
        log.info("chat %s refuses messages (%s); holding its replies", chat, reason)
