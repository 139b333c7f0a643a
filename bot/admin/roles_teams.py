"""`ccbot roles` and `ccbot teams` (with `teams cohort`): roles, teams, invite links, cohorts."""

from __future__ import annotations

import argparse
import os
import time

from bot.admin.context import (
    CLI_ACTOR,
    AdminError,
    Opened,
    bot_username_of,
    english,
    open_database,
    user_key,
)
from bot.engine.core.local_time import date_text
from bot.engine.core.pseudonyms import member_code_of
from bot.engine.core.roles import ADMINS_ENV, AdminsError, DirectoryRoles, Roles, parse_admins
from bot.engine.features.teams.actions import (
    appoint,
    cohort_team,
    create_cohort,
    create_team,
    find_team,
    invite_link,
    role_link_state,
    rotate_invite,
    usable_invite,
)
from bot.engine.features.teams.feature import ROLE_LINK_MAKER
from bot.engine.ports.directory import Rejected, commit_ops, parse_key
from bot.engine.ports.directory_ops import GrantRole, RevokeInvites, RevokeRole
from bot.engine.ports.teams import Team


def cmd_roles_grant(args: argparse.Namespace) -> int:
    """Grant coordinator or admin to a user."""
    user = user_key(args.user)
    with open_database(args) as opened:
        commit_ops(opened.store, [GrantRole(str(user), args.role, CLI_ACTOR, time.time())])
    print(f"{user} is now {args.role}.")
    return 0


def cmd_roles_revoke(args: argparse.Namespace) -> int:
    """Take coordinator or admin away from a user."""
    user = user_key(args.user)
    with open_database(args) as opened:
        commit_ops(opened.store, [RevokeRole(str(user), args.role)])
    print(f"{user} is no longer {args.role} (unless listed in {ADMINS_ENV}).")
    return 0


def env_admins() -> frozenset[str]:
    """The admins CCBOT_ADMINS names; a malformed value is an AdminError naming it."""
    try:
        return parse_admins(os.environ.get(ADMINS_ENV))
    except AdminsError as exc:
        raise AdminError(str(exc)) from exc


def cmd_roles_list(args: argparse.Namespace) -> int:
    """List stored grants and the admins from CCBOT_ADMINS."""
    admins = env_admins()
    with open_database(args) as opened:
        grants = opened.directory.grants()
    for key in sorted(admins):
        print(f"{key}\tadmin\t(from {ADMINS_ENV})")
    for key, role, at in grants:
        print(f"{key}\t{role}\tgranted {date_text(at)}")
    if not admins and not grants:
        print(f"No roles granted. Use `ccbot roles grant ID coordinator` or set {ADMINS_ENV}.")
    return 0


def cmd_roles_links_list(args: argparse.Namespace) -> int:
    """List the role links made (e.g. by /makecoordinator), and whether each still works."""
    admins = env_admins()
    with open_database(args) as opened:
        roles = DirectoryRoles(opened.directory, admins)
        links = opened.directory.role_links()
        now = time.time()
        for link in links:
            maker = parse_key(link.created_by) if link.created_by else None
            may = maker is not None and Roles(roles).has(maker, ROLE_LINK_MAKER)
            uses = f"{link.uses}/{link.max_uses}" if link.max_uses is not None else str(link.uses)
            print(f"{link.code}\t{link.role}\tmade by {link.created_by or '(forgotten)'} "
                  f"{date_text(link.created_at)}\tused {uses}\t"
                  f"{role_link_state(link, may, now)}")
    if not links:
        print("No role links. An admin makes one with /makecoordinator in the chat.")
    return 0


def cmd_roles_links_revoke(args: argparse.Namespace) -> int:
    """Withdraw one role link (by its code), or every one still usable (--all)."""
    if bool(args.code) == bool(args.all):
        raise AdminError("give the link's code (see `ccbot roles links list`) or --all")
    with open_database(args) as opened:
        links = opened.directory.role_links()
        chosen = [link for link in links if args.all or link.code == args.code]
        if not chosen:
            raise AdminError(f"no role link with the code {args.code!r}; "
                             "see `ccbot roles links list`")
        now = time.time()
        fresh = [link for link in chosen if link.revoked_at is None]
        commit_ops(opened.store, [RevokeInvites(now, code=link.code) for link in fresh])
    print(f"Withdrew {len(fresh)} role link(s).")
    return 0


