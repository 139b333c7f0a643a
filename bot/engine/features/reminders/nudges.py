"""Sending due nudges and the one offer after quiet days, each claimed with its message.

The scheduler calls both at start-up and every tick. A nudge goes only between 08:00 and 20:00
in the user's zone, never within 3 days of the last one, never after two in a row went
unanswered, and only while the user is still in the cycle; each is claimed (re-planned) in the
transaction that queues it in the reply outbox, so it is sent once across restarts.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.definitions.model import Content
from bot.engine.core.events import Choice, Reply, UserKey
from bot.engine.core.records import Commit, Op, UserRecord
from bot.engine.features.practice.followups import user_key
from bot.engine.features.practice.timing import daytime
from bot.engine.features.reminders.feature import DAY, MIN_GAP_DAYS
from bot.engine.ports.practice import AlreadyClaimed
from bot.engine.ports.reminders import ClaimNudge, Reminder, ReminderBook
from bot.engine.ports.store import Store

BATCH = 500
QUIET_DAYS = 3
# Two nudges in a row with no word from the user since: no more nudges.
MAX_UNANSWERED = 2


def nudge_buttons(content: Content, locale: str) -> tuple[Choice, ...]:
    """*Carry on* / *Remind me in 3 days* / *No thanks*."""
    return (Choice("remind:carry", content.text("remind.carry_on", locale)),
            Choice("remind:set:3", content.text("remind.in_3_days", locale)),
            Choice("remind:no", content.text("remind.no", locale)))


def _commit(store: Store, key: UserKey, op: Op, reply: Reply | None) -> bool:
    try:
        store.commit(Commit(key, None, None, ops=(op,), replies=(reply,) if reply else ()))
    except AlreadyClaimed:
        return False  # another tick took it
    return reply is not None


Sent = list[tuple[UserKey, Reply]]


def decide(found: Reminder, record: UserRecord, now: float) -> ClaimNudge:
    """What to do with a due reminder: send it, wait, or stop."""
    zone = found.zone or "UTC"
    unanswered = found.unanswered
    if found.last_nudge_at is None or record.last_seen >= found.last_nudge_at:
        unanswered = 0  # they wrote since the last nudge
    if unanswered >= MAX_UNANSWERED or record.position("cycle") is None:
        return ClaimNudge(found.user, found.next_at, now, unanswered, None, sent=False)
    soonest = daytime(max(now, (found.last_nudge_at or 0.0) + MIN_GAP_DAYS * DAY), zone)
    if soonest > now:
        return ClaimNudge(found.user, found.next_at, now, unanswered, soonest, sent=False)
    return ClaimNudge(found.user, found.next_at, now, unanswered + 1,
                      daytime(now + MIN_GAP_DAYS * DAY, zone))


def send_nudges(book: ReminderBook, store: Store, content: Content, now: float,
                blocked: Callable[[str], bool] = lambda chat: False,
                only: str | None = None) -> Sent:
    """Claim and queue every due nudge (of user `only`, when given); each user and message."""
    told: Sent = []
    for found in book.due_nudges(now, BATCH):
        if only is not None and found.user != only:
            continue
        key = user_key(found.user)
        record = store.load_user(key)
        if record is None or not record.consent or blocked(key.id):
            continue
        claim = decide(found, record, now)
        reply = (Reply(content.text("remind.nudge", record.locale),
                       nudge_buttons(content, record.locale)) if claim.sent else None)
        if reply is not None and _commit(store, key, claim, reply):
            told.append((key, reply))
        elif reply is None:
            _commit(store, key, claim, None)
    return told


def send_quiet_offers(book: ReminderBook, store: Store, content: Content, now: float,
                      blocked: Callable[[str], bool] = lambda chat: False) -> Sent:
    """Once per user, after 3 days without a word mid-cycle: offer reminders (daytime UTC,
    their zone being unknown until they pick one)."""
    if daytime(now, "UTC") != now:
        return []
    told: Sent = []
    for user in book.quiet_users(now - QUIET_DAYS * DAY, BATCH):
        key = user_key(user)
        record = store.load_user(key)
        if record is None or blocked(key.id):
            continue
        offer = Reply(content.text("remind.offer_quiet", record.locale), (
            Choice("remind:set:1", content.text("remind.tomorrow", record.locale)),
            Choice("remind:set:3", content.text("remind.in_3_days", record.locale)),
            Choice("remind:no", content.text("remind.no", record.locale))))
        if _commit(store, key, ClaimNudge(user, None, now, 0, None, sent=False, offer=True),
                   offer):
            told.append((key, offer))
    return told
