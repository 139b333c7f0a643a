"""Teams, cohorts, invite links and role grants: the actions, and the chat feature over them."""

from __future__ import annotations

from dataclasses import replace

from bot.engine.core.commands import Command
from bot.engine.core.events import Choice, UserKey
from bot.engine.core.feature_api import Feature, TurnApi
from bot.engine.core.pseudonyms import member_code_of
from bot.engine.features.teams import views
from bot.engine.features.teams.actions import (
    INVITE_PREFIX,
    ROLE_INVITE_DAYS,
    appoint,
    cohort_team,
    create_cohort,
    create_team,
    find_team,
    invite_link,
    new_invite,
    rotate_invite,
    usable,
    usable_invite,
)
from bot.engine.ports.directory import Directory, Rejected, parse_key
from bot.engine.ports.directory_ops import (
    ConsumeInvite,
    CreateInvite,
    GrantRole,
    JoinTeam,
    LeaveTeam,
    NewInvite,
    RevokeInvites,
)
from bot.engine.ports.teams import Invite, Member, Team

MAX_BUTTONS = 40

TEAMS_MESSAGES: tuple[str, ...] = (
    "teams.bad_name", "teams.exists", "teams.unknown", "teams.none", "teams.created",
    "teams.newteam_usage", "teams.list_line", "teams.list_title", "teams.members_title",
    "teams.member_line", "teams.member_manager", "teams.members_empty", "teams.pick",
    "teams.make_manager", "teams.unmake_manager", "teams.now_manager", "teams.no_longer_manager",
    "teams.member_gone", "teams.done", "teams.cancel", "teams.invite_link", "teams.invite_limits",
    "teams.invite_rotated", "teams.invite_revoked", "teams.invite_usage",
    "teams.invite_invalid", "teams.invite_revoked_error", "teams.invite_expired",
    "teams.invite_used_up", "teams.joined", "teams.already_member", "teams.role_granted",
    "teams.already_role", "teams.role_name.coordinator",
    "teams.role_name.admin", "teams.role_link_lapsed", "teams.myteams", "teams.myteams_line",
    "teams.myteams_none",
    "teams.leave_none", "teams.leave_pick", "teams.leave_confirm", "teams.left",
    "teams.not_member", "teams.cohort_usage", "teams.cohort_created", "teams.cohort_exists",
    "teams.cohort_unknown", "teams.cohort_added", "teams.cohort_removed", "teams.cohort_line",
    "teams.cohorts_none", "teams.cohort_empty", "teams.makecoordinator", "teams.link_active",
    "teams.link_closed", "yes", "no",
)


# ---------------------------------------------------------------------- actions (chat and CLI)
# ---------------------------------------------------------------------- the chat feature
# Who may make a role link, and must still be that when it is used.
ROLE_LINK_MAKER = "admin"


