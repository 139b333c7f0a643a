"""The coordinator subcommands of `ccbot`: roles, teams, broadcast, schedules, export.

Each command parses its arguments, calls one library function, commits and prints. bot/cli.py
adds them with `add_commands(sub, [common, with_db])`.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from bot import settings
from bot.definitions.checked import load_content
from bot.definitions.model import DEFAULT_LOCALE, Content
from bot.definitions.problems import ContentError
from bot.engine.coordination import coordination
from bot.engine.core.events import UserKey
from bot.engine.core.feature_api import Feature
from bot.engine.core.local_time import date_text, local_text, parse_at, zone_of
from bot.engine.core.pseudonyms import member_code, secret_of
from bot.engine.core.roles import ADMINS_ENV, GRANTABLE, AdminsError, DirectoryRoles, parse_admins
from bot.engine.features.broadcasts.actions import (
    check_content,
    plan_broadcast,
    plan_once,
    resolve_audience,
)
from bot.engine.features.broadcasts.views import audience_text, schedule_text
from bot.engine.features.teams.actions import (
    appoint,
    cohort_team,
    create_cohort,
    create_team,
    find_team,
    invite_link,
    rotate_invite,
    usable_invite,
)
from bot.engine.messages import REQUIRED_MESSAGES
from bot.engine.ports.directory import Rejected, commit_ops
from bot.engine.ports.directory_ops import CancelSchedule, GrantRole, RevokeInvites, RevokeRole
from bot.engine.ports.store import StoreError
from bot.engine.ports.teams import Team
from bot.exports import FORMATS, ExportError, export_responses, safe_path
from bot.storage.directory_store import SQLiteDirectory, install
from bot.storage.sqlite_store import SQLiteStore

USERNAME_ENV = "CCBOT_BOT_USERNAME"
EXIT_CONFIG = 2
CLI_ACTOR = "cli"


class AdminError(Exception):
    """A problem with a coordinator command; printed as one line, exit status 2."""


@dataclass
class Opened:
    """The database and directory a command works on."""

    store: SQLiteStore
    directory: SQLiteDirectory


@contextmanager
def _opened(args: argparse.Namespace) -> Iterator[Opened]:
    try:
        store = SQLiteStore(settings.db_path(args.db))
    except StoreError as exc:
        raise AdminError(str(exc)) from exc
    try:
        yield Opened(store, install(store))
    finally:
        store.close()


def _english(error: Rejected, args: argparse.Namespace) -> str:
    """The explanation of a rejection, in the content's English wording."""
    return error.text(_load_content(args), DEFAULT_LOCALE)


def _load_content(args: argparse.Namespace) -> Content:
    try:
        return load_content(settings.content_dir(args.content),
                            settings.dialogues_dir(args.dialogues), REQUIRED_MESSAGES)
    except ContentError as exc:
        raise AdminError(f"the content has problems; run `ccbot validate` "
                         f"({len(exc.problems)} found)") from exc


def _user(text: str) -> UserKey:
    """A Telegram user id (e.g. 12345), or a full key such as console:alice."""
    value = text.strip()
    if value.isdigit():
        return UserKey("telegram", value)
    channel, _, ident = value.partition(":")
    if channel and ident:
        return UserKey(channel, ident)
    raise AdminError(f"'{value}' is not a user: give a Telegram user id (digits) or "
                     "channel:id such as console:alice")


def _username(args: argparse.Namespace, opened: Opened) -> str:
    return (getattr(args, "bot_username", None) or os.environ.get(USERNAME_ENV)
            or opened.directory.setting("bot_username") or "ccbot")


@dataclass(frozen=True)
class Parts:
    """The coordinator parts of a running bot, over one database."""

    features: list[Feature]
    roles: DirectoryRoles
    directory: SQLiteDirectory


def engine_parts(store: SQLiteStore, bot_username: str | None = None) -> Parts:
    """The coordinator features and RoleBook for Engine(), and the directory they share.

    bot/cli.py passes `features` and `roles` to Engine(...); the broadcast sender and the
    scheduler (bot.engine.schedules.run_due, bot.engine.digests.due_digests with
    admins=roles.admins) use `directory`. Admins come from CCBOT_ADMINS
    (AdminsError, a ValueError naming it, if malformed); invite links use `bot_username`, else
    $CCBOT_BOT_USERNAME, the stored setting, or 'ccbot'.
    """
    admins = parse_admins(os.environ.get(ADMINS_ENV))
    directory = install(store)
    name = (bot_username or os.environ.get(USERNAME_ENV) or directory.setting("bot_username")
            or "ccbot")
    features, roles = coordination(directory, admins, name)
    return Parts(features, roles, directory)


