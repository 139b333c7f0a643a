"""What the teams feature shows: member lists, cohorts and role names, in the user's words."""

from __future__ import annotations

from bot.engine.core.feature_api import TurnApi
from bot.engine.core.local_time import date_text
from bot.engine.core.pseudonyms import member_code_of
from bot.engine.ports.directory import Directory
from bot.engine.ports.teams import Invite, Team


def members_text(directory: Directory, turn: TurnApi, team: Team) -> str:
    """A team's members by code, managers marked, with when they joined."""
    members = directory.members(team.id)
    if not members:
        return turn.t("teams.members_empty", team=team.name)
    lines = [turn.t("teams.members_title", team=team.name, count=len(members))]
    for number, member in enumerate(members, start=1):
        role = turn.t("teams.member_manager") if member.role == "manager" else ""
        lines.append(turn.t("teams.member_line", number=number,
                            code=member_code_of(directory, member.user), role=role,
                            joined=date_text(member.joined_at)).rstrip())
    return "\n".join(lines)


def cohorts_text(directory: Directory, turn: TurnApi) -> str:
    """Every cohort with the teams in it."""
    cohorts = directory.cohorts()
    if not cohorts:
        return turn.t("teams.cohorts_none")
    names = {t.id: t.name for t in directory.teams()}
    return "\n".join(
        turn.t("teams.cohort_line", cohort=c.name,
               teams=", ".join(names[i] for i in c.team_ids if i in names)
               or turn.t("teams.cohort_empty"))
        for c in cohorts)


def role_name(turn: TurnApi, role: str | None) -> str:
    """A role's name in the user's language ('coordinator' -> 'a coordinator')."""
    if role == "admin":
        return turn.t("teams.role_name.admin")
    return turn.t("teams.role_name.coordinator")


def invite_text(turn: TurnApi, team: Team, invite: Invite, link: str) -> str:
    """A team's invite link, with its limits when it has any."""
    text = turn.t("teams.invite_link", team=team.name, link=link)
    if invite.max_uses is not None or invite.expires_at is not None:
        uses = (f"{invite.uses}/{invite.max_uses}" if invite.max_uses is not None
                else str(invite.uses))
        until = date_text(invite.expires_at) if invite.expires_at is not None else "-"
        text += "\n" + turn.t("teams.invite_limits", uses=uses, until=until)
    return text
