"""The in-memory twin of the dashboard port (bot/storage/dashboard_store.py is the SQLite one)."""

from __future__ import annotations

import hmac
import threading
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from bot.engine.core.events import UserKey
from bot.engine.core.records import Op
from bot.engine.memory.store import MemoryStore
from bot.engine.ports.dashboard import IssueLogin, Session, View, WeekCount


class MemoryDashboard:
    """Links, sessions, views and frozen counts in dicts; links arrive as ops (see `attach`)."""

    def __init__(self) -> None:
        self._links: dict[str, tuple[IssueLogin, float | None]] = {}
        self._sessions: dict[str, Session] = {}
        self._views: list[View] = []
        self._weeks: dict[tuple[float, str], WeekCount] = {}
        self._lock = threading.Lock()

    def apply(self, op: Op) -> None:
        assert isinstance(op, IssueLogin)
        with self._lock:
            self._links[op.token_hash] = (op, None)

    def redeem(self, token_hash: str, now: float) -> str | None:
        with self._lock:
            found = next((h for h in self._links if hmac.compare_digest(h, token_hash)), None)
            if found is None:
                return None
            link, used = self._links[found]
            if used is not None or link.expires_at <= now:
                return None
            self._links[found] = (link, now)
            return link.user

    def start_session(self, session: Session) -> None:
        with self._lock:
            self._sessions[session.session_hash] = session

    def session(self, session_hash: str, now: float) -> Session | None:
        with self._lock:
            found = self._sessions.get(session_hash)
        return found if found is not None and found.expires_at > now else None

    def end_session(self, session_hash: str) -> None:
        with self._lock:
            self._sessions.pop(session_hash, None)

    def end_sessions_of(self, user: str) -> None:
        with self._lock:
            self._sessions = {h: s for h, s in self._sessions.items() if s.user != user}

    def record_view(self, view: View) -> None:
        with self._lock:
            self._views.append(view)

    def views(self, user: str) -> list[View]:
        with self._lock:
            return [v for v in self._views if v.user == user]

    def frozen_weeks(self, week_starts: list[float]) -> list[WeekCount]:
        wanted = set(week_starts)
        with self._lock:
            return [c for c in self._weeks.values() if c.week_start in wanted]

    def frozen_funnels(self, until: float) -> list[WeekCount]:
        with self._lock:
            return [c for c in self._weeks.values()
                    if c.metric.startswith("step:") and c.week_start <= until]

    def freeze_weeks(self, counts: list[WeekCount]) -> None:
        with self._lock:
            for count in counts:
                self._weeks.setdefault((count.week_start, count.metric), count)

    def forget(self, user: str) -> None:
        """/forget: the user's links, sessions and page views go."""
        with self._lock:
            self._links = {h: v for h, v in self._links.items() if v[0].user != user}
            self._sessions = {h: s for h, s in self._sessions.items() if s.user != user}
            self._views = [v for v in self._views if v.user != user]

    def export(self, key: UserKey) -> dict[str, list[dict[str, Any]]]:
        """The user's rows, per table, for /mydata (never a token: only its hash is kept)."""
        user = str(key)
        with self._lock:
            links = [{**asdict(link), "used_at": used} for link, used in self._links.values()
                     if link.user == user]
            sessions = [asdict(s) for s in self._sessions.values() if s.user == user]
            views = [asdict(v) for v in self._views if v.user == user]
        return {"dashboard_links": links, "dashboard_sessions": sessions,
                "dashboard_views": views}


def attach(store: MemoryStore, dashboard: MemoryDashboard | None = None) -> MemoryDashboard:
    """Register the dashboard's op, forget handler and /mydata tables on a MemoryStore."""
    book = dashboard or MemoryDashboard()
    store.op_handlers[IssueLogin] = lambda _store, op: book.apply(op)
    store.forget_handlers.append(lambda _store, user: book.forget(str(user)))
    for table in ("dashboard_links", "dashboard_sessions", "dashboard_views"):
        store.exporters[table] = _exporter(book, table)
    return book


def _exporter(book: MemoryDashboard, table: str) -> Callable[[UserKey], list[dict[str, Any]]]:
    return lambda key: book.export(key)[table]
