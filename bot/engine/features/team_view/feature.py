"""/team, /round and /digest in the chat: a team's anonymised view, its rounds, every week.

Who may do what: a manager sees the view of the teams they manage, coordinators (and admins)
of any team; anyone else is refused, and so is a manager asking for another team. Every step
checks again on the server, buttons included.
"""

from __future__ import annotations

from dataclasses import replace

from bot.engine.core.commands import Command
from bot.engine.core.events import Choice
from bot.engine.core.feature_api import Feature, TurnApi
from bot.engine.core.local_time import first_run, utc_text
from bot.engine.features.team_view.access import viewable_teams
from bot.engine.features.team_view.digests import digest_when, parse_on
from bot.engine.features.team_view.tried import tried_line
from bot.engine.features.team_view.words import team_report
from bot.engine.features.teams.actions import find_team
from bot.engine.ports.directory import Directory, Rejected
from bot.engine.ports.directory_ops import SetDigest, StopDigest
from bot.engine.ports.practice import PracticeBook
from bot.engine.ports.teams import Team
from bot.engine.release.requests import directory_rules, view_team
from bot.engine.release.rounds import settle

MAX_BUTTONS = 40
PICK = "tv:pick"
DIGESTS = "tv:digests"
ROUNDS = "tv:rounds"


