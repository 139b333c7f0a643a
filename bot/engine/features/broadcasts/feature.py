"""Broadcasts: the /broadcast and /schedule wizards, recipients' answers, /report, /schedules.

Who may do what: coordinators (and admins) broadcast and schedule to any team, any cohort or
everyone and see every report and schedule; a manager broadcasts and schedules to the teams
they manage only, and sees the reports and schedules they created. Every step re-checks this.
"""

from __future__ import annotations

from dataclasses import replace

from bot.engine.core.commands import Command
from bot.engine.core.events import Choice
from bot.engine.core.feature_api import Feature, TurnApi
from bot.engine.core.local_time import date_text, first_run, local_text, parse_clock, zone_of
from bot.engine.features.broadcasts import answers
from bot.engine.features.broadcasts.actions import (
    MAX_BODY_CHARS,
    check_content,
    may_address,
    plan_broadcast,
)
from bot.engine.features.broadcasts.draft import Draft, split_awaiting
from bot.engine.features.broadcasts.reports import say_report
from bot.engine.features.broadcasts.views import (
    PREVIEW,
    audience_text,
    content_text,
    render_message,
    schedule_text,
    weekday_names,
    when_text,
)
from bot.engine.ports.broadcasts import Broadcast
from bot.engine.ports.directory import EVERYONE, Directory, Rejected, audience_of
from bot.engine.ports.directory_ops import CancelSchedule, CreateSchedule
from bot.engine.ports.practice import PracticeBook
from bot.engine.ports.schedules import NewSchedule, Schedule

RECENT_REPORTS = 8
MAX_BUTTONS = 40

BROADCAST_MESSAGES: tuple[str, ...] = (
    "bc.aud_team", "bc.aud_cohort", "bc.aud_everyone", "bc.content_prompt", "bc.content_text",
    "bc.content_cycle", "bc.content_round", "bc.round_message", "bc.prompt_message",
    "bc.prompt_gone", "bc.text_message",
    "bc.write_reflection", "bc.title", "bc.progress", "bc.report_delivery",
    "bc.report_reasons", "bc.report_in_flight", "bc.report_answered",
    "bc.report_distribution", "bc.report_suppressed", "bc.report_notes", "bc.weekdays",
    "bc.when_daily", "bc.when_weekly", "bc.when_once", "bc.schedule_line", "bc.schedule_lapsed",
    "bc.ask_audience", "bc.ask_content", "bc.ask_sub", "bc.ask_text", "bc.type_text",
    "bc.next_in_cycle", "bc.preview_intro", "bc.confirm", "bc.send_now", "bc.schedule_it",
    "bc.cancel", "bc.ask_frequency", "bc.daily", "bc.weekly", "bc.ask_day", "bc.ask_time",
    "bc.ask_zone", "bc.confirm_schedule", "bc.save", "bc.sending", "bc.schedule_saved",
    "bc.empty_audience", "bc.no_audience", "bc.text_too_long", "bc.bad_time", "bc.bad_zone",
    "bc.bad_at", "bc.at_past", "bc.unknown_prompt", "bc.unknown_audience",
    "bc.preview_tap", "bc.not_for_you", "bc.already_answered", "bc.note_ask",
    "bc.note_generic", "bc.note_saved", "bc.note_skipped",
    "bc.report_unknown", "bc.report_none", "bc.report_pick", "bc.report_choice",
    "bc.schedules_none", "bc.schedules_title", "bc.cancel_schedule", "bc.schedule_cancelled",
    "bc.done", "bc.skip", "cancelled", "note.truncated",
)