class TeamsFeature(Feature):
    """/newteam, /teams, /members, /invite, /cohort, /makecoordinator, /myteams, /leave.

    Who may do what: coordinators (and admins) create teams and cohorts and appoint managers;
    a manager sees and manages the invite link and member list of their own teams only; admins
    make coordinators; everyone may see and leave their own teams.
    """

    prefix = "tm"

    def __init__(self, directory: Directory, bot_username: str = "ccbot") -> None:
        self.directory = directory
        self.bot_username = bot_username


    # ------------------------------------------------------------------ helpers
    def visible_teams(self, turn: TurnApi) -> list[Team]:
        """Teams whose members and invites the user may manage."""
        if turn.has_role("coordinator"):
            return self.directory.teams()
        managed = {m.team_id for m in self.directory.memberships(turn.user.key)
                   if m.role == "manager"}
        return [t for t in self.directory.teams() if t.id in managed]

    def may_manage(self, turn: TurnApi, team: Team) -> bool:
        return any(t.id == team.id for t in self.visible_teams(turn))

    def link(self, invite: Invite | NewInvite) -> str:
        return invite_link(self.bot_username, invite.code)

    def await_(self, turn: TurnApi, awaiting: str | None) -> None:
        turn.record = replace(turn.user, awaiting=awaiting)

    def find(self, turn: TurnApi, name: str) -> Team:
        """The named team; the 'no such team' answer lists only teams the user may manage."""
        try:
            return find_team(self.directory, name)
        except Rejected as error:
            error.values["teams"] = ", ".join(t.name for t in self.visible_teams(turn)[:20]) \
                or "-"
            raise

    def fail(self, turn: TurnApi, error: Rejected) -> None:
        turn.say(error.text(turn.content, turn.locale))

    def code(self, user: UserKey) -> str:
        return member_code_of(self.directory, user)

    # ------------------------------------------------------------------ commands
    def cmd_newteam(self, turn: TurnApi, arg: str) -> None:
        if not arg:
            turn.say(turn.t("teams.newteam_usage"))
            return
        try:
            op, invite = create_team(self.directory, arg, str(turn.user.key), turn.now)
        except Rejected as error:
            self.fail(turn, error)
            return
        turn.ops.append(op)
        turn.say(turn.t("teams.created", team=arg, link=self.link(invite)))

    def cmd_teams(self, turn: TurnApi, arg: str) -> None:
        teams = self.visible_teams(turn)
        if not teams:
            turn.say(turn.t("teams.none"))
            return
        lines = [turn.t("teams.list_title")]
        for team in teams:
            members = self.directory.members(team.id)
            link = usable_invite(self.directory, team, turn.now)
            state = turn.t("teams.link_active") if link else turn.t("teams.link_closed")
            lines.append(turn.t("teams.list_line", team=team.name, members=len(members),
                                managers=sum(1 for m in members if m.role == "manager"),
                                link=state))
        turn.say("\n".join(lines))

    def cmd_members(self, turn: TurnApi, arg: str) -> None:
        if arg:
            try:
                team = self.find(turn, arg)
            except Rejected as error:
                self.fail(turn, error)
                return
            self.show_members(turn, team)
            return
        teams = self.visible_teams(turn)
        if not teams:
            turn.say(turn.t("teams.none"))
        elif len(teams) == 1:
            self.show_members(turn, teams[0])
        else:
            self.await_(turn, "tm:pick")
            turn.show_current = True

    def show_members(self, turn: TurnApi, team: Team) -> None:
        if not self.may_manage(turn, team):
            turn.refuse(f"/members {team.name}")
            return
        if turn.has_role("coordinator") and self.directory.members(team.id):
            # Coordinators get buttons to appoint or remove managers.
            self.await_(turn, f"tm:team:{team.id}")
            turn.show_current = True
            return
        turn.say(views.members_text(self.directory, turn, team))


    def cmd_invite(self, turn: TurnApi, arg: str) -> None:
        words = arg.split()
        action = words.pop().lower() if words and words[-1].lower() in ("rotate",
                                                                         "revoke") else "show"
        if len(words) != 1:
            managed = self.visible_teams(turn)
            if words or len(managed) != 1:
                turn.say(turn.t("teams.invite_usage"))
                return
            team = managed[0]
        else:
            try:
                team = self.find(turn, words[0])
            except Rejected as error:
                self.fail(turn, error)
                return
        if not self.may_manage(turn, team):
            turn.refuse(f"/invite {team.name}")
            return
        by = str(turn.user.key)
        if action == "revoke":
            turn.ops.append(RevokeInvites(turn.now, team_id=team.id))
            turn.say(turn.t("teams.invite_revoked", team=team.name))
            return
        current = usable_invite(self.directory, team, turn.now) if action == "show" else None
        if current is not None:
            turn.say(views.invite_text(turn, team, current, self.link(current)))
            return
        ops, invite = rotate_invite(team, by, turn.now)
        turn.ops.extend(ops)
        if action == "rotate":
            turn.say(turn.t("teams.invite_rotated", team=team.name, link=self.link(invite)))
        else:
            turn.say(turn.t("teams.invite_link", team=team.name, link=self.link(invite)))


    def cmd_cohort(self, turn: TurnApi, arg: str) -> None:
        words = arg.split()
        verb = words[0].lower() if words else "list"
        by = str(turn.user.key)
        try:
            if verb == "list" and len(words) <= 1:
                turn.say(views.cohorts_text(self.directory, turn))
            elif verb == "new" and len(words) == 2:
                turn.ops.append(create_cohort(self.directory, words[1], by, turn.now))
                turn.say(turn.t("teams.cohort_created", cohort=words[1]))
            elif verb in ("add", "remove") and len(words) == 3:
                op, cohort, team = cohort_team(self.directory, words[1], words[2], verb == "add")
                turn.ops.append(op)
                if verb == "add":
                    turn.say(turn.t("teams.cohort_added", cohort=cohort, team=team))
                else:
                    turn.say(turn.t("teams.cohort_removed", cohort=cohort, team=team))
            else:
                turn.say(turn.t("teams.cohort_usage"))
        except Rejected as error:
            self.fail(turn, error)


    def cmd_makecoordinator(self, turn: TurnApi, arg: str) -> None:
        invite = new_invite("role", None, "coordinator", str(turn.user.key), turn.now,
                            max_uses=1, days=ROLE_INVITE_DAYS)
        turn.ops.append(CreateInvite(invite))
        turn.say(turn.t("teams.makecoordinator", link=self.link(invite), days=ROLE_INVITE_DAYS))

    def cmd_myteams(self, turn: TurnApi, arg: str) -> None:
        mine = self.my_teams(turn)
        code = self.code(turn.user.key)
        if not mine:
            turn.say(turn.t("teams.myteams_none", code=code))
            return
        lines = [turn.t("teams.myteams", code=code)]
        for team, member in mine:
            role = turn.t("teams.member_manager") if member.role == "manager" else ""
            lines.append(turn.t("teams.myteams_line", team=team.name, role=role).rstrip())
        turn.say("\n".join(lines))

    def my_teams(self, turn: TurnApi) -> list[tuple[Team, Member]]:
        found = []
        for member in self.directory.memberships(turn.user.key):
            team = self.directory.team(member.team_id)
            if team is not None:
                found.append((team, member))
        return found

    def cmd_leave(self, turn: TurnApi, arg: str) -> None:
        mine = self.my_teams(turn)
        if arg:
            match = [t for t, _ in mine if t.name.casefold() == arg.strip().casefold()]
            if not match:
                turn.say(turn.t("teams.not_member", team=arg.strip()[:40]))
                return
            mine = [(match[0], m) for t, m in mine if t.id == match[0].id]
        if not mine:
            turn.say(turn.t("teams.leave_none"))
        elif len(mine) == 1:
            self.await_(turn, f"tm:leave:{mine[0][0].id}")
            turn.show_current = True
        else:
            self.await_(turn, "tm:leave")
            turn.show_current = True

    # ------------------------------------------------------------------ awaiting states
    def prompt(self, turn: TurnApi, awaiting: str) -> tuple[str, tuple[Choice, ...]] | None:
        parts = awaiting.split(":")
        cancel = turn.choice("cancel", turn.t("teams.cancel"))
        if awaiting == "tm:pick":
            teams = self.visible_teams(turn)[:MAX_BUTTONS]
            return turn.t("teams.pick"), (*(turn.choice(f"team.{t.id}", t.name)
                                            for t in teams), cancel)
        if awaiting == "tm:leave":
            return turn.t("teams.leave_pick"), (
                *(turn.choice(f"team.{t.id}", t.name) for t, _ in self.my_teams(turn)), cancel)
        team = self.directory.team(int(parts[2])) if len(parts) == 3 and parts[2].isdigit() \
            else None
        if team is None:
            return None
        if parts[1] == "leave":
            return turn.t("teams.leave_confirm", team=team.name), (
                turn.choice("yes", turn.t("yes")), turn.choice("no", turn.t("no")))
        if parts[1] == "team":
            buttons = []
            for member in self.directory.members(team.id)[:MAX_BUTTONS]:
                code = self.code(member.user)
                if member.role == "manager":
                    buttons.append(turn.choice(f"unm.{code}",
                                               turn.t("teams.unmake_manager", code=code)))
                else:
                    buttons.append(turn.choice(f"mgr.{code}",
                                               turn.t("teams.make_manager", code=code)))
            return views.members_text(self.directory, turn, team), (
                *buttons, turn.choice("done", turn.t("teams.done")))
        return None

    def act(self, turn: TurnApi, awaiting: str, option: str) -> None:
        self.await_(turn, None)
        if option in ("cancel", "done", "no"):
            turn.say(turn.t("cancelled") if option != "done" else turn.t("teams.done"))
            return
        parts = awaiting.split(":")
        if awaiting == "tm:pick" and option.startswith("team."):
            team = self.directory.team(int(option[5:])) if option[5:].isdigit() else None
            if team is not None:
                self.show_members(turn, team)
            return
        if awaiting == "tm:leave" and option.startswith("team."):
            self.leave(turn, int(option[5:]) if option[5:].isdigit() else -1)
            return
        if parts[1] == "leave" and option == "yes":
            self.leave(turn, int(parts[2]))
            return
        if parts[1] == "team":
            self.set_manager(turn, int(parts[2]), option)

    def leave(self, turn: TurnApi, team_id: int) -> None:
        team = self.directory.team(team_id)
        if team is None or not any(m.team_id == team_id
                                   for m in self.directory.memberships(turn.user.key)):
            return
        turn.ops.append(LeaveTeam(team_id, str(turn.user.key)))
        turn.say(turn.t("teams.left", team=team.name))

    def set_manager(self, turn: TurnApi, team_id: int, option: str) -> None:
        # The role is checked again: it may have been revoked since the buttons were shown.
        team = self.directory.team(team_id)
        if team is None or not turn.has_role("coordinator"):
            turn.refuse(f"manager button {option}")
            return
        verb, _, code = option.partition(".")
        member = next((m for m in self.directory.members(team_id)
                       if self.code(m.user) == code), None)
        if member is None:
            turn.say(turn.t("teams.member_gone", team=team.name))
            return
        manager = verb == "mgr"
        turn.ops.extend(appoint(self.directory, team, member.user, manager, turn.now))
        if manager:
            turn.say(turn.t("teams.now_manager", code=code, team=team.name))
        else:
            turn.say(turn.t("teams.no_longer_manager", code=code, team=team.name))

    # ------------------------------------------------------------------ deep links
    def start_payload(self, turn: TurnApi, payload: str) -> bool:
        if not payload.startswith(INVITE_PREFIX):
            return False
        turn.show_current = True
        try:
            invite = usable(self.directory, payload, turn.now)
        except Rejected as error:
            self.fail(turn, error)
            return True
        user = str(turn.user.key)
        if invite.kind == "role" and invite.role:
            maker = parse_key(invite.created_by) if invite.created_by else None
            # Checked now, not when the link was made: an admin removed from CCBOT_ADMINS,
            # demoted or forgotten since grants nothing.
            if maker is None or not turn.holds(maker, ROLE_LINK_MAKER):
                turn.say(turn.t("teams.role_link_lapsed"))
                return True
            if turn.has_role(invite.role):
                turn.say(turn.t("teams.already_role", role=views.role_name(turn, invite.role)))
                return True
            turn.ops += [GrantRole(user, invite.role, invite.created_by, turn.now),
                         ConsumeInvite(invite.code)]
            turn.say(turn.t("teams.role_granted", role=views.role_name(turn, invite.role)))
            return True
        team = self.directory.team(invite.team_id) if invite.team_id is not None else None
        if team is None:
            turn.say(turn.t("teams.invite_invalid"))
        elif any(m.team_id == team.id for m in self.directory.memberships(turn.user.key)):
            turn.say(turn.t("teams.already_member", team=team.name))
        else:
            turn.ops += [JoinTeam(team.id, user, turn.now), ConsumeInvite(invite.code)]
            turn.say(turn.t("teams.joined", team=team.name))
        return True

    COMMANDS = (
        Command("newteam", cmd_newteam, "menu.newteam", requires="coordinator"),
        Command("teams", cmd_teams, "menu.teams", requires="manager"),
        Command("members", cmd_members, "menu.members", requires="manager"),
        Command("invite", cmd_invite, "menu.invite", requires="manager"),
        Command("cohort", cmd_cohort, "menu.cohort", requires="coordinator"),
        Command("makecoordinator", cmd_makecoordinator, "menu.makecoordinator",
                requires=ROLE_LINK_MAKER),
        Command("myteams", cmd_myteams, "menu.myteams"),
        Command("leave", cmd_leave, "menu.leave"),
    )