# ---------------------------------------------------------------------- teams
def cmd_teams_list(args: argparse.Namespace) -> int:
    """List teams with member counts and whether their invite link is open."""
    with open_database(args) as opened:
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
    with open_database(args) as opened:
        try:
            op, invite = create_team(opened.directory, args.name, CLI_ACTOR, time.time(),
                                     args.max_uses, args.days)
        except Rejected as error:
            raise AdminError(english(error, args)) from error
        commit_ops(opened.store, [op])
        print(f"Team {args.name} created. Invite link:\n"
              f"{invite_link(bot_username_of(args, opened), invite.code)}")
    return 0


def cmd_teams_invite(args: argparse.Namespace) -> int:
    """Print the team's working invite link, making one if there is none."""
    with open_database(args) as opened:
        team = team_named(opened, args)
        current = usable_invite(opened.directory, team, time.time())
        code = current.code if current else None
        if code is None or args.max_uses or args.days:
            ops, invite = rotate_invite(team, CLI_ACTOR, time.time(), args.max_uses, args.days)
            commit_ops(opened.store, ops)
            code = invite.code
        print(invite_link(bot_username_of(args, opened), code))
    return 0


def cmd_teams_rotate(args: argparse.Namespace) -> int:
    """Withdraw the team's invite links and print a new one."""
    with open_database(args) as opened:
        team = team_named(opened, args)
        ops, invite = rotate_invite(team, CLI_ACTOR, time.time(), args.max_uses, args.days)
        commit_ops(opened.store, ops)
        print(f"Old links withdrawn. New link:\n"
              f"{invite_link(bot_username_of(args, opened), invite.code)}")
    return 0


def cmd_teams_revoke(args: argparse.Namespace) -> int:
    """Withdraw the team's invite links: nobody can join by link until `rotate`."""
    with open_database(args) as opened:
        team = team_named(opened, args)
        commit_ops(opened.store, [RevokeInvites(time.time(), team_id=team.id)])
    print(f"Invite links for {team.name} withdrawn.")
    return 0


def cmd_teams_members(args: argparse.Namespace) -> int:
    """List a team's members: user key, member code, role, date joined."""
    with open_database(args) as opened:
        team = team_named(opened, args)
        members = opened.directory.members(team.id)
        for m in members:
            code = member_code_of(opened.directory, m.user)
            print(f"{m.user}\t{code}\t{m.role}\tjoined {date_text(m.joined_at)}")
    if not members:
        print(f"{team.name} has no members yet.")
    return 0


def cmd_teams_appoint(args: argparse.Namespace) -> int:
    """Make a user a manager of a team (adding them to it), or --remove it."""
    user = user_key(args.user)
    with open_database(args) as opened:
        team = team_named(opened, args)
        try:
            ops = appoint(opened.directory, team, user, not args.remove, time.time())
        except Rejected as error:
            raise AdminError(english(error, args)) from error
        commit_ops(opened.store, ops)
    print(f"{user} is {'no longer' if args.remove else 'now'} a manager of {team.name}.")
    return 0


def cmd_cohort_list(args: argparse.Namespace) -> int:
    """List cohorts and their teams."""
    with open_database(args) as opened:
        names = {t.id: t.name for t in opened.directory.teams()}
        cohorts = opened.directory.cohorts()
        for c in cohorts:
            print(f"{c.name}\t{', '.join(names[i] for i in c.team_ids if i in names) or '-'}")
    if not cohorts:
        print("No cohorts yet. `ccbot teams cohort create NAME` makes one.")
    return 0


def cmd_cohort_create(args: argparse.Namespace) -> int:
    """Create a cohort."""
    with open_database(args) as opened:
        try:
            op = create_cohort(opened.directory, args.name, CLI_ACTOR, time.time())
        except Rejected as error:
            raise AdminError(english(error, args)) from error
        commit_ops(opened.store, [op])
    print(f"Cohort {args.name} created.")
    return 0


def cmd_cohort_add(args: argparse.Namespace) -> int:
    """Add a team to a cohort, or take it out with `remove`."""
    member = args.cohort_command == "add"
    with open_database(args) as opened:
        try:
            op, cohort, team = cohort_team(opened.directory, args.cohort, args.team, member)
        except Rejected as error:
            raise AdminError(english(error, args)) from error
        commit_ops(opened.store, [op])
    print(f"Team {team} {'added to' if member else 'removed from'} cohort {cohort}.")
    return 0


def team_named(opened: Opened, args: argparse.Namespace) -> Team:
    try:
        return find_team(opened.directory, args.team)
    except Rejected as error:
        raise AdminError(english(error, args)) from error