# ---------------------------------------------------------------------- actions (chat and CLI)
# ---------------------------------------------------------------------- the chat feature
class BroadcastsFeature(Feature):
    """/broadcast, /schedule, /schedules, /report, and the buttons on broadcast messages."""

    prefix = "bc"

    def __init__(self, directory: Directory, channels: tuple[str, ...] = ("telegram",),
                 practice: PracticeBook | None = None) -> None:
        self.directory = directory
        # Broadcasts reach users of these channels only (the console cannot receive them).
        self.channels = channels
        self.practice = practice  # for /report's outcomes of *I'll try this* commitments

    # ------------------------------------------------------------------ permissions
    def audiences(self, turn: TurnApi) -> list[tuple[str, str]]:
        """(audience, label) pairs the user may address."""
        if turn.has_role("coordinator"):
            found = [(audience_of("team", t.id), t.name) for t in self.directory.teams()]
            found += [(audience_of("cohort", c.id), c.name) for c in self.directory.cohorts()]
            return [*found, (EVERYONE, "")]
        if not turn.has_role("manager"):
            return []
        managed = {m.team_id for m in self.directory.memberships(turn.user.key)
                   if m.role == "manager"}
        return [(audience_of("team", t.id), t.name) for t in self.directory.teams()
                if t.id in managed]

    def may_see(self, turn: TurnApi, created_by: str | None) -> bool:
        return turn.has_role("coordinator") or (
            turn.has_role("manager") and created_by == str(turn.user.key))

    # ------------------------------------------------------------------ commands
    def cmd_broadcast(self, turn: TurnApi, arg: str) -> None:
        self.start(turn, Draft("now"))

    def cmd_schedule(self, turn: TurnApi, arg: str) -> None:
        self.start(turn, Draft("schedule"))

    def start(self, turn: TurnApi, draft: Draft) -> None:
        if not self.audiences(turn):
            turn.say(turn.t("bc.no_audience"))
            return
        self.goto(turn, draft)

    def goto(self, turn: TurnApi, draft: Draft) -> None:
        step = draft.next_step()
        turn.record = replace(turn.user, awaiting=f"bc:{step}:{draft.encode()}")
        turn.show_current = True
        if step == "preview":
            count = len(self.directory.recipients(draft.audience, self.channels))
            turn.say(turn.t("bc.preview_intro", count=count, audience=self.label(turn, draft)))
            turn.say(*self.preview(turn, draft))
        elif step == "confirm":
            turn.say(*self.preview(turn, draft))

    def label(self, turn: TurnApi, draft: Draft) -> str:
        return audience_text(turn.content, turn.locale, draft.audience, draft.label)

    def preview(self, turn: TurnApi, draft: Draft) -> tuple[str, tuple[Choice, ...]]:
        kind, question = draft.kind, draft.question
        if kind == "cycle":
            kind, question = "prompt", turn.content.sub_components[0].id
        return render_message(turn.content, turn.locale, kind, question, draft.body, PREVIEW)

    def cmd_report(self, turn: TurnApi, arg: str) -> None:
        wanted = arg.strip().lstrip("#")
        if wanted:
            broadcast = self.directory.broadcast(int(wanted)) if wanted.isdigit() else None
            if broadcast is None:
                turn.say(turn.t("bc.report_unknown", id=wanted[:20]))
            else:
                self.show_report(turn, broadcast)
            return
        if not self.recent(turn):
            turn.say(turn.t("bc.report_none"))
            return
        turn.record = replace(turn.user, awaiting="bc:report:")
        turn.show_current = True

    def recent(self, turn: TurnApi) -> list[Broadcast]:
        mine = None if turn.has_role("coordinator") else str(turn.user.key)
        return self.directory.broadcasts(RECENT_REPORTS, created_by=mine)

    def show_report(self, turn: TurnApi, broadcast: Broadcast) -> None:
        # The audience is checked now: a manager who no longer manages the team sees nothing.
        if not self.may_see(turn, broadcast.created_by) or not may_address(
                self.directory, turn.holds, turn.user.key, broadcast.audience):
            turn.refuse(f"/report {broadcast.id}")
            return
        say_report(self.directory, turn, broadcast, self.practice)

    def cmd_schedules(self, turn: TurnApi, arg: str) -> None:
        if not self.my_schedules(turn):
            turn.say(turn.t("bc.schedules_none"))
            return
        turn.record = replace(turn.user, awaiting="bc:schedules:")
        turn.show_current = True

    def my_schedules(self, turn: TurnApi) -> list[Schedule]:
        return [s for s in self.directory.schedules() if self.may_see(turn, s.created_by)]

    # ------------------------------------------------------------------ prompts
    def prompt(self, turn: TurnApi, awaiting: str) -> tuple[str, tuple[Choice, ...]] | None:
        step, payload = split_awaiting(awaiting)
        cancel = turn.choice("cancel", turn.t("bc.cancel"))
        if step == "note":
            return self.note_prompt(turn, payload)
        if step == "report":
            choices = tuple(turn.choice(f"r.{b.id}", turn.t(
                "bc.report_choice", id=b.id, when=date_text(b.created_at),
                audience=audience_text(turn.content, turn.locale, b.audience, b.audience_label)))
                for b in self.recent(turn))
            return turn.t("bc.report_pick"), (*choices, cancel)
        if step == "schedules":
            visible = self.my_schedules(turn)[:MAX_BUTTONS]
            lines = [turn.t("bc.schedules_title")]
            lines += [schedule_text(turn.content, s, turn.locale) for s in visible]
            return "\n".join(lines), (
                *(turn.choice(f"x.{s.id}", turn.t("bc.cancel_schedule", id=s.id))
                  for s in visible), turn.choice("done", turn.t("bc.done")))
        draft = Draft.decode(payload)
        if draft is None:
            return None
        return self.wizard_prompt(turn, step, draft, cancel)

    def wizard_prompt(self, turn: TurnApi, step: str, draft: Draft,
                      cancel: Choice) -> tuple[str, tuple[Choice, ...]] | None:
        content, locale = turn.content, turn.locale
        if step == "aud":
            return turn.t("bc.ask_audience"), (*(
                turn.choice("a." + aud.replace(":", "."),
                            audience_text(content, locale, aud, label))
                for aud, label in self.audiences(turn)[:MAX_BUTTONS]), cancel)
        if step == "content":
            strands = tuple(turn.choice(f"s.{s.id}", s.title.get(locale))
                            for s in content.strands)
            extra = (turn.choice("cycle", turn.t("bc.next_in_cycle")),) \
                if draft.purpose == "schedule" else ()
            return turn.t("bc.ask_content", audience=self.label(turn, draft)), (
                *strands, *extra, turn.choice("text", turn.t("bc.type_text")), cancel)
        if step == "strand":
            strand = content.strand(draft.strand)
            if strand is None:
                return None
            return turn.t("bc.ask_sub", strand=strand.title.get(locale)), (*(
                turn.choice(f"q.{sub.id}", sub.title.get(locale))
                for sub in strand.sub_components), cancel)
        if step == "text":
            return turn.t("bc.ask_text", limit=MAX_BODY_CHARS), (cancel,)
        if step == "preview":
            count = len(self.directory.recipients(draft.audience, self.channels))
            return turn.t("bc.confirm", count=count, audience=self.label(turn, draft)), (
                turn.choice("send", turn.t("bc.send_now")),
                turn.choice("schedule", turn.t("bc.schedule_it")), cancel)
        if step == "freq":
            return turn.t("bc.ask_frequency"), (turn.choice("daily", turn.t("bc.daily")),
                                                turn.choice("weekly", turn.t("bc.weekly")),
                                                cancel)
        if step == "day":
            return turn.t("bc.ask_day"), (*(
                turn.choice(f"d.{i}", name)
                for i, name in enumerate(weekday_names(content, locale))), cancel)
        if step == "time":
            return turn.t("bc.ask_time"), (cancel,)
        if step == "zone":
            return turn.t("bc.ask_zone"), (turn.choice("utc", "UTC"), cancel)
        if step == "confirm":
            return turn.t("bc.confirm_schedule", **self.schedule_values(turn, draft)), (
                turn.choice("save", turn.t("bc.save")), cancel)
        return None

    def schedule_values(self, turn: TurnApi, draft: Draft) -> dict[str, object]:
        content, locale = turn.content, turn.locale
        weekday = draft.weekday if draft.weekday >= 0 else None
        following = first_run(draft.frequency, weekday, draft.time, draft.zone, turn.now)
        return {"when": when_text(content, locale, draft.frequency, weekday, draft.time,
                                  draft.zone),
                "audience": self.label(turn, draft),
                "what": content_text(content, locale, draft.kind, draft.question, draft.body),
                "next": local_text(following, draft.zone)}

    def note_prompt(self, turn: TurnApi, payload: str) -> tuple[str, tuple[Choice, ...]] | None:
        return answers.note_prompt(self.directory, turn, payload)

    # ------------------------------------------------------------------ choices and text
    def act(self, turn: TurnApi, awaiting: str, option: str) -> None:
        step, payload = split_awaiting(awaiting)
        if step == "note":
            turn.say(turn.t("bc.note_skipped"))
            return
        if option in ("cancel", "done"):
            turn.say(turn.t("cancelled"))
            return
        # The role is checked again on every step: it may have changed since the buttons.
        if not turn.has_role("manager"):
            turn.refuse(f"broadcast button {option}")
            return
        if step == "report":
            broadcast = self.directory.broadcast(int(option[2:])) \
                if option[2:].isdigit() else None
            if broadcast is not None:
                self.show_report(turn, broadcast)
            return
        if step == "schedules":
            self.cancel_schedule(turn, option)
            return
        draft = Draft.decode(payload)
        if draft is not None:
            self.wizard_act(turn, awaiting, step, draft, option)

    def wizard_act(self, turn: TurnApi, awaiting: str, step: str, draft: Draft,
                   option: str) -> None:
        if step == "aud" and option.startswith("a."):
            self.choose_audience(turn, awaiting, draft, option[2:].replace(".", ":", 1))
        elif step == "content" and option.startswith("s."):
            self.goto(turn, replace(draft, strand=option[2:]))
        elif step == "content" and option in ("text", "cycle"):
            self.goto(turn, replace(draft, kind=option))
        elif step == "strand" and option.startswith("q."):
            if turn.content.sub_component(option[2:]) is not None:
                self.goto(turn, replace(draft, kind="prompt", question=option[2:]))
        elif step == "preview" and option == "schedule":
            self.goto(turn, replace(draft, purpose="schedule"))
        elif step == "preview" and option == "send":
            self.send(turn, awaiting, draft)
        elif step == "freq" and option in ("daily", "weekly"):
            self.goto(turn, replace(draft, frequency=option))
        elif step == "day" and option[2:].isdigit():
            self.goto(turn, replace(draft, weekday=int(option[2:]) % 7))
        elif step == "zone" and option == "utc":
            self.goto(turn, replace(draft, zone="UTC"))
        elif step == "confirm" and option == "save":
            self.save_schedule(turn, awaiting, draft)

    def choose_audience(self, turn: TurnApi, awaiting: str, draft: Draft, audience: str) -> None:
        label = dict(self.audiences(turn)).get(audience)
        if label is None:
            turn.refuse(f"audience {audience}")
            return
        chosen = replace(draft, audience=audience, label=label)
        if not self.directory.recipients(audience, self.channels):
            # Nothing changes: the user stays at the audience question.
            turn.say(turn.t("bc.empty_audience", audience=self.label(turn, chosen)))
            turn.record = replace(turn.user, awaiting=awaiting)
            return
        self.goto(turn, chosen)

    def send(self, turn: TurnApi, awaiting: str, draft: Draft) -> None:
        if draft.audience not in dict(self.audiences(turn)):
            turn.refuse(f"broadcast to {draft.audience}")
            return
        try:
            kind, question, body = check_content(
                turn.content, draft.question if draft.kind == "prompt" else None,
                draft.body if draft.kind == "text" else None)
            op, recipients = plan_broadcast(self.directory, draft.audience, draft.label, kind,
                                            question, body, turn.user.key, turn.now,
                                            self.channels)
        except Rejected as error:
            if error.message_id == "bc.empty_audience":
                error.values["audience"] = self.label(turn, draft)
            turn.say(error.text(turn.content, turn.locale))
            turn.record = replace(turn.user, awaiting=awaiting)
            return
        turn.ops.append(op)
        turn.say(turn.t("bc.sending", count=len(recipients), audience=self.label(turn, draft)))

    def save_schedule(self, turn: TurnApi, awaiting: str, draft: Draft) -> None:
        if draft.audience not in dict(self.audiences(turn)):
            turn.refuse(f"schedule to {draft.audience}")
            return
        weekday = draft.weekday if draft.weekday >= 0 else None
        try:
            if draft.kind != "cycle":
                check_content(turn.content, draft.question if draft.kind == "prompt" else None,
                              draft.body if draft.kind == "text" else None)
            following = first_run(draft.frequency, weekday, draft.time, draft.zone, turn.now)
        except Rejected as error:
            turn.say(error.text(turn.content, turn.locale))
            turn.record = replace(turn.user, awaiting=awaiting)
            return
        turn.ops.append(CreateSchedule(NewSchedule(
            str(turn.user.key), draft.frequency, weekday, draft.time, draft.zone,
            draft.audience, draft.label, draft.kind, draft.question or None,
            draft.body or None, following, turn.now)))
        turn.say(turn.t("bc.schedule_saved", **self.schedule_values(turn, draft)))

    def cancel_schedule(self, turn: TurnApi, option: str) -> None:
        schedule = self.directory.schedule(int(option[2:])) if option[2:].isdigit() else None
        if schedule is None or schedule.status != "active":
            return
        if not self.may_see(turn, schedule.created_by):
            turn.refuse(f"cancel schedule {schedule.id}")
            return
        turn.ops.append(CancelSchedule(schedule.id, turn.now))
        turn.say(turn.t("bc.schedule_cancelled", id=schedule.id))

    def text(self, turn: TurnApi, awaiting: str, text: str) -> bool:
        step, payload = split_awaiting(awaiting)
        if step == "note":
            self.record_note(turn, payload, text)
            return True
        draft = Draft.decode(payload)
        if draft is None or step not in ("text", "time", "zone"):
            return False
        if not turn.has_role("manager"):
            turn.refuse("broadcast text")
            return True
        try:
            if step == "text":
                _, _, body = check_content(turn.content, None, text)
                self.goto(turn, replace(draft, body=body or ""))
            elif step == "time":
                hour, minute = parse_clock(text)
                self.goto(turn, replace(draft, time=f"{hour:02d}:{minute:02d}"))
            else:
                self.goto(turn, replace(draft, zone=zone_of(text).key))
        except Rejected as error:
            turn.say(error.text(turn.content, turn.locale))
        return True

    def record_note(self, turn: TurnApi, payload: str, text: str) -> None:
        answers.record_note(self.directory, turn, payload, text)

    # ------------------------------------------------------------------ answers (answers.py)
    def button(self, turn: TurnApi, data: str) -> bool:
        return answers.button(self.directory, turn, data)


    COMMANDS = (
        Command("broadcast", cmd_broadcast, "menu.broadcast", requires="manager"),
        Command("schedule", cmd_schedule, "menu.schedule", requires="manager"),
        Command("schedules", cmd_schedules, "menu.schedules", requires="manager"),
        Command("report", cmd_report, "menu.report", requires="manager"),
    )
