"""The coordinator's port: who is in which team and cohort, broadcasts, deliveries, schedules."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from bot.definitions.model import Content
from bot.engine.core.events import UserKey
from bot.engine.core.records import Commit, Op
from bot.engine.ports.store import Store

# Writes made outside a user's turn (the scheduler, the CLI) are committed under this key; it
# never has a user record, so only the ops of such a commit are written.
SYSTEM = UserKey("system", "ccbot")
EVERYONE = "everyone"
# Delivery statuses of one recipient's copy of a broadcast (docs/BROADCASTS.md).
PENDING, SENDING, SENT, FAILED, BLOCKED = "pending", "sending", "sent", "failed", "blocked"
DELIVERY_STATUSES = (PENDING, SENDING, SENT, FAILED, BLOCKED)


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


@dataclass(frozen=True)
class Team:
    """A team: people who joined by its invite link, some of them its managers."""

    id: int
    name: str
    created_at: float


@dataclass(frozen=True)
class Member:
    """One person's membership of a team; role is 'member' or 'manager'."""

    team_id: int
    user: UserKey
    role: str
    joined_at: float


@dataclass(frozen=True)
class Invite:
    """A deep-link code: joins a team (kind 'team') or grants a role (kind 'role')."""

    code: str
    kind: str
    team_id: int | None
    role: str | None
    created_at: float
    max_uses: int | None = None
    uses: int = 0
    expires_at: float | None = None
    revoked_at: float | None = None
    created_by: str | None = None

    def problem(self, now: float) -> str | None:
        """Why the code can no longer be used ('revoked', 'expired', 'used_up'), or None."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and now >= self.expires_at:
            return "expired"
        if self.max_uses is not None and self.uses >= self.max_uses:
            return "used_up"
        return None


@dataclass(frozen=True)
class Cohort:
    """A named set of teams to broadcast to."""

    id: int
    name: str
    team_ids: tuple[int, ...]


@dataclass(frozen=True)
class Recipient:
    """Someone a broadcast will be delivered to, in their private chat."""

    user: UserKey
    chat_id: str
    locale: str


@dataclass(frozen=True)
class NewBroadcast:
    """A broadcast to create: who asked, to whom, and what (a prompt id or a text)."""

    created_by: str | None
    audience: str
    audience_label: str
    kind: str  # 'prompt' or 'text'
    question: str | None
    body: str | None
    created_at: float
    schedule_id: int | None = None
    progress_chat_id: str | None = None


@dataclass(frozen=True)
class Broadcast:
    """A stored broadcast; status is 'sending' until every copy has an outcome, then 'done'."""

    id: int
    created_by: str | None
    audience: str
    audience_label: str
    kind: str
    question: str | None
    body: str | None
    created_at: float
    status: str
    schedule_id: int | None = None
    progress_chat_id: str | None = None
    progress_message_id: int | None = None
    in_flight_at_restart: int = 0
    finished_at: float | None = None


@dataclass(frozen=True)
class Delivery:
    """One recipient's copy of a broadcast: an outbox row (docs/BROADCASTS.md)."""

    id: int
    broadcast_id: int
    user: UserKey
    channel: str
    chat_id: str
    status: str
    attempts: int = 0
    last_error: str | None = None
    next_attempt_at: float = 0.0
    sent_at: float | None = None
    message_id: int | None = None
    locale: str = "en"
    resent_after_restart: bool = False


@dataclass(frozen=True)
class Progress:
    """How far a broadcast has got."""

    total: int = 0
    sent: int = 0
    failed: int = 0
    blocked: int = 0
    pending: int = 0
    sending: int = 0

    @property
    def remaining(self) -> int:
        """Copies without an outcome yet (waiting, or being sent right now)."""
        return self.pending + self.sending

    @property
    def done(self) -> bool:
        """True when every copy is sent, failed or blocked."""
        return self.remaining == 0


