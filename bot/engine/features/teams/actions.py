"""Teams, cohorts, invite links and appointments: the actions behind both the chat and the CLI."""

from __future__ import annotations

import re
import secrets

from bot.engine.core.events import UserKey
from bot.engine.core.records import Op
from bot.engine.ports.directory import Directory, Rejected
from bot.engine.ports.directory_ops import (
    CreateCohort,
    CreateInvite,
    CreateTeam,
    JoinTeam,
    NewInvite,
    RevokeInvites,
    SetCohortTeam,
    SetMemberRole,
)
from bot.engine.ports.teams import Invite, Team

# Short names, so that `/cohort add north riverside` and `--audience team:riverside` need no
# quoting; Telegram shows them as they are.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
# Deep-link payloads must match [A-Za-z0-9_-]{1,64}; ours start with 'in-' so other features'
# payloads are left alone. 18 random bytes = 144 bits: unguessable.
INVITE_PREFIX = "in-"
ROLE_INVITE_DAYS = 7
DAY = 86400.0
def invite_link(bot_username: str, code: str) -> str:
    """The deep link that opens the bot with /start <code>."""
    return f"https://t.me/{bot_username}?start={code}"


def new_invite(kind: str, team_id: int | None, role: str | None, by: str | None, now: float,
               max_uses: int | None = None, days: float | None = None) -> NewInvite:
    """A fresh, unguessable invite code."""
    code = INVITE_PREFIX + secrets.token_urlsafe(18)
    return NewInvite(code, kind, team_id, role, by, now, max_uses,
                     now + days * DAY if days else None)


def check_name(name: str) -> str:
    """The name if it is a valid team or cohort name."""
    if not NAME_PATTERN.match(name):
        raise Rejected("teams.bad_name", name=name[:40])
    return name


def create_team(directory: Directory, name: str, by: str | None, now: float,
                max_uses: int | None = None, days: float | None = None) -> tuple[Op, NewInvite]:
    """The op creating a team with its first invite."""
    check_name(name)
    if directory.team_named(name) is not None:
        raise Rejected("teams.exists", name=name)
    invite = new_invite("team", None, None, by, now, max_uses, days)
    return CreateTeam(name, by, now, invite), invite


def find_team(directory: Directory, name: str) -> Team:
    """The team called `name`."""
    team = directory.team_named(name.strip())
    if team is None:
        names = ", ".join(t.name for t in directory.teams()[:20]) or "-"
        raise Rejected("teams.unknown", name=name.strip()[:40], teams=names)
    return team


def usable_invite(directory: Directory, team: Team, now: float) -> Invite | None:
    """The newest invite of the team that still works."""
    return next((i for i in directory.invites(team.id) if i.problem(now) is None), None)


def rotate_invite(team: Team, by: str | None, now: float, max_uses: int | None = None,
                  days: float | None = None) -> tuple[list[Op], NewInvite]:
    """Withdraw the team's links and make a new one."""
    invite = new_invite("team", team.id, None, by, now, max_uses, days)
    return [RevokeInvites(now, team_id=team.id), CreateInvite(invite)], invite


def appoint(directory: Directory, team: Team, user: UserKey, manager: bool,
            now: float) -> list[Op]:
    """Make someone a manager of a team (joining it if needed), or a plain member again."""
    if manager:
        return [JoinTeam(team.id, str(user), now, role="manager")]
    if not any(m.user == user for m in directory.members(team.id)):
        raise Rejected("teams.member_gone", team=team.name)
    return [SetMemberRole(team.id, str(user), "member")]


def create_cohort(directory: Directory, name: str, by: str | None, now: float) -> Op:
    """The op creating an empty cohort."""
    check_name(name)
    if directory.cohort_named(name) is not None:
        raise Rejected("teams.cohort_exists", name=name)
    return CreateCohort(name, by, now)


def cohort_team(directory: Directory, cohort_name: str, team_name: str,
                member: bool) -> tuple[Op, str, str]:
    """The op adding a team to a cohort (or removing it), with both names."""
    cohort = directory.cohort_named(cohort_name)
    if cohort is None:
        names = ", ".join(c.name for c in directory.cohorts()[:20]) or "-"
        raise Rejected("teams.cohort_unknown", name=cohort_name[:40], cohorts=names)
    team = find_team(directory, team_name)
    return SetCohortTeam(cohort.id, team.id, member), cohort.name, team.name


def usable(directory: Directory, code: str, now: float) -> Invite:
    """The invite with this code if it still works; rejects wrong, withdrawn, old, used up."""
    invite = directory.invite(code)
    if invite is None:
        raise Rejected("teams.invite_invalid")
    problem = invite.problem(now)
    if problem == "revoked":
        raise Rejected("teams.invite_revoked_error")
    if problem == "expired":
        raise Rejected("teams.invite_expired")
    if problem == "used_up":
        raise Rejected("teams.invite_used_up")
    return invite


def role_link_state(invite: Invite, maker_may_grant: bool, now: float) -> str:
    """'usable', 'revoked', 'expired', 'used_up', or 'maker_lapsed' (maker no longer admin)."""
    problem = invite.problem(now)
    if problem is not None:
        return problem
    return "usable" if maker_may_grant else "maker_lapsed"
