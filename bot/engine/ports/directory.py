"""The coordinator features' port, composed of one small port per concern, and its helpers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from bot.definitions.model import Content
from bot.engine.core.events import UserKey
from bot.engine.core.records import Commit, Op
from bot.engine.ports.broadcasts import BroadcastReads
from bot.engine.ports.pseudonyms import PseudonymKeys
from bot.engine.ports.releases import ReleaseBook
from bot.engine.ports.schedules import ScheduleBook
from bot.engine.ports.settings import Grants, Settings
from bot.engine.ports.store import Store
from bot.engine.ports.team_reads import TeamReads
from bot.engine.ports.teams import TeamBook

# Writes made outside a user's turn (the scheduler, the CLI) are committed under this key; it
# never has a user record, so only the ops of such a commit are written.
SYSTEM = UserKey("system", "ccbot")
EVERYONE = "everyone"


def parse_key(text: str) -> UserKey:
    """'telegram:123' -> UserKey('telegram', '123')."""
    channel, _, ident = text.partition(":")
    return UserKey(channel, ident)


def audience_of(kind: str, ident: int | None = None) -> str:
    """The stored form of an audience: 'team:3', 'cohort:2' or 'everyone'."""
    return EVERYONE if kind == EVERYONE else f"{kind}:{ident}"


def split_audience(audience: str) -> tuple[str, int | None]:
    """('team', 3), ('cohort', 2) or ('everyone', None); ('', None) when malformed."""
    if audience == EVERYONE:
        return EVERYONE, None
    kind, _, ident = audience.partition(":")
    if kind in ("team", "cohort") and ident.isdigit():
        return kind, int(ident)
    return "", None


class Directory(Settings, Grants, TeamBook, BroadcastReads, ScheduleBook, TeamReads,
                PseudonymKeys, ReleaseBook, Protocol):
    """Every read the coordinator features make; writes go through the ops in directory_ops."""


def commit_ops(store: Store, ops: Iterable[Op]) -> None:
    """Write ops outside a user's turn (scheduler, CLI), in one transaction."""
    batch = tuple(ops)
    if batch:
        store.commit(Commit(SYSTEM, None, None, ops=batch))


class Rejected(Exception):
    """A request that cannot be done; `message_id` and `values` say why in the user's words.

    Every id raised is listed in TEAMS_MESSAGES or BROADCAST_MESSAGES (a test checks it), so
    `ccbot validate` knows it must exist.
    """

    def __init__(self, message_id: str, **values: object) -> None:
        super().__init__(message_id)
        self.message_id = message_id
        self.values = values

    def text(self, content: Content, locale: str) -> str:
        """The explanation in the user's locale."""
        return content.text(self.message_id, locale, **self.values)
