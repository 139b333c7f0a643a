"""The parser of the coordinator subcommands: roles, teams, cohorts, broadcast, schedules, export.

Each command parses its arguments, calls one library function, commits and prints. bot/cli.py
adds them with `add_commands(sub, [common, with_db])`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from bot.admin import programme, roles_teams, rounds
from bot.admin.context import (
    EXIT_CONFIG,
    AdminError,
)
from bot.engine.core.roles import GRANTABLE
from bot.engine.ports.store import StoreError
from bot.exports import FORMATS
from bot.wiring import USERNAME_ENV


def wrap(func: Any) -> Any:
    """Print a problem the user can fix as one line and exit 2, like the other commands."""
    def run(args: argparse.Namespace) -> int:
        try:
            result: int = func(args)
            return result
        except (AdminError, StoreError) as exc:
            print(f"ccbot: {exc}", file=sys.stderr)
            return EXIT_CONFIG
    run.__doc__ = func.__doc__
    return run


def add(sub: Any, name: str, func: Any, parents: Sequence[argparse.ArgumentParser]) -> Any:
    parser = sub.add_parser(name, parents=list(parents), help=func.__doc__,
                            description=func.__doc__)
    parser.set_defaults(func=wrap(func))
    return parser


def limits(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--max-uses", type=int, metavar="N",
                        help="the link stops working after N joins")
    parser.add_argument("--days", type=float, metavar="D", help="the link expires after D days")
    parser.add_argument("--bot-username", help=f"for the link (default ${USERNAME_ENV}, "
                        "the stored one, or 'ccbot')")


def add_commands(subparsers: Any, common_parents: Sequence[argparse.ArgumentParser]) -> None:
    """Add `roles`, `teams`, `broadcast`, `schedules`, `rounds` and `export` to the parser."""
    parents = list(common_parents)
    roles = subparsers.add_parser("roles", help="grant, revoke or list coordinator and admin "
                                  "roles", description="Roles granted to users.")
    roles_sub = roles.add_subparsers(dest="roles_command", required=True, metavar="ACTION")
    for name, func in (("grant", roles_teams.cmd_roles_grant),
                       ("revoke", roles_teams.cmd_roles_revoke)):
        p = add(roles_sub, name, func, parents)
        p.add_argument("user", help="Telegram user id, or channel:id")
        p.add_argument("role", choices=GRANTABLE)
    add(roles_sub, "list", roles_teams.cmd_roles_list, parents)
    links = roles_sub.add_parser("links", help="list or withdraw role links",
                                 description="Role links (from /makecoordinator).")
    links_sub = links.add_subparsers(dest="links_command", required=True, metavar="ACTION")
    add(links_sub, "list", roles_teams.cmd_roles_links_list, parents)
    revoke = add(links_sub, "revoke", roles_teams.cmd_roles_links_revoke, parents)
    revoke.add_argument("code", nargs="?", help="the link's code, from `roles links list`")
    revoke.add_argument("--all", action="store_true", help="withdraw every usable role link")

    teams = subparsers.add_parser("teams", help="teams, invite links, managers and cohorts",
                                  description="Teams, invite links, managers and cohorts.")
    teams_sub = teams.add_subparsers(dest="teams_command", required=True, metavar="ACTION")
    add(teams_sub, "list", roles_teams.cmd_teams_list, parents)
    p = add(teams_sub, "create", roles_teams.cmd_teams_create, parents)
    p.add_argument("name", help="letters, digits, - or _ (e.g. riverside-housing)")
    limits(p)
    for name, func in (("invite", roles_teams.cmd_teams_invite),
                       ("rotate", roles_teams.cmd_teams_rotate)):
        p = add(teams_sub, name, func, parents)
        p.add_argument("team")
        limits(p)
    for name, func in (("revoke", roles_teams.cmd_teams_revoke),
                       ("members", roles_teams.cmd_teams_members)):
        add(teams_sub, name, func, parents).add_argument("team")
    p = add(teams_sub, "appoint", roles_teams.cmd_teams_appoint, parents)
    p.add_argument("team")
    p.add_argument("user", help="Telegram user id, or channel:id")
    p.add_argument("--remove", action="store_true", help="make them a plain member again")
    cohort = teams_sub.add_parser("cohort", help="named sets of teams",
                                  description="Cohorts: named sets of teams to broadcast to.")
    cohort_sub = cohort.add_subparsers(dest="cohort_command", required=True, metavar="ACTION")
    add(cohort_sub, "list", roles_teams.cmd_cohort_list, parents)
    add(cohort_sub, "create", roles_teams.cmd_cohort_create, parents).add_argument("name")
    for name in ("add", "remove"):
        p = add(cohort_sub, name, roles_teams.cmd_cohort_add, parents)
        p.add_argument("cohort")
        p.add_argument("team")

    p = add(subparsers, "broadcast", programme.cmd_broadcast, parents)
    p.add_argument("--audience", required=True, metavar="team:NAME|cohort:NAME|everyone")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--prompt", metavar="SUB_ID", help="a sub-component, e.g. outcomes.insight")
    what.add_argument("--text", help="a message of your own")
    p.add_argument("--at", metavar="TIME", help="send later, e.g. '2025-06-02 09:00'")
    p.add_argument("--tz", default="UTC", metavar="ZONE",
                   help="time zone of --at (default UTC), e.g. Europe/London")

    schedules = subparsers.add_parser("schedules", help="list or cancel schedules",
                                      description="Schedules made with /schedule or --at.")
    schedules_sub = schedules.add_subparsers(dest="schedules_command", required=True,
                                             metavar="ACTION")
    add(schedules_sub, "list", programme.cmd_schedules_list, parents)
    cancel = add(schedules_sub, "cancel", programme.cmd_schedules_cancel, parents)
    cancel.add_argument("id", type=int)

    rounds_parser = subparsers.add_parser("rounds", help="check-in rounds: close or list them",
                                          description="check-in rounds (docs/PRIVACY.md)")
    rounds_sub = rounds_parser.add_subparsers(dest="rounds_command", required=True,
                                              metavar="ACTION")
    close = add(rounds_sub, "close", rounds.cmd_rounds_close, parents)
    close.add_argument("--invite", action="store_true",
                       help="also send each team's members an invitation to answer in the new "
                            "round (a broadcast: /report shows its delivery)")
    add(rounds_sub, "list", rounds.cmd_rounds_list, parents)

    export = subparsers.add_parser("export", help="export data",
                                   description="Export data from the database.")
    export_sub = export.add_subparsers(dest="export_command", required=True, metavar="WHAT")
    p = add(export_sub, "responses", programme.cmd_export_responses, parents)
    p.add_argument("--format", choices=FORMATS, default="csv")
    p.add_argument("--out", metavar="FILE", help="file name (default responses.FORMAT)")
    p.add_argument("--dir", default=".", metavar="DIR",
                   help="folder the file must be in (default: the current folder)")
    p.add_argument("--include-notes", action="store_true",
                   help="also export reflections (people's own words; a warning is printed)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the file if it exists (refused otherwise)")