# ---------------------------------------------------------------------- roles
def cmd_roles_grant(args: argparse.Namespace) -> int:
    """Grant coordinator or admin to a user."""
    user = _user(args.user)
    with _opened(args) as opened:
        commit_ops(opened.store, [GrantRole(str(user), args.role, CLI_ACTOR, time.time())])
    print(f"{user} is now {args.role}.")
    return 0


def cmd_roles_revoke(args: argparse.Namespace) -> int:
    """Take coordinator or admin away from a user."""
    user = _user(args.user)
    with _opened(args) as opened:
        commit_ops(opened.store, [RevokeRole(str(user), args.role)])
    print(f"{user} is no longer {args.role} (unless listed in {ADMINS_ENV}).")
    return 0


def cmd_roles_list(args: argparse.Namespace) -> int:
    """List stored grants and the admins from CCBOT_ADMINS."""
    try:
        admins = parse_admins(os.environ.get(ADMINS_ENV))
    except AdminsError as exc:
        raise AdminError(str(exc)) from exc
    with _opened(args) as opened:
        grants = opened.directory.grants()
    for key in sorted(admins):
        print(f"{key}\tadmin\t(from {ADMINS_ENV})")
    for key, role, at in grants:
        print(f"{key}\t{role}\tgranted {date_text(at)}")
    if not admins and not grants:
        print(f"No roles granted. Use `ccbot roles grant ID coordinator` or set {ADMINS_ENV}.")
    return 0


# ---------------------------------------------------------------------- teams
def cmd_teams_list(args: argparse.Namespace) -> int:
    """List teams with member counts and whether their invite link is open."""
    with _opened(args) as opened:
        d = opened.directory
        teams = d.teams()
        for team in teams:
            members = d.members(team.id)
            managers = sum(1 for m in members if m.role == "manager")
            link = "open" if usable_invite(d, team, time.time()) else "closed"
            print(f"{team.name}\tmembers {len(members)}\tmanagers {managers}\tlink {link}")
    if not teams:
        print("No teams yet. `ccbot teams create NAME` makes one.")
    return 0


def cmd_teams_create(args: argparse.Namespace) -> int:
    """Create a team and print its invite link."""
    with _opened(args) as opened:
        try:
            op, invite = create_team(opened.directory, args.name, CLI_ACTOR, time.time(),
                                     args.max_uses, args.days)
        except Rejected as error:
            raise AdminError(_english(error, args)) from error
        commit_ops(opened.store, [op])
        print(f"Team {args.name} created. Invite link:\n"
              f"{invite_link(_username(args, opened), invite.code)}")
    return 0


def cmd_teams_invite(args: argparse.Namespace) -> int:
    """Print the team's working invite link, making one if there is none."""
    with _opened(args) as opened:
        team = _team(opened, args)
        current = usable_invite(opened.directory, team, time.time())
        code = current.code if current else None
        if code is None or args.max_uses or args.days:
            ops, invite = rotate_invite(team, CLI_ACTOR, time.time(), args.max_uses, args.days)
            commit_ops(opened.store, ops)
            code = invite.code
        print(invite_link(_username(args, opened), code))
    return 0


def cmd_teams_rotate(args: argparse.Namespace) -> int:
    """Withdraw the team's invite links and print a new one."""
    with _opened(args) as opened:
        team = _team(opened, args)
        ops, invite = rotate_invite(team, CLI_ACTOR, time.time(), args.max_uses, args.days)
        commit_ops(opened.store, ops)
        print(f"Old links withdrawn. New link:\n"
              f"{invite_link(_username(args, opened), invite.code)}")
    return 0


def cmd_teams_revoke(args: argparse.Namespace) -> int:
    """Withdraw the team's invite links: nobody can join by link until `rotate`."""
    with _opened(args) as opened:
        team = _team(opened, args)
        commit_ops(opened.store, [RevokeInvites(time.time(), team_id=team.id)])
    print(f"Invite links for {team.name} withdrawn.")
    return 0


def cmd_teams_members(args: argparse.Namespace) -> int:
    """List a team's members: user key, member code, role, date joined."""
    with _opened(args) as opened:
        team = _team(opened, args)
        secret = secret_of(opened.directory)
        members = opened.directory.members(team.id)
        for m in members:
            code = member_code(secret, m.user)
            print(f"{m.user}\t{code}\t{m.role}\tjoined {date_text(m.joined_at)}")
    if not members:
        print(f"{team.name} has no members yet.")
    return 0


