"""Sending the follow-ups that are due: each claimed with its message in one commit.

The scheduler calls send_due() at start-up and then every tick. A follow-up is claimed (its
due time cleared) in the same transaction that queues its message in the reply outbox, so it
is sent once even across a restart or kill -9 (a message in flight at a kill may go twice, as
for any reply); only the due rows are read, through an index on the due time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.definitions.model import Content
from bot.engine.core.events import Reply, UserKey
from bot.engine.core.records import Commit
from bot.engine.features.practice.views import followup_text
from bot.engine.ports.practice import AlreadyClaimed, ClaimFollowUp, PracticeBook
from bot.engine.ports.store import Store

log = logging.getLogger(__name__)

# Follow-ups handled per tick; the rest wait for the next tick (a minute later), so one tick
# never holds the database for long.
BATCH = 500


def user_key(text: str) -> UserKey:
    """'telegram:123' as a UserKey."""
    channel, _, ident = text.partition(":")
    return UserKey(channel, ident)


def send_due(book: PracticeBook, store: Store, content: Content, now: float,
             blocked: Callable[[str], bool] = lambda chat: False,
             channels: tuple[str, ...] = ("telegram", "console"),
             only: str | None = None) -> list[tuple[UserKey, Reply]]:
    """Claim and queue every due follow-up (of user `only`, when given: the terminal chat);
    returns each user with a new message, and that message."""
    told: list[tuple[UserKey, Reply]] = []
    for commitment in book.due_followups(now, BATCH):
        if only is not None and commitment.user != only:
            continue
        key = user_key(commitment.user)
        record = store.load_user(key)
        if record is None or not record.consent or key.channel not in channels:
            continue  # a forgotten user's rows are gone with them; this is a moment's race
        if blocked(key.id):
            continue  # waits, unclaimed, until they write again
        text, buttons = followup_text(content, commitment, record.locale)
        claim = ClaimFollowUp(commitment.id, commitment.due_at or now)
        reply = Reply(text, buttons)
        try:
            store.commit(Commit(key, None, None, ops=(claim,), replies=(reply,)))
        except AlreadyClaimed:
            continue  # another process sent it
        told.append((key, reply))
    if told:
        log.info("sent %d follow-up(s)", len(told))
    return told