@dataclass(frozen=True)
class BroadcastAnswer:
    """A recipient's answer to a broadcast: a level, a reflection, or both."""

    broadcast_id: int
    user: UserKey
    level: int | None
    note: str | None
    answered_at: float


@dataclass(frozen=True)
class Report:
    """What happened to a broadcast: outcomes, failure reasons and answers."""

    broadcast: Broadcast
    progress: Progress
    failures: tuple[tuple[str, int], ...]
    answered: int
    distribution: tuple[tuple[int, int], ...]
    notes: int


@dataclass(frozen=True)
class NewSchedule:
    """A schedule to create (see bot/engine/features/broadcasts/schedules.py for the rules)."""

    created_by: str | None
    frequency: str  # 'daily', 'weekly' or 'once'
    weekday: int | None  # 0 = Monday, for weekly
    local_time: str  # 'HH:MM'
    timezone: str
    audience: str
    audience_label: str
    kind: str  # 'prompt', 'text' or 'cycle' (the next sub-component each run)
    question: str | None
    body: str | None
    next_run_at: float
    created_at: float


@dataclass(frozen=True)
class Schedule:
    """A stored schedule; status 'active', 'cancelled' or 'done' (a one-off that ran)."""

    id: int
    created_by: str | None
    frequency: str
    weekday: int | None
    local_time: str
    timezone: str
    audience: str
    audience_label: str
    kind: str
    question: str | None
    body: str | None
    next_run_at: float
    created_at: float
    status: str = "active"
    cycle_index: int = 0
    last_run_at: float | None = None
    last_result: str | None = None


@dataclass(frozen=True)
class ResponseRow:
    """One recipient's answer for the export, before pseudonymisation."""

    broadcast_id: int
    broadcast_at: float
    audience_label: str
    kind: str
    question: str | None
    user: UserKey
    level: int | None
    note: str | None
    answered_at: float
    teams: tuple[str, ...]


@dataclass(frozen=True)
class TeamActivity:
    """How much a team has used the bot (defined in features/team_view/figures.py)."""

    members: int
    active: int  # members seen since the given time
    steps: int  # distinct (member, cycle, sub-component) answered with a level in the cycle


@dataclass(frozen=True)
class Digest:
    """A manager's weekly /team summary: when it runs, in their local time, and for which team."""

    id: int
    user: UserKey
    team_id: int
    weekday: int  # 0 = Monday
    local_time: str  # 'HH:MM'
    timezone: str
    next_run_at: float
    created_at: float
    last_run_at: float | None = None
    last_result: str | None = None


class AlreadyRun(Exception):
    """This run of a digest was claimed by someone else first; the transaction is undone."""


