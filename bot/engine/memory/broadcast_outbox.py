"""The in-memory twin of the broadcast outbox: claiming, settling and recovering deliveries."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import replace
from typing import Any

from bot.engine.core.events import UserKey
from bot.engine.memory.blocked_chats import MemoryBlockedChats
from bot.engine.memory.store import MemoryStore
from bot.engine.ports.broadcasts import (
    BLOCKED,
    BLOCKED_EARLIER,
    FAILED,
    PENDING,
    SENDING,
    SENT,
    Broadcast,
    Delivery,
    Progress,
)


class BroadcastOutboxMemory:
    """Deliveries of broadcasts in dicts, claimed and settled as the SQLite outbox does."""

    store: MemoryStore
    _lock: threading.RLock
    _broadcasts: dict[int, Broadcast]
    _deliveries: dict[int, Delivery]
    blocked: MemoryBlockedChats

    def claim_due(self, channel: str, now: float, limit: int) -> list[Delivery]:
        locales = {r.key: r.locale for r in self.store.users()}
        with self._lock:
            due = sorted((d for d in self._deliveries.values()
                          if d.status == PENDING and d.channel == channel
                          and d.next_attempt_at <= now
                          and self._broadcasts[d.broadcast_id].status == "sending"),
                         key=lambda d: (d.next_attempt_at, d.id))
            claimed: list[Delivery] = []
            chats: set[str] = set()
            for d in due:
                if len(claimed) >= limit:
                    break
                if str(d.user) in self.blocked.users:
                    self._deliveries[d.id] = replace(d, status=BLOCKED,
                                                     last_error=BLOCKED_EARLIER)
                    self._finish_if_done(d.broadcast_id, now)
                    continue
                if d.chat_id in chats:
                    continue
                chats.add(d.chat_id)
                row = replace(d, status=SENDING, attempts=d.attempts + 1,
                              locale=locales.get(d.user, d.locale))
                self._deliveries[d.id] = row
                claimed.append(row)
            return claimed

    def _mark(self, delivery_id: int, at: float, **changes: Any) -> bool:
        with self._lock:
            row = self._deliveries.get(delivery_id)
            if row is None or row.status != SENDING:
                return False
            self._deliveries[delivery_id] = replace(row, **changes)
            self._finish_if_done(row.broadcast_id, at)
            return True

    def mark_sent(self, delivery_id: int, message_id: int | None, at: float) -> bool:
        return self._mark(delivery_id, at, status=SENT, sent_at=at, message_id=message_id,
                          last_error=None)

    def mark_retry(self, delivery_id: int, error: str, next_attempt_at: float) -> bool:
        return self._mark(delivery_id, next_attempt_at, status=PENDING, last_error=error,
                          next_attempt_at=next_attempt_at)

    def mark_failed(self, delivery_id: int, error: str, at: float) -> bool:
        return self._mark(delivery_id, at, status=FAILED, last_error=error)

    def mark_blocked(self, delivery_id: int, error: str, at: float) -> bool:
        with self._lock:
            row = self._deliveries.get(delivery_id)
            if row is None or not self._mark(delivery_id, at, status=BLOCKED, last_error=error):
                return False
            self.blocked.block(row.chat_id, str(row.user))
            for other in list(self._deliveries.values()):
                if other.user == row.user and other.status == PENDING:
                    self._deliveries[other.id] = replace(other, status=BLOCKED,
                                                         last_error=BLOCKED_EARLIER)
                    self._finish_if_done(other.broadcast_id, at)
            return True

    def unblock(self, user: UserKey) -> None:
        with self._lock:
            self.blocked.unblock(user.id, str(user))

    def progress(self, broadcast_id: int) -> Progress:
        with self._lock:
            counts = Counter(d.status for d in self._deliveries.values()
                             if d.broadcast_id == broadcast_id)
            return Progress(sum(counts.values()), counts[SENT], counts[FAILED],
                            counts[BLOCKED], counts[PENDING], counts[SENDING])

    def recover_in_flight(self, now: float) -> dict[int, int]:
        with self._lock:
            found: Counter[int] = Counter()
            for d in list(self._deliveries.values()):
                if d.status == SENDING:
                    found[d.broadcast_id] += 1
                    self._deliveries[d.id] = replace(d, status=PENDING, next_attempt_at=now,
                                                     resent_after_restart=True)
            for bid, n in found.items():
                b = self._broadcasts[bid]
                self._broadcasts[bid] = replace(b, in_flight_at_restart=b.in_flight_at_restart + n)
            return dict(found)

    def set_progress_message(self, broadcast_id: int, message_id: int) -> None:
        with self._lock:
            b = self._broadcasts.get(broadcast_id)
            if b is not None:
                self._broadcasts[broadcast_id] = replace(b, progress_message_id=message_id)

    def unfinished(self) -> list[Broadcast]:
        with self._lock:
            return sorted((b for b in self._broadcasts.values() if b.status == "sending"),
                          key=lambda b: b.id)

    def _finish_if_done(self, broadcast_id: int, at: float) -> None:
        b = self._broadcasts[broadcast_id]
        if b.status == "sending" and not any(
                d.broadcast_id == broadcast_id and d.status in (PENDING, SENDING)
                for d in self._deliveries.values()):
            self._broadcasts[broadcast_id] = replace(b, status="done", finished_at=at)
