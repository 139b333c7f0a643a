"""The inbox and reply outbox in SQLite: written in the turn's transaction, forgotten too."""

from __future__ import annotations

import time
from pathlib import Path

from bot.channels.telegram.translate import inbox_items
from bot.definitions.model import Content
from bot.engine.core.events import Attachment, Choice, Event, Reply, UserKey
from bot.engine.core.records import Commit
from bot.engine.engine import Engine
from bot.storage.blocked_chats import SQLiteBlockedChats
from bot.storage.inbox import SQLiteInbox
from bot.storage.reply_outbox import SQLiteReplyOutbox, queue_each_turn
from bot.storage.sqlite_store import SQLiteStore

ALICE = UserKey("telegram", "42")


def update(update_id: int, text: str, chat: int = 42) -> dict[str, object]:
    return {"update_id": update_id, "message": {
        "message_id": update_id, "date": int(time.time()), "text": text,
        "chat": {"id": chat, "type": "private" if chat > 0 else "group"},
        "from": {"id": 42, "is_bot": False, "first_name": "Alice"}}}


def test_a_turns_replies_are_queued_in_its_transaction_for_the_chat_it_came_from(
        tmp_path: Path, content: Content) -> None:
    store = queue_each_turn(SQLiteStore(tmp_path / "s.db"))
    SQLiteInbox(store).add(inbox_items([update(1, "/help@bot", chat=-500)]))
    Engine(content, store).handle(Event(ALICE, text="/help", update_id=1))
    queued = SQLiteReplyOutbox(store, "telegram").pending("-500")
    assert queued[0].reply.text.startswith("What I can do:")
    assert {q.user_key for q in queued} == {"telegram:42"}
    assert SQLiteReplyOutbox(store, "telegram").pending("42") == []
    assert store.query("SELECT COUNT(*) FROM inbox")[0][0] == 0


def test_replies_round_trip_through_the_outbox(tmp_path: Path) -> None:
    store = queue_each_turn(SQLiteStore(tmp_path / "s.db"))
    chart = Attachment("c.png", b"\x89PNG\x00\xff", "image/png", "A chart")
    data = Attachment("d.json", b"{}", "application/json")
    replies = (Reply("one", (Choice("t1:1", "Yes"), Choice("t1:2", "No"))),
               Reply("two", image=chart), Reply("three", document=data))
    store.commit(Commit(ALICE, 7, None, replies=replies))
    outbox = SQLiteReplyOutbox(store, "telegram")
    assert [q.reply for q in outbox.pending("42")] == list(replies)
    first = outbox.pending("42")[0]
    outbox.progress(first.id, 1)
    assert outbox.pending("42")[0].parts_sent == 1
    outbox.sent(first.id)
    outbox.failed(outbox.pending("42")[0].id, "Bad Request: chat not found")
    assert [q.reply.text for q in outbox.pending("42")] == ["three"]
    assert outbox.chats_waiting() == ["42"]


def test_without_the_option_nothing_is_queued(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    store.commit(Commit(ALICE, 7, None, replies=(Reply("hello"),)))
    assert store.query("SELECT COUNT(*) FROM reply_outbox")[0][0] == 0


def test_inbox_keeps_a_batch_once_and_never_takes_back_a_handled_update(tmp_path: Path) -> None:
    store = queue_each_turn(SQLiteStore(tmp_path / "s.db"))
    inbox = SQLiteInbox(store)
    assert [i.update_id for i in inbox.add(inbox_items([update(1, "a"), update(2, "b")]))] == [1, 2]
    assert inbox.add(inbox_items([update(2, "b"), update(3, "c")]))[0].update_id == 3
    inbox.done(inbox.pending()[0])
    assert inbox.add(inbox_items([update(1, "a")])) == []
    assert [i.update_id for i in inbox.pending()] == [2, 3]
    assert store.seen("telegram", 1)


def test_forget_deletes_the_users_queued_replies_but_says_goodbye(tmp_path: Path) -> None:
    store = queue_each_turn(SQLiteStore(tmp_path / "s.db"))
    store.commit(Commit(ALICE, 1, None, replies=(Reply("your data", document=Attachment(
        "my-data.json", b'{"note": "private"}', "application/json")),)))
    store.commit(Commit(UserKey("telegram", "43"), 2, None, replies=(Reply("other"),)))
    SQLiteInbox(store).add(inbox_items([update(3, "yes")]))
    store.commit(Commit(ALICE, 3, None, forget=True, replies=(Reply("Done: deleted."),)))
    rows = store.query("SELECT chat_id, text FROM reply_outbox ORDER BY id")
    assert [tuple(r) for r in rows] == [("43", "other"), ("42", "Done: deleted.")]
    assert store.query("SELECT COUNT(*) FROM inbox")[0][0] == 0


def test_blocking_holds_the_chats_replies_and_marks_the_user(tmp_path: Path,
                                                            content: Content) -> None:
    store = queue_each_turn(SQLiteStore(tmp_path / "s.db"))
    Engine(content, store).handle(Event(ALICE, text="/start", update_id=1))
    outbox, blocked = SQLiteReplyOutbox(store, "telegram"), SQLiteBlockedChats(store, "telegram")
    outbox.hold("42", "Forbidden: bot was blocked by the user")
    blocked.block("42", "telegram:42")
    assert outbox.pending("42") == []
    assert SQLiteBlockedChats(store, "telegram").chats() == ["42"]
    assert store.query("SELECT status FROM users")[0][0] == "blocked"
    blocked.unblock("42", "telegram:42")
    assert store.query("SELECT status FROM users")[0][0] == "active"


def test_an_update_with_a_lone_surrogate_is_stored(tmp_path: Path) -> None:
    store = queue_each_turn(SQLiteStore(tmp_path / "s.db"))
    inbox = SQLiteInbox(store)
    inbox.add(inbox_items([update(1, "half an emoji \ud83d")]))
    assert inbox.pending()[0].update["message"]["text"] == "half an emoji \ud83d"
