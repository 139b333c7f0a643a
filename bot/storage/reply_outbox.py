"""The reply outbox in SQLite: every statement that queues, reads and settles a reply."""

from __future__ import annotations

import json
import sqlite3
import time
from typing import TypeVar

from bot.engine.core.events import Attachment, Choice, Reply, UserKey
from bot.engine.core.records import Commit
from bot.engine.ports.reply_outbox import QueuedReply
from bot.storage.transactions import Transactions, TurnQueueing

_INSERT = (
    "INSERT INTO reply_outbox (channel, chat_id, user_key, update_id, text, choices, image,"
    " image_meta, document, document_meta, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _attachment_meta(attachment: Attachment | None) -> str | None:
    if attachment is None:
        return None
    return json.dumps({"filename": attachment.filename, "mime": attachment.mime,
                       "caption": attachment.caption})


def _attachment(data: bytes | None, meta: str | None) -> Attachment | None:
    if data is None or meta is None:
        return None
    fields = json.loads(meta)
    return Attachment(fields["filename"], bytes(data), fields["mime"], fields["caption"])


def _reply(row: sqlite3.Row) -> Reply:
    choices = tuple(Choice(i, label) for i, label in json.loads(row["choices"] or "[]"))
    return Reply(row["text"], choices, image=_attachment(row["image"], row["image_meta"]),
                 document=_attachment(row["document"], row["document_meta"]))


def queue_replies(conn: sqlite3.Connection, user: UserKey, chat_id: str, update_id: int | None,
                  replies: tuple[Reply, ...]) -> None:
    """Add replies to the outbox inside an open transaction, in order."""
    now = time.time()
    conn.executemany(_INSERT, [
        (user.channel, chat_id, str(user), update_id, r.text,
         json.dumps([[c.id, c.label] for c in r.choices]) if r.choices else None,
         r.image.data if r.image else None, _attachment_meta(r.image),
         r.document.data if r.document else None, _attachment_meta(r.document), now)
        for r in replies])


def queue_turn(conn: sqlite3.Connection, change: Commit, chat: str | None) -> None:
    """Queue a turn's replies inside the turn's transaction, for the chat it came from.

    Without an inbox row (a digest, a direct call) the replies go to the user's private chat.
    """
    if change.replies:
        queue_replies(conn, change.user, chat or change.user.id, change.update_id,
                      change.replies)


Queueing = TypeVar("Queueing", bound=TurnQueueing)


def queue_each_turn(store: Queueing) -> Queueing:
    """Have every commit on `store` queue its replies here, in the commit's own transaction.

    A channel that sends from the outbox (Telegram) needs this, so a crash between commit and
    send loses no reply; the terminal chat prints replies itself and does not call it.
    """
    store.reply_outbox = queue_turn
    return store


def forget_user(conn: sqlite3.Connection, user_key: str) -> None:
    """Inside /forget's transaction: drop the user's queued replies (they may quote answers)."""
    conn.execute("DELETE FROM reply_outbox WHERE user_key = ?", (user_key,))


class SQLiteReplyOutbox:
    """Reads and settles one channel's rows of the `reply_outbox` table."""

    def __init__(self, store: Transactions, channel: str = "telegram") -> None:
        self.store = store
        self.channel = channel

    def queue(self, user: UserKey, chat_id: str, update_id: int | None,
              replies: tuple[Reply, ...]) -> None:
        with self.store.transaction() as conn:
            queue_replies(conn, user, chat_id, update_id, replies)

    def pending(self, chat_id: str) -> list[QueuedReply]:
        rows = self.store.query(
            "SELECT id, chat_id, user_key, text, choices, image, image_meta, document,"
            " document_meta, parts_sent FROM reply_outbox WHERE channel = ? AND chat_id = ? AND"
            " status = 'pending' ORDER BY id", (self.channel, chat_id))
        return [QueuedReply(r["id"], r["chat_id"], r["user_key"] or "", _reply(r),
                            r["parts_sent"] or 0) for r in rows]

    def chats_waiting(self) -> list[str]:
        rows = self.store.query("SELECT chat_id FROM reply_outbox WHERE channel = ? AND status ="
                                " 'pending' GROUP BY chat_id ORDER BY MIN(id)", (self.channel,))
        return [r["chat_id"] for r in rows]

    def progress(self, reply_id: int, parts_sent: int) -> None:
        with self.store.transaction() as conn:
            conn.execute("UPDATE reply_outbox SET parts_sent = ? WHERE id = ?",
                         (parts_sent, reply_id))

    def sent(self, reply_id: int) -> None:
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM reply_outbox WHERE id = ?", (reply_id,))

    def failed(self, reply_id: int, reason: str) -> None:
        with self.store.transaction() as conn:
            conn.execute("UPDATE reply_outbox SET status = 'failed', reason = ? WHERE id = ?",
                         (reason[:500], reply_id))

    def hold(self, chat_id: str, reason: str) -> None:
        with self.store.transaction() as conn:
            conn.execute("UPDATE reply_outbox SET status = 'blocked', reason = ? WHERE"
                         " channel = ? AND chat_id = ? AND status = 'pending'",
                         (reason[:500], self.channel, chat_id))
