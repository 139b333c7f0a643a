"""The database schema, as sqlite-utils migrations applied in order at start-up."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.db import Table
from sqlite_utils.migrations import Migrations

migrations = Migrations("ccbot")


def _table(db: Database, name: str) -> Table:
    """The named table (sqlite-utils types `db[name]` as table-or-view)."""
    table = db[name]
    assert isinstance(table, Table)
    return table


@migrations()
def m001_core(db: Database) -> None:
    """Users, their dialogue positions, the answer history and handled update ids."""
    _table(db, "users").create(
        {
            "key": str, "channel": str, "external_id": str, "locale": str, "consent": int,
            "role": str, "active": str, "turn": int, "awaiting": str, "start_payload": str,
            "status": str, "created_at": float, "last_seen": float,
        },
        pk="key",
        not_null={"channel", "external_id", "locale"},
        defaults={"consent": 0, "turn": 0, "status": "active"},
    )
    _table(db, "dialogue_states").create(
        {
            "user_key": str, "dialogue": str, "state": str, "cycle": int, "pass_start": str,
            "pending_level": int, "updated_at": float,
        },
        pk=("user_key", "dialogue"),
        not_null={"state"},
    )
    _table(db, "answers").create(
        {
            "id": int, "user_key": str, "dialogue": str, "cycle": int, "question": str,
            "level": int, "note": str, "at": float,
        },
        pk="id",
        not_null={"user_key", "dialogue", "question", "at"},
    )
    _table(db, "answers").create_index(["user_key", "at"])
    _table(db, "processed_updates").create(
        {"channel": str, "update_id": int, "at": float},
        pk=("channel", "update_id"),
    )


@migrations()
def m002_inbox_outbox(db: Database) -> None:
    """A channel's durable inbox of received updates and outbox of replies not yet sent."""
    # An update is stored here before it is acknowledged and deleted in the transaction that
    # handles it (DESIGN.md §4 rules 3-4), so whatever is left here was never handled.
    _table(db, "inbox").create(
        {"channel": str, "update_id": int, "chat_id": str, "user_key": str, "body": str,
         "received_at": float},
        pk=("channel", "update_id"),
        not_null={"chat_id", "body"},
    )
    _table(db, "inbox").create_index(["user_key"])
    # One row per reply, written in the turn's transaction; deleted once every part is sent.
    # Rows that could not be sent stay, with status 'failed' or 'blocked' and the reason.
    _table(db, "outbox").create(
        {
            "id": int, "channel": str, "chat_id": str, "user_key": str, "update_id": int,
            "text": str, "choices": str, "image": bytes, "image_meta": str, "document": bytes,
            "document_meta": str, "status": str, "parts_sent": int, "reason": str,
            "created_at": float,
        },
        pk="id",
        not_null={"channel", "chat_id", "text", "status"},
        defaults={"status": "pending", "parts_sent": 0, "text": ""},
    )
    _table(db, "outbox").create_index(["channel", "chat_id", "status", "id"])
    _table(db, "outbox").create_index(["user_key"])


@migrations()
def m003_reply_outbox(db: Database) -> None:
    """The reply outbox is called `reply_outbox`, beside the teams' `broadcast_outbox`."""
    # A rename keeps every row, so replies pending in an existing database are still sent.
    # m002 stays as it was: it already ran on existing databases, and a new one runs both.
    db.execute("ALTER TABLE outbox RENAME TO reply_outbox")
    db.execute("DROP INDEX IF EXISTS idx_outbox_channel_chat_id_status_id")
    db.execute("DROP INDEX IF EXISTS idx_outbox_user_key")
    _table(db, "reply_outbox").create_index(["channel", "chat_id", "status", "id"])
    _table(db, "reply_outbox").create_index(["user_key"])


@migrations()
def m004_persona(db: Database) -> None:
    """`users.role` is `users.persona`: who the user said they are, not a permission."""
    db.execute("ALTER TABLE users RENAME COLUMN role TO persona")
