"""A team's last few closed rounds side by side, each released through `release_team`.

The dashboard's team page: the newest closed round comes from `view_team` (which also closes
due rounds); earlier ones are released the same way, each checked against the viewer's
ledger together with what this same page releases before it, so rounds side by side can
never be subtracted to single someone out.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.definitions.model import Content
from bot.engine.core.records import Op
from bot.engine.ports.directory import Directory
from bot.engine.ports.releases import RecordRelease, Released
from bot.engine.ports.teams import Team
from bot.engine.release.figures import TeamRelease
from bot.engine.release.requests import TeamView, view_team
from bot.engine.release.team import TeamRequest, release_team

EARLIER_ROUNDS = 3


@dataclass(frozen=True)
class TeamHistory:
    """The newest view, the earlier rounds' releases (newest first), and every op to commit."""

    view: TeamView
    earlier: tuple[TeamRelease, ...]
    ops: tuple[Op, ...]

    @property
    def ledger_added(self) -> tuple[Released, ...]:
        """What this page adds to the viewer's ledger."""
        return tuple(r for op in self.ops if isinstance(op, RecordRelease) for r in op.rows)


def view_history(directory: Directory, content: Content, team: Team, viewer: str, now: float,
                 earlier_rounds: int = EARLIER_ROUNDS) -> TeamHistory:
    """Release the team's last closed round and up to `earlier_rounds` before it to `viewer`."""
    view = view_team(directory, content, team, viewer, now)
    ops: list[Op] = list(view.ops)
    ledger = list(directory.released(viewer))
    ledger += [r for op in view.ops if isinstance(op, RecordRelease) for r in op.rows]
    closed = [r for r in directory.rounds(team.id) if r.closed]
    last = view.rounds.last
    # Rounds view_team closed just now are not stored yet; they are newer than these.
    older = [r for r in closed if last is None or r.number < last.number]
    members = len(directory.members(team.id))
    releases = []
    for past in reversed(older[-earlier_rounds:]):
        request = TeamRequest(viewer, f"team:{team.id} round:{past.number}", past.number,
                              past.closed_at, tuple(directory.round_answers(past.id)), members,
                              0, tuple(ledger), view.rules, now)
        release = release_team(content, request)
        if release.recorded:
            ops.append(RecordRelease(release.recorded, view.rules.minimum))
            ledger += release.recorded
        releases.append(release)
    return TeamHistory(view, tuple(releases), tuple(ops))