class Directory(Protocol):
    """Reads the coordinator features need; writes go through the ops in directory_ops."""

    def setting(self, name: str) -> str | None:
        """A stored setting (e.g. 'bot_username', 'pseudonym_secret')."""
        ...

    def granted_roles(self, user: UserKey) -> frozenset[str]:
        """Roles granted to the user (coordinator, admin); not CCBOT_ADMINS, not manager."""
        ...

    def grants(self) -> list[tuple[str, str, float]]:
        """Every stored grant as (user key, role, granted at), sorted."""
        ...

    def teams(self) -> list[Team]:
        """Every team, by name."""
        ...

    def team(self, team_id: int) -> Team | None:
        """The team with this id."""
        ...

    def team_named(self, name: str) -> Team | None:
        """The team with this name (case-insensitive)."""
        ...

    def memberships(self, user: UserKey) -> list[Member]:
        """The user's memberships, by team id."""
        ...

    def members(self, team_id: int) -> list[Member]:
        """A team's members, in order of joining."""
        ...

    def invite(self, code: str) -> Invite | None:
        """The invite with this code, whatever its state."""
        ...

    def invites(self, team_id: int) -> list[Invite]:
        """A team's invites, newest first."""
        ...

    def cohorts(self) -> list[Cohort]:
        """Every cohort, by name."""
        ...

    def cohort(self, cohort_id: int) -> Cohort | None:
        """The cohort with this id."""
        ...

    def cohort_named(self, name: str) -> Cohort | None:
        """The cohort with this name (case-insensitive)."""
        ...

    def recipients(self, audience: str, channels: Iterable[str]) -> list[Recipient]:
        """Who a broadcast to `audience` reaches now: consented, not blocked, on `channels`."""
        ...

    def broadcast(self, broadcast_id: int) -> Broadcast | None:
        """The broadcast with this id."""
        ...

    def broadcasts(self, limit: int, created_by: str | None = None) -> list[Broadcast]:
        """The newest broadcasts (by one creator when given), newest first."""
        ...

    def delivery_of(self, broadcast_id: int, user: UserKey) -> Delivery | None:
        """The user's copy of a broadcast; None when they are not a recipient."""
        ...

    def answer_of(self, broadcast_id: int, user: UserKey) -> BroadcastAnswer | None:
        """The user's answer to a broadcast, if any."""
        ...

    def report(self, broadcast_id: int) -> Report | None:
        """Outcomes and answers of a broadcast."""
        ...

    def schedules(self, active_only: bool = True) -> list[Schedule]:
        """Schedules by id."""
        ...

    def schedule(self, schedule_id: int) -> Schedule | None:
        """The schedule with this id."""
        ...

    def due_schedules(self, now: float) -> list[Schedule]:
        """Active schedules whose next run is at or before `now`."""
        ...

    def responses(self) -> list[ResponseRow]:
        """Every answer to every broadcast, oldest broadcast first."""
        ...

    def team_levels(self, team_id: int) -> list[tuple[str, str, int]]:
        """(user key, sub-component, level): each current member's latest cycle level.

        Levels only, never notes: team views are built from this and team_activity alone.
        """
        ...

    def team_activity(self, team_id: int, since: float) -> TeamActivity:
        """Members, members seen at or after `since`, and cycle steps answered with a level."""
        ...

    def digests(self, user: UserKey | None = None) -> list[Digest]:
        """Weekly digests (of one user when given), by id."""
        ...

    def digests_due(self, now: float) -> list[Digest]:
        """Digests whose next run is at or before `now`, by id."""
        ...


class Outbox(Protocol):
    """What the broadcast sender calls; each call is its own short transaction."""

    def claim_due(self, channel: str, now: float, limit: int) -> list[Delivery]:
        """Mark up to `limit` due pending copies 'sending' (one per chat) and return them."""
        ...

    def mark_sent(self, delivery_id: int, message_id: int | None, at: float) -> bool:
        """A claimed copy was accepted by the platform; False if it was not 'sending'."""
        ...

    def mark_retry(self, delivery_id: int, error: str, next_attempt_at: float) -> bool:
        """A claimed copy failed for now (429, 5xx, timeout); try again at `next_attempt_at`."""
        ...

    def mark_failed(self, delivery_id: int, error: str, at: float) -> bool:
        """A claimed copy failed for good; `error` is the reason shown in the report."""
        ...

    def mark_blocked(self, delivery_id: int, error: str, at: float) -> bool:
        """The recipient blocked the bot: this copy and their other pending ones are skipped."""
        ...

    def unblock(self, user: UserKey) -> None:
        """The user can be reached again (they wrote to the bot or restarted it)."""
        ...

    def progress(self, broadcast_id: int) -> Progress:
        """Counts per outcome."""
        ...

    def recover_in_flight(self, now: float) -> dict[int, int]:
        """At start-up: copies left 'sending' by a crash go back to 'pending'; counts per id."""
        ...

    def set_progress_message(self, broadcast_id: int, message_id: int) -> None:
        """Remember the coordinator's progress message, to edit it after a restart."""
        ...

    def unfinished(self) -> list[Broadcast]:
        """Broadcasts still sending, oldest first."""
        ...


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
