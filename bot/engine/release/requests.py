"""Gathering what a release needs through the Directory port: rounds, answers, the ledger.

This is the release module's front door for the chat (/team, the digest), the command line
and the dashboard: one call per team view, which returns the release and the ops to commit
(closing due rounds, and recording what was shown) in the same transaction as the reply.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.definitions.model import Content
from bot.engine.core.records import Op
from bot.engine.ports.broadcasts import Broadcast
from bot.engine.ports.directory import Directory
from bot.engine.ports.releases import RecordRelease
from bot.engine.ports.teams import Team
from bot.engine.release.figures import Distribution, TeamRelease
from bot.engine.release.report import release_distribution
from bot.engine.release.rounds import RoundState, settle
from bot.engine.release.rules import RULE_SETTINGS, Rules, rules_from
from bot.engine.release.team import TeamRequest, release_team


@dataclass(frozen=True)
class TeamView:
    """A release of one team to one viewer, and the ops that must be committed with it."""

    release: TeamRelease
    rounds: RoundState
    rules: Rules
    ops: tuple[Op, ...]


def directory_rules(directory: Directory) -> Rules:
    """The deployment's rules, from settings stored in the database (defaults when unset)."""
    return rules_from({n: v for n in RULE_SETTINGS if (v := directory.setting(n)) is not None})


def view_team(directory: Directory, content: Content, team: Team, viewer: str, now: float,
              rules: Rules | None = None) -> TeamView:
    """Bring the team's rounds up to now and release its last closed round to `viewer`."""
    rules = rules or directory_rules(directory)
    state = settle(directory, team.id, team.created_at, now, rules)
    last = state.last
    source = f"team:{team.id} round:{last.number}" if last else f"team:{team.id} round:-"
    open_people = {a.person for a in directory.round_levels(team.id, state.open.opened_at, now)}
    request = TeamRequest(
        viewer, source, last.number if last else None, last.closed_at if last else None,
        state.answers, len(directory.members(team.id)), len(open_people - {viewer}),
        tuple(directory.released(viewer)), rules, now)
    release = release_team(content, request)
    ops = state.ops + ((RecordRelease(release.recorded, rules.minimum),)
                       if release.recorded else ())
    return TeamView(release, state, rules, ops)


def view_distribution(directory: Directory, broadcast: Broadcast, viewer: str,
                      now: float) -> Distribution | None:
    """How a broadcast prompt was answered, as `viewer` may see it; None for a text message."""
    if broadcast.kind != "prompt" or not broadcast.question:
        return None
    return release_distribution(viewer, broadcast.id, broadcast.question,
                                directory.broadcast_levels(broadcast.id),
                                directory.released(viewer), directory_rules(directory), now)