def cmd_teams_appoint(args: argparse.Namespace) -> int:
    """Make a user a manager of a team (adding them to it), or --remove it."""
    user = _user(args.user)
    with _opened(args) as opened:
        team = _team(opened, args)
        try:
            ops = appoint(opened.directory, team, user, not args.remove, time.time())
        except Rejected as error:
            raise AdminError(_english(error, args)) from error
        commit_ops(opened.store, ops)
    print(f"{user} is {'no longer' if args.remove else 'now'} a manager of {team.name}.")
    return 0


def cmd_cohort_list(args: argparse.Namespace) -> int:
    """List cohorts and their teams."""
    with _opened(args) as opened:
        names = {t.id: t.name for t in opened.directory.teams()}
        cohorts = opened.directory.cohorts()
        for c in cohorts:
            print(f"{c.name}\t{', '.join(names[i] for i in c.team_ids if i in names) or '-'}")
    if not cohorts:
        print("No cohorts yet. `ccbot teams cohort create NAME` makes one.")
    return 0


def cmd_cohort_create(args: argparse.Namespace) -> int:
    """Create a cohort."""
    with _opened(args) as opened:
        try:
            op = create_cohort(opened.directory, args.name, CLI_ACTOR, time.time())
        except Rejected as error:
            raise AdminError(_english(error, args)) from error
        commit_ops(opened.store, [op])
    print(f"Cohort {args.name} created.")
    return 0


def cmd_cohort_add(args: argparse.Namespace) -> int:
    """Add a team to a cohort, or take it out with `remove`."""
    member = args.cohort_command == "add"
    with _opened(args) as opened:
        try:
            op, cohort, team = cohort_team(opened.directory, args.cohort, args.team, member)
        except Rejected as error:
            raise AdminError(_english(error, args)) from error
        commit_ops(opened.store, [op])
    print(f"Team {team} {'added to' if member else 'removed from'} cohort {cohort}.")
    return 0


def _team(opened: Opened, args: argparse.Namespace) -> Team:
    try:
        return find_team(opened.directory, args.team)
    except Rejected as error:
        raise AdminError(_english(error, args)) from error


# ---------------------------------------------------------------------- broadcast
def cmd_broadcast(args: argparse.Namespace) -> int:
    """Queue a broadcast now, or schedule it once with --at."""
    content = _load_content(args)
    now = time.time()
    with _opened(args) as opened:
        try:
            audience, label = resolve_audience(opened.directory, args.audience)
            kind, question, body = check_content(content, args.prompt, args.text)
            shown = audience_text(content, DEFAULT_LOCALE, audience, label)
            if args.at:
                at = parse_at(args.at, args.tz, now)
                commit_ops(opened.store, [plan_once(audience, label, kind, question, body, at,
                                                    zone_of(args.tz).key, CLI_ACTOR, now)])
                print(f"Scheduled for {local_text(at, args.tz)} to {shown}; the running bot "
                      "sends it then (or at its next start).")
                return 0
            op, recipients = plan_broadcast(opened.directory, audience, label, kind, question,
                                            body, None, now, ("telegram",))
        except Rejected as error:
            if error.message_id == "bc.empty_audience":
                error.values["audience"] = args.audience
            raise AdminError(error.text(content, DEFAULT_LOCALE)) from error
        commit_ops(opened.store, [op])
        latest = opened.directory.broadcasts(1)
    number = f" #{latest[0].id}" if latest else ""
    print(f"Broadcast{number} queued for {shown} (recipients: {len(recipients)}); the running "
          f"bot sends it. /report{number.replace('#', '')} in the chat shows the results.")
    return 0


def cmd_schedules_list(args: argparse.Namespace) -> int:
    """List active schedules."""
    content = _load_content(args)
    with _opened(args) as opened:
        schedules = opened.directory.schedules()
    for s in schedules:
        print(schedule_text(content, s, DEFAULT_LOCALE))
    if not schedules:
        print("No active schedules.")
    return 0


def cmd_schedules_cancel(args: argparse.Namespace) -> int:
    """Cancel a schedule by its number."""
    with _opened(args) as opened:
        schedule = opened.directory.schedule(args.id)
        if schedule is None or schedule.status != "active":
            raise AdminError(f"there is no active schedule #{args.id}; "
                             "`ccbot schedules list` shows them")
        commit_ops(opened.store, [CancelSchedule(args.id, time.time())])
    print(f"Schedule #{args.id} cancelled.")
    return 0


