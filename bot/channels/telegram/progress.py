"""The coordinator's progress message: sent when a broadcast starts, edited as it goes, and
ending with the report (docs/BROADCASTS.md).

The first message goes through the coordinator's chat queue, so it follows the bot's reply to
their "Send now". It is then edited at most every `every` seconds (sent / failed / blocked /
remaining) and, once every copy has an outcome, replaced by the report. Its message id is
stored (`set_progress_message`), so after a restart the same message carries on; if it was
never sent, or can no longer be edited, a new one is sent.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from telegram import Bot, Message
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.outcomes import Kind, outcome_of
from bot.channels.telegram.pacing import Pacing
from bot.channels.telegram.sender import chat_id_of
from bot.channels.telegram.translate import escape
from bot.engine.features.broadcasts.views import progress_text, report_text
from bot.engine.ports.broadcasts import Broadcast
from bot.engine.ports.directory import parse_key
from bot.engine.ports.store import StoreError
from bot.storage.directory_store import SQLiteDirectory

log = logging.getLogger(__name__)


@dataclass
class _Shown:
    """A progress message being kept up to date."""

    broadcast: Broadcast
    chat: str
    locale: str
    message_id: int | None
    text: str = ""
    changed_at: float = float("-inf")  # loop time of the last send or edit
    queued: bool = False  # the first message is waiting in the chat's queue


class ProgressMessages:
    """Keeps every unfinished broadcast's progress message current."""

    def __init__(self, channel: TelegramChannel, directory: SQLiteDirectory, pacing: Pacing,
                 every: float = 2.0) -> None:
        self.channel = channel
        self.bot: Bot = channel.sender.bot
        self.engine = channel.engine
        self.directory = directory
        self.pacing = pacing
        self.every = every
        self.shown: dict[int, _Shown] = {}
        self._finished: set[int] = set()

    def track(self, broadcast: Broadcast) -> None:
        """Start keeping the broadcast's progress message (if it has a coordinator's chat)."""
        bid = broadcast.id
        if broadcast.progress_chat_id is None or bid in self.shown or bid in self._finished:
            return
        locale = self.engine.pick_locale(None)
        if broadcast.created_by:
            record = self.engine.store.load_user(parse_key(broadcast.created_by))
            locale = self.engine.pick_locale(record.locale if record else None)
        shown = _Shown(broadcast, broadcast.progress_chat_id, locale,
                       broadcast.progress_message_id)
        self.shown[bid] = shown
        if shown.message_id is None:
            self._queue_first(shown)

    def _queue_first(self, shown: _Shown) -> None:
        shown.queued = True

        async def first() -> None:
            try:
                text, _ = self._text(shown)
                if text is None:
                    return
                message = await self._send(shown, text)
                if message is not None:
                    shown.message_id = message.message_id
                    shown.text = text
                    self.directory.set_progress_message(shown.broadcast.id, message.message_id)
            except StoreError as exc:
                log.error("could not store the progress message of broadcast #%s: %s",
                          shown.broadcast.id, exc)
            finally:
                shown.queued = False
                shown.changed_at = asyncio.get_running_loop().time()

        self.channel.queues.submit(shown.chat, first)

    def _text(self, shown: _Shown) -> tuple[str | None, bool]:
        """The progress line, or the report once every copy has an outcome (and True)."""
        content = self.engine.content
        bid = shown.broadcast.id
        progress = self.directory.progress(bid)
        if not progress.done:
            return progress_text(content, shown.broadcast, progress, shown.locale), False
        report = self.directory.report(bid)
        return (report_text(content, report, shown.locale) if report is not None else None,
                True)

    async def run(self) -> None:
        """Check the tracked broadcasts a few times a second; edit what is due."""
        while True:
            await asyncio.sleep(min(0.5, self.every / 2))
            try:
                await self.update()
            except StoreError as exc:
                log.warning("progress messages not updated: %s", exc)
            except Exception:  # a progress message is never worth stopping broadcasts for
                log.exception("progress messages not updated")

    async def update(self) -> None:
        """Edit each progress message whose `every` seconds have passed and whose text moved."""
        now = asyncio.get_running_loop().time()
        for bid, shown in list(self.shown.items()):
            if shown.queued or now - shown.changed_at < self.every:
                continue
            text, done = self._text(shown)
            if text is None:
                self._finish(bid)
                continue
            if shown.message_id is None:
                self._queue_first(shown)
                continue
            if text != shown.text:
                await self._edit(shown, text)
                shown.changed_at = asyncio.get_running_loop().time()
            if done and shown.text == text:
                self._finish(bid)

    def _finish(self, bid: int) -> None:
        self.shown.pop(bid, None)
        self._finished.add(bid)

    async def _send(self, shown: _Shown, text: str) -> Message | None:
        await self.pacing.progress(shown.chat)
        try:
            return await self.bot.send_message(chat_id_of(shown.chat), escape(text),
                                               parse_mode=ParseMode.HTML)
        except TelegramError as exc:
            outcome = outcome_of(exc)
            if outcome.kind is Kind.RETRY_AFTER:
                self.pacing.pacer.pause_broadcasts(outcome.retry_after)
            elif outcome.kind is Kind.BLOCKED:
                log.info("the coordinator of broadcast #%s blocked the bot; no progress "
                         "message", shown.broadcast.id)
                self._finish(shown.broadcast.id)
            else:
                log.warning("progress message of broadcast #%s not sent: %s",
                            shown.broadcast.id, outcome.reason)
        return None

    async def _edit(self, shown: _Shown, text: str) -> None:
        assert shown.message_id is not None
        await self.pacing.progress(shown.chat)
        try:
            await self.bot.edit_message_text(escape(text), chat_id=chat_id_of(shown.chat),
                                             message_id=shown.message_id,
                                             parse_mode=ParseMode.HTML)
            shown.text = text
        except TelegramError as exc:
            outcome = outcome_of(exc)
            if outcome.kind is Kind.RETRY_AFTER:
                self.pacing.pacer.pause_broadcasts(outcome.retry_after)
            elif outcome.kind is Kind.NOT_MODIFIED:
                shown.text = text
            elif outcome.kind is Kind.GONE:
                shown.message_id = None  # a new one is sent at the next update
            elif outcome.kind is Kind.BLOCKED:
                self._finish(shown.broadcast.id)
            elif outcome.kind is Kind.TRANSIENT:
                log.info("progress of broadcast #%s not shown yet: %s", shown.broadcast.id,
                         outcome.reason)
            else:
                log.warning("progress of broadcast #%s not shown: %s", shown.broadcast.id,
                            outcome.reason)
