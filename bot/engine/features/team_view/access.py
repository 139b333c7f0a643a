"""Who may see a team's view: coordinators (and admins) any team, managers the teams they manage."""

from __future__ import annotations

from bot.engine.core.events import UserKey
from bot.engine.ports.directory import Directory
from bot.engine.ports.teams import Team


def viewable_teams(directory: Directory, user: UserKey, coordinator: bool) -> list[Team]:
    """Teams whose view the user may see: all for coordinators (and admins), else managed ones."""
    if coordinator:
        return directory.teams()
    managed = {m.team_id for m in directory.memberships(user) if m.role == "manager"}
    return [t for t in directory.teams() if t.id in managed]
