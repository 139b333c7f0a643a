"""The writes of the coordinator features: ops committed in the same transaction as a turn."""

from __future__ import annotations

from dataclasses import dataclass

from bot.engine.core.records import Op
from bot.engine.ports.broadcasts import NewBroadcast, Recipient
from bot.engine.ports.schedules import NewSchedule


@dataclass(frozen=True)
class SetSetting(Op):
    """Store a setting; with keep=True an existing value is kept (generate-once secrets)."""

    name: str
    value: str
    keep: bool = False


@dataclass(frozen=True)
class GrantRole(Op):
    """Grant a stored role (coordinator or admin)."""

    user: str
    role: str
    by: str | None
    at: float


@dataclass(frozen=True)
class RevokeRole(Op):
    """Take a stored role away."""

    user: str
    role: str


@dataclass(frozen=True)
class NewInvite:
    """An invite code to create; team_id None on a CreateTeam means the team being created."""

    code: str
    kind: str
    team_id: int | None
    role: str | None
    by: str | None
    at: float
    max_uses: int | None = None
    expires_at: float | None = None


@dataclass(frozen=True)
class CreateTeam(Op):
    """Create a team and its first invite."""

    name: str
    by: str | None
    at: float
    invite: NewInvite


@dataclass(frozen=True)
class CreateInvite(Op):
    """Create an invite code."""

    invite: NewInvite


@dataclass(frozen=True)
class RevokeInvites(Op):
    """Revoke every usable invite of a team (team_id) or one code (code)."""

    at: float
    team_id: int | None = None
    code: str | None = None


@dataclass(frozen=True)
class ConsumeInvite(Op):
    """Count one use of an invite code."""

    code: str


@dataclass(frozen=True)
class JoinTeam(Op):
    """Add the user to a team as a member (or as a manager); a member already stays."""

    team_id: int
    user: str
    at: float
    role: str = "member"


@dataclass(frozen=True)
class SetMemberRole(Op):
    """Make a member a manager of their team, or a plain member again."""

    team_id: int
    user: str
    role: str


@dataclass(frozen=True)
class LeaveTeam(Op):
    """Remove the user from a team."""

    team_id: int
    user: str


@dataclass(frozen=True)
class CreateCohort(Op):
    """Create an empty cohort."""

    name: str
    by: str | None
    at: float


@dataclass(frozen=True)
class SetCohortTeam(Op):
    """Add a team to a cohort (member=True) or take it out."""

    cohort_id: int
    team_id: int
    member: bool


@dataclass(frozen=True)
class CreateBroadcast(Op):
    """A broadcast row and one pending outbox row per recipient, together."""

    broadcast: NewBroadcast
    recipients: tuple[Recipient, ...]


@dataclass(frozen=True)
class RecordAnswer(Op):
    """A recipient's level for a broadcast; the first answer is kept."""

    broadcast_id: int
    user: str
    level: int
    at: float


@dataclass(frozen=True)
class RecordNote(Op):
    """A recipient's reflection on a broadcast; a later one replaces it."""

    broadcast_id: int
    user: str
    note: str
    at: float


@dataclass(frozen=True)
class CreateSchedule(Op):
    """Store a schedule."""

    schedule: NewSchedule


@dataclass(frozen=True)
class CancelSchedule(Op):
    """Stop a schedule."""

    schedule_id: int
    at: float


@dataclass(frozen=True)
class RunSchedule(Op):
    """One run of a schedule: advance it and create its broadcast, only if nobody else has.

    The advance is a compare-and-set on `expected_next_run`, so a run is created once even
    if two schedulers race; `next_run_at` None ends a one-off schedule.
    """

    schedule_id: int
    expected_next_run: float
    next_run_at: float | None
    cycle_index: int
    at: float
    result: str
    broadcast: NewBroadcast | None
    recipients: tuple[Recipient, ...] = ()


@dataclass(frozen=True)
class SetDigest(Op):
    """Turn on a user's weekly digest of a team, or move it to a new day and time."""

    user: str
    team_id: int
    weekday: int
    local_time: str
    timezone: str
    next_run_at: float
    at: float


@dataclass(frozen=True)
class StopDigest(Op):
    """Turn off a user's digest of one team, or of every team when team_id is None."""

    user: str
    team_id: int | None = None


@dataclass(frozen=True)
class RunDigest(Op):
    """Claim one run of a digest and re-arm it: a compare-and-set on next_run_at.

    When next_run_at no longer equals `expected_next_run` (another scheduler ran it), the
    handler raises AlreadyRun so that the whole commit, replies included, is undone.
    """

    digest_id: int
    expected_next_run: float
    next_run_at: float
    at: float
    result: str
