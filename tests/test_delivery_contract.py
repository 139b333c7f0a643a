"""The contract every delivery port passes: the in-memory twins and SQLite alike."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.engine.core.events import Reply, UserKey
from bot.engine.memory.blocked_chats import MemoryBlockedChats
from bot.engine.memory.inbox import MemoryInbox
from bot.engine.memory.reply_outbox import MemoryReplyOutbox
from bot.engine.ports.blocked_chats import BlockedChats
from bot.engine.ports.inbox import Inbox, InboxItem
from bot.engine.ports.reply_outbox import ReplyOutbox
from bot.storage.blocked_chats import SQLiteBlockedChats
from bot.storage.inbox import SQLiteInbox
from bot.storage.reply_outbox import SQLiteReplyOutbox
from bot.storage.sqlite_store import SQLiteStore

ALICE = UserKey("telegram", "42")
BOB = UserKey("telegram", "43")


@dataclass
class Ports:
    """One implementation of each delivery port, sharing one database where there is one."""

    inbox: Inbox
    outbox: ReplyOutbox
    blocked: BlockedChats


@pytest.fixture(params=["memory", "sqlite"])
def ports(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ports]:
    if request.param == "memory":
        outbox = MemoryReplyOutbox("telegram")
        yield Ports(MemoryInbox(outbox), outbox, MemoryBlockedChats())
    else:
        store = SQLiteStore(tmp_path / "contract.db")
        yield Ports(SQLiteInbox(store), SQLiteReplyOutbox(store, "telegram"),
                    SQLiteBlockedChats(store, "telegram"))
        store.close()


def item(update_id: int, chat: str = "42") -> InboxItem:
    return InboxItem(update_id, chat, f"telegram:{chat}", {"update_id": update_id})


# ---------------------------------------------------------------------- inbox
def test_the_inbox_keeps_a_batch_once_and_returns_only_what_is_new(ports: Ports) -> None:
    assert [i.update_id for i in ports.inbox.add([item(1), item(2)])] == [1, 2]
    assert [i.update_id for i in ports.inbox.add([item(2), item(3)])] == [3]
    assert ports.inbox.pending() == [item(1), item(2), item(3)]


def test_a_handled_update_is_never_taken_back(ports: Ports) -> None:
    ports.inbox.add([item(1), item(2)])
    ports.inbox.done(item(1))
    assert ports.inbox.add([item(1)]) == []
    assert [i.update_id for i in ports.inbox.pending()] == [2]


def test_done_with_replies_queues_them_for_the_updates_chat(ports: Ports) -> None:
    ports.inbox.add([item(5, chat="-500")])
    ports.inbox.done(item(5, chat="-500"), ALICE, (Reply("sorry"),))
    assert [(q.chat_id, q.user_key, q.reply.text) for q in ports.outbox.pending("-500")] == [
        ("-500", "telegram:42", "sorry")]
    assert ports.inbox.pending() == []


def test_the_inbox_is_empty_at_first(ports: Ports) -> None:
    assert ports.inbox.pending() == []
    assert ports.inbox.add([]) == []


# ---------------------------------------------------------------------- reply outbox
def test_queued_replies_wait_in_order_per_chat(ports: Ports) -> None:
    ports.outbox.queue(BOB, "43", None, (Reply("b1"),))
    ports.outbox.queue(ALICE, "42", 7, (Reply("a1"), Reply("a2")))
    assert [q.reply.text for q in ports.outbox.pending("42")] == ["a1", "a2"]
    assert ports.outbox.chats_waiting() == ["43", "42"]


def test_progress_sent_and_failed_settle_a_reply(ports: Ports) -> None:
    ports.outbox.queue(ALICE, "42", None, (Reply("one"), Reply("two"), Reply("three")))
    first, second, _ = ports.outbox.pending("42")
    ports.outbox.progress(first.id, 2)
    assert ports.outbox.pending("42")[0].parts_sent == 2
    ports.outbox.sent(first.id)
    ports.outbox.failed(second.id, "Bad Request: chat not found")
    assert [q.reply.text for q in ports.outbox.pending("42")] == ["three"]


def test_holding_a_chat_sets_aside_only_its_pending_replies(ports: Ports) -> None:
    ports.outbox.queue(ALICE, "42", None, (Reply("a"),))
    ports.outbox.queue(BOB, "43", None, (Reply("b"),))
    ports.outbox.hold("42", "Forbidden: bot was blocked by the user")
    assert ports.outbox.pending("42") == []
    assert ports.outbox.chats_waiting() == ["43"]


def test_another_channels_replies_are_not_this_outboxs(ports: Ports) -> None:
    ports.outbox.queue(UserKey("console", "42"), "42", None, (Reply("elsewhere"),))
    assert ports.outbox.pending("42") == []
    assert ports.outbox.chats_waiting() == []


# ---------------------------------------------------------------------- blocked chats
def test_a_blocked_chat_is_known_until_it_writes_again(ports: Ports) -> None:
    assert not ports.blocked.is_blocked("42")
    ports.blocked.block("42", "telegram:42")
    ports.blocked.block("-500", None)
    assert ports.blocked.is_blocked("42")
    assert ports.blocked.chats() == ["-500", "42"]
    ports.blocked.unblock("42", "telegram:42")
    assert not ports.blocked.is_blocked("42")
    assert ports.blocked.chats() == ["-500"]


def test_blocking_twice_and_unblocking_an_unknown_chat_are_harmless(ports: Ports) -> None:
    ports.blocked.block("42", None)
    ports.blocked.block("42", None)
    ports.blocked.unblock("7", "telegram:7")
    assert ports.blocked.chats() == ["42"]