# ---------------------------------------------------------------------- export
def cmd_export_responses(args: argparse.Namespace) -> int:
    """Write every broadcast answer to a CSV or XLSX file, with pseudonyms for people."""
    content = _load_content(args)
    name = args.out or f"responses.{args.format}"
    try:
        path = safe_path(args.dir, name)
        if args.include_notes:
            print("Warning: the export includes reflections, in people's own words; they may "
                  "name or identify someone. Keep the file private and delete it when done.",
                  file=sys.stderr)
        with _opened(args) as opened:
            count = export_responses(opened.directory, content, path, args.format,
                                     args.include_notes)
    except ExportError as exc:
        raise AdminError(str(exc)) from exc
    print(f"Wrote {count} response(s) to {path}.")
    return 0


# ---------------------------------------------------------------------- the parser
def _wrap(func: Any) -> Any:
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


def _add(sub: Any, name: str, func: Any, parents: Sequence[argparse.ArgumentParser]) -> Any:
    parser = sub.add_parser(name, parents=list(parents), help=func.__doc__,
                            description=func.__doc__)
    parser.set_defaults(func=_wrap(func))
    return parser


def _limits(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--max-uses", type=int, metavar="N",
                        help="the link stops working after N joins")
    parser.add_argument("--days", type=float, metavar="D", help="the link expires after D days")
    parser.add_argument("--bot-username", help=f"for the link (default ${USERNAME_ENV}, "
                        "the stored one, or 'ccbot')")


def add_commands(subparsers: Any, common_parents: Sequence[argparse.ArgumentParser]) -> None:
    """Add `roles`, `teams`, `broadcast`, `schedules` and `export` to the ccbot parser."""
    parents = list(common_parents)
    roles = subparsers.add_parser("roles", help="grant, revoke or list coordinator and admin "
                                  "roles", description="Roles granted to users.")
    roles_sub = roles.add_subparsers(dest="roles_command", required=True, metavar="ACTION")
    for name, func in (("grant", cmd_roles_grant), ("revoke", cmd_roles_revoke)):
        p = _add(roles_sub, name, func, parents)
        p.add_argument("user", help="Telegram user id, or channel:id")
        p.add_argument("role", choices=GRANTABLE)
    _add(roles_sub, "list", cmd_roles_list, parents)

    teams = subparsers.add_parser("teams", help="teams, invite links, managers and cohorts",
                                  description="Teams, invite links, managers and cohorts.")
    teams_sub = teams.add_subparsers(dest="teams_command", required=True, metavar="ACTION")
    _add(teams_sub, "list", cmd_teams_list, parents)
    p = _add(teams_sub, "create", cmd_teams_create, parents)
    p.add_argument("name", help="letters, digits, - or _ (e.g. riverside-housing)")
    _limits(p)
    for name, func in (("invite", cmd_teams_invite), ("rotate", cmd_teams_rotate)):
        p = _add(teams_sub, name, func, parents)
        p.add_argument("team")
        _limits(p)
    for name, func in (("revoke", cmd_teams_revoke), ("members", cmd_teams_members)):
        _add(teams_sub, name, func, parents).add_argument("team")
    p = _add(teams_sub, "appoint", cmd_teams_appoint, parents)
    p.add_argument("team")
    p.add_argument("user", help="Telegram user id, or channel:id")
    p.add_argument("--remove", action="store_true", help="make them a plain member again")
    cohort = teams_sub.add_parser("cohort", help="named sets of teams",
                                  description="Cohorts: named sets of teams to broadcast to.")
    cohort_sub = cohort.add_subparsers(dest="cohort_command", required=True, metavar="ACTION")
    _add(cohort_sub, "list", cmd_cohort_list, parents)
    _add(cohort_sub, "create", cmd_cohort_create, parents).add_argument("name")
    for name in ("add", "remove"):
        p = _add(cohort_sub, name, cmd_cohort_add, parents)
        p.add_argument("cohort")
        p.add_argument("team")

    p = _add(subparsers, "broadcast", cmd_broadcast, parents)
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
    _add(schedules_sub, "list", cmd_schedules_list, parents)
    _add(schedules_sub, "cancel", cmd_schedules_cancel, parents).add_argument("id", type=int)

    export = subparsers.add_parser("export", help="export data",
                                   description="Export data from the database.")
    export_sub = export.add_subparsers(dest="export_command", required=True, metavar="WHAT")
    p = _add(export_sub, "responses", cmd_export_responses, parents)
    p.add_argument("--format", choices=FORMATS, default="csv")
    p.add_argument("--out", metavar="FILE", help="file name (default responses.FORMAT)")
    p.add_argument("--dir", default=".", metavar="DIR",
                   help="folder the file must be in (default: the current folder)")
    p.add_argument("--include-notes", action="store_true",
                   help="also export reflections (people's own words; a warning is printed)")