class TeamViewFeature(Feature):
    """/team [TEAM], /round [TEAM] and /digest [on DAY HH:MM [ZONE] [TEAM] | off [TEAM]]."""

    prefix = "tv"

    def __init__(self, directory: Directory, channels: tuple[str, ...] = ("telegram",),
                 practice: PracticeBook | None = None) -> None:
        self.directory = directory
        # Actions tried per strand are shown when the bot keeps commitments (features/practice).
        self.practice = practice
        # Digests are delivered on these channels only (the console cannot receive them).
        self.channels = channels


    # ------------------------------------------------------------------ helpers
    def teams(self, turn: TurnApi) -> list[Team]:
        """Teams whose view the user may see."""
        return viewable_teams(self.directory, turn.user.key, turn.has_role("coordinator"))

    def find(self, turn: TurnApi, name: str, what: str) -> Team | None:
        """The named team if the user may see it; otherwise says why and returns None."""
        try:
            team = find_team(self.directory, name)
        except Rejected as error:
            # The "no such team" answer lists only the teams this user may see.
            error.values["teams"] = ", ".join(t.name for t in self.teams(turn)[:20]) or "-"
            turn.say(error.text(turn.content, turn.locale))
            return None
        if not any(t.id == team.id for t in self.teams(turn)):
            turn.refuse(f"{what} {team.name}")
            return None
        return team

    # ------------------------------------------------------------------ /team
    def cmd_team(self, turn: TurnApi, arg: str) -> None:
        if arg:
            team = self.find(turn, arg, "/team")
            if team is not None:
                self.show(turn, team)
            return
        teams = self.teams(turn)
        if not teams:
            turn.say(turn.t("tv.no_teams"))
        elif len(teams) == 1:
            self.show(turn, teams[0])
        else:
            turn.record = replace(turn.user, awaiting=PICK)
            turn.show_current = True

    def show(self, turn: TurnApi, team: Team) -> None:
        """The team's view: summary, chart (or its words), then the two weakest with prompts."""
        view = view_team(self.directory, turn.content, team, str(turn.user.key), turn.now)
        # Closing due rounds and recording what is shown commit with this reply.
        turn.ops.extend(view.ops)
        report = team_report(turn.content, turn.locale, team.name, view.release, view.rules,
                             view.rounds.open.closes_at)
        turn.say(report.summary)
        if report.chart is not None:
            before = len(turn.replies)
            turn.attach_chart(report.chart.draw, "team")
            if len(turn.replies) == before:  # no renderer, or it failed: say it in words
                turn.say(report.averages)
        for text in report.weakest:
            turn.say(text)
        if self.practice is not None:
            ledger = self.directory.released(str(turn.user.key))
            tried_line(turn, self.practice, view, team.id, ledger)

    # ------------------------------------------------------------------ /round
    def cmd_round(self, turn: TurnApi, arg: str) -> None:
        if arg:
            team = self.find(turn, arg, "/round")
            if team is None:
                return
            teams = [team]
        else:
            teams = self.teams(turn)
        if not teams:
            turn.say(turn.t("rnd.no_teams"))
            return
        turn.record = replace(turn.user, awaiting=f"{ROUNDS}.{teams[0].id}" if arg else ROUNDS)
        turn.show_current = True

    def rounds_text(self, turn: TurnApi, teams: list[Team]) -> tuple[str, tuple[Choice, ...]]:
        """Each team's open round, with a Close now button each for coordinators."""
        rules = directory_rules(self.directory)
        lines, buttons = [], []
        for team in teams[:MAX_BUTTONS]:
            state = settle(self.directory, team.id, team.created_at, turn.now, rules)
            turn.ops.extend(state.ops)
            current = state.open
            people = {a.person for a in self.directory.round_levels(
                team.id, current.opened_at, turn.now)} - {str(turn.user.key)}
            answers = (turn.t("rnd.answers_count", count=len(people))
                       if len(people) >= rules.minimum
                       else turn.t("rnd.answers_few", min=rules.minimum))
            lines.append(turn.t("rnd.status", team=team.name, number=current.number,
                                opened=utc_text(current.opened_at),
                                closes=utc_text(current.closes_at), answers=answers))
            if turn.has_role("coordinator"):
                buttons.append(turn.choice(f"c.{team.id}", turn.t("rnd.close_button",
                                                                  team=team.name)))
        lines.append(turn.t("rnd.who"))
        return "\n\n".join(lines), (*buttons, turn.choice("done", turn.t("tv.done")))

    def close_round(self, turn: TurnApi, team: Team) -> None:
        """Close the team's open round now (the caller checked the role)."""
        rules = directory_rules(self.directory)
        state = settle(self.directory, team.id, team.created_at, turn.now, rules,
                       close_now_by=str(turn.user.key))
        turn.ops.extend(state.ops)
        number = state.last.number if state.last else 0
        turn.say(turn.t("rnd.closed", team=team.name, number=number, next=state.open.number))

    # ------------------------------------------------------------------ /digest
    def cmd_digest(self, turn: TurnApi, arg: str) -> None:
        words = arg.split()
        verb = words[0].lower() if words else ""
        try:
            if not words:
                self.list_digests(turn)
            elif verb == "on":
                self.digest_on(turn, words[1:])
            elif verb == "off" and len(words) <= 2:
                self.digest_off(turn, words[1] if len(words) == 2 else None)
            else:
                turn.say(turn.t("tv.digest_usage"))
        except Rejected as error:
            turn.say(error.text(turn.content, turn.locale))

    def list_digests(self, turn: TurnApi) -> None:
        if not self.directory.digests(turn.user.key):
            turn.say(turn.t("tv.digest_none"))
            turn.say(turn.t("tv.digest_usage"))
            return
        turn.record = replace(turn.user, awaiting=DIGESTS)
        turn.show_current = True

    def digests_text(self, turn: TurnApi) -> tuple[str, tuple[Choice, ...]]:
        lines, buttons = [turn.t("tv.digest_title")], []
        for digest in self.directory.digests(turn.user.key)[:MAX_BUTTONS]:
            team = self.directory.team(digest.team_id)
            name = team.name if team else "?"
            lines.append(turn.t("tv.digest_line", team=name, **digest_when(
                turn.content, turn.locale, digest.weekday, digest.local_time, digest.timezone,
                digest.next_run_at)))
            buttons.append(turn.choice(f"s.{digest.team_id}", turn.t("tv.digest_stop",
                                                                     team=name)))
        lines.append(turn.t("tv.digest_usage"))
        return "\n".join(lines), (*buttons, turn.choice("done", turn.t("tv.done")))

    def digest_on(self, turn: TurnApi, words: list[str]) -> None:
        if turn.user.key.channel not in self.channels:
            turn.say(turn.t("tv.digest_channel"))
            return
        request = parse_on(words, turn.content, turn.locale)
        if request.team is not None:
            team = self.find(turn, request.team, "/digest on")
        else:
            teams = self.teams(turn)
            team = teams[0] if len(teams) == 1 else None
            if team is None:
                names = [t.name for t in teams[:20]]
                turn.say(turn.t("tv.digest_which_team", example=f"/digest on {' '.join(words)} "
                                f"{names[0] if names else 'TEAM'}", teams=", ".join(names)
                                or "-"))
        if team is None:
            return
        following = first_run("weekly", request.weekday, request.local_time, request.zone,
                              turn.now)
        turn.ops.append(SetDigest(str(turn.user.key), team.id, request.weekday,
                                  request.local_time, request.zone, following, turn.now))
        turn.say(turn.t("tv.digest_on", team=team.name, **digest_when(
            turn.content, turn.locale, request.weekday, request.local_time, request.zone,
            following)))

    def digest_off(self, turn: TurnApi, name: str | None) -> None:
        mine = self.directory.digests(turn.user.key)
        if name is not None:
            team = self.directory.team_named(name)
            mine = [d for d in mine if team is not None and d.team_id == team.id]
            if team is not None and mine:
                turn.ops.append(StopDigest(str(turn.user.key), team.id))
                turn.say(turn.t("tv.digest_off", team=team.name))
                return
        elif mine:
            turn.ops.append(StopDigest(str(turn.user.key)))
            turn.say(turn.t("tv.digest_all_off"))
            return
        turn.say(turn.t("tv.digest_off_none"))

    # ------------------------------------------------------------------ awaiting states
    def prompt(self, turn: TurnApi, awaiting: str) -> tuple[str, tuple[Choice, ...]] | None:
        if awaiting == PICK:
            teams = self.teams(turn)[:MAX_BUTTONS]
            if not teams:
                return None
            return turn.t("tv.pick"), (*(turn.choice(f"team.{t.id}", t.name) for t in teams),
                                       turn.choice("cancel", turn.t("tv.cancel")))
        if awaiting == DIGESTS and self.directory.digests(turn.user.key):
            return self.digests_text(turn)
        if awaiting.startswith(ROUNDS):
            ident = awaiting[len(ROUNDS) + 1:]
            teams = [t for t in self.teams(turn) if not ident or str(t.id) == ident]
            return self.rounds_text(turn, teams) if teams else None
        return None

    def act(self, turn: TurnApi, awaiting: str, option: str) -> None:
        turn.record = replace(turn.user, awaiting=None)
        if option == "cancel":
            turn.say(turn.t("cancelled"))
            return
        if option == "done":
            turn.say(turn.t("tv.done"))
            return
        # The role is checked again: it may have changed since the buttons were shown.
        if not turn.has_role("manager"):
            turn.refuse(f"team view button {option}")
            return
        ident = option.partition(".")[2]
        team = self.directory.team(int(ident)) if ident.isdigit() else None
        if team is None:
            return
        if awaiting.startswith(ROUNDS) and option.startswith("c."):
            # Closing is for coordinators only, checked again at the tap.
            if turn.has_role("coordinator"):
                self.close_round(turn, team)
            else:
                turn.refuse(f"close round of {team.name}")
        elif awaiting == PICK and option.startswith("team."):
            if any(t.id == team.id for t in self.teams(turn)):
                self.show(turn, team)
            else:
                turn.refuse(f"/team {team.name}")
        elif awaiting == DIGESTS and option.startswith("s."):
            turn.ops.append(StopDigest(str(turn.user.key), team.id))
            turn.say(turn.t("tv.digest_off", team=team.name))

    COMMANDS = (
        Command("team", cmd_team, "menu.team", requires="manager"),
        Command("round", cmd_round, "menu.round", requires="manager"),
        Command("digest", cmd_digest, "menu.digest", requires="manager"),
    )
