"""`ccbot rounds`: close every team's open check-in round now, or list the rounds."""

from __future__ import annotations

import argparse
import time
from collections import Counter

from bot.admin.context import CLI_ACTOR, admin_content, open_database
from bot.engine.core.local_time import utc_text
from bot.engine.features.broadcasts.actions import plan_broadcast
from bot.engine.features.broadcasts.views import ROUND_INVITE
from bot.engine.ports.directory import Directory, Rejected, commit_ops
from bot.engine.ports.store import Store
from bot.engine.release.requests import directory_rules
from bot.engine.release.rounds import settle
from bot.engine.release.team import TeamRequest, release_team

# Nobody's answers carry this key, and nothing is recorded for it: the CLI's view is a
# preview of what a viewer who is no member would be shown, counted, never the figures.
NOBODY = "cli:preview"


def cmd_rounds_close(args: argparse.Namespace) -> int:
    """Close the open round of every team now and open the next; print what is released."""
    now = time.time()
    with open_database(args) as opened:
        content = admin_content(args)
        directory = opened.directory
        rules = directory_rules(directory)
        for team in directory.teams():
            state = settle(directory, team.id, team.created_at, now, rules,
                           close_now_by=CLI_ACTOR)
            commit_ops(opened.store, state.ops)
            last = state.last
            if last is None:
                continue
            release = release_team(content, TeamRequest(
                NOBODY, f"team:{team.id} round:{last.number}", last.number, last.closed_at,
                state.answers, len(directory.members(team.id)), 0, (), rules, now))
            people = len({a.person for a in state.answers})
            shown = sum(f.shown for f in release.subs)
            why = Counter(f.withheld for f in release.subs if f.withheld)
            withheld = ", ".join(f"{n} ({reason})" for reason, n in sorted(why.items())) or "none"
            print(f"{team.name}: round {last.number} closed; {people} answered; "
                  f"{shown} of {len(release.subs)} averages released (minimum {rules.minimum}), "
                  f"withheld: {withheld}; round {state.open.number} is open until "
                  f"{utc_text(state.open.closes_at)}.")
            if args.invite:
                print(f"  {invite(opened.store, directory, team.id, team.name, now)}")
    return 0


def invite(store: Store, directory: Directory, team_id: int, name: str, now: float) -> str:
    """Queue the new round's invitation to one team through the broadcast path; say what."""
    try:
        op, recipients = plan_broadcast(directory, f"team:{team_id}", name, ROUND_INVITE, None,
                                        None, None, now, ("telegram",))
    except Rejected:
        return "no members to invite."
    commit_ops(store, [op])
    return f"invitation queued for {len(recipients)} member(s); the running bot sends it."


def cmd_rounds_list(args: argparse.Namespace) -> int:
    """List every team's rounds: number, opened, closed (or when it closes by itself)."""
    with open_database(args) as opened:
        for team in opened.directory.teams():
            for r in opened.directory.rounds(team.id):
                end = (f"closed {utc_text(r.closed_at)}" if r.closed_at is not None
                       else f"open, closes {utc_text(r.closes_at)}")
                print(f"{team.name}\tround {r.number}\topened {utc_text(r.opened_at)}\t{end}")
    return 0
