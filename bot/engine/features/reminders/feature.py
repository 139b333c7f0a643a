"""Reminders to carry on, opt-in: offered on /pause, seen and changed with /reminders."""

from __future__ import annotations

from dataclasses import replace

from bot.engine.core.commands import Command
from bot.engine.core.events import Choice
from bot.engine.core.feature_api import Feature, TurnApi
from bot.engine.core.local_time import local_text
from bot.engine.features.practice.timing import daytime
from bot.engine.features.reminders.zones import likely_zones, typed_zone
from bot.engine.ports.reminders import Reminder, ReminderBook, SetReminder

DAY = 86400.0
# Never more than one nudge every this many days.
MIN_GAP_DAYS = 3
CHOICES = (1, 3)
REMINDER_MESSAGES: tuple[str, ...] = (
    "remind.offer", "remind.tomorrow", "remind.in_3_days", "remind.no", "remind.set",
    "remind.off", "remind.zone_ask", "remind.zone_unknown", "remind.status_on",
    "remind.status_off", "remind.change_zone", "remind.carry_on", "remind.nudge",
    "remind.offer_quiet",
)


def offer_buttons(turn: TurnApi) -> tuple[Choice, ...]:
    """*Remind me tomorrow* / *in 3 days* / *No thanks*, valid beyond this turn."""
    return (Choice("remind:set:1", turn.t("remind.tomorrow")),
            Choice("remind:set:3", turn.t("remind.in_3_days")),
            Choice("remind:no", turn.t("remind.no")))


def next_nudge(now: float, days: int, zone: str, found: Reminder | None) -> float:
    """`days` from now, in the daytime of `zone`, and never within 3 days of the last nudge."""
    wanted = now + days * DAY
    if found is not None and found.last_nudge_at is not None:
        wanted = max(wanted, found.last_nudge_at + MIN_GAP_DAYS * DAY)
    return daytime(wanted, zone)


class RemindersFeature(Feature):
    """The user's opt-in to nudges; the nudges themselves are sent by nudges.py."""

    prefix = "remind"

    def __init__(self, book: ReminderBook) -> None:
        self.book = book

    def cmd_reminders(self, turn: TurnApi, arg: str) -> None:
        found = self.book.reminder(str(turn.user.key))
        zone = (found.zone if found else None) or "UTC"
        if found is not None and found.next_at is not None:
            text = turn.t("remind.status_on", when=local_text(found.next_at, zone))
        else:
            text = turn.t("remind.status_off")
        turn.say(text, (*offer_buttons(turn),
                        Choice("remind:zone", turn.t("remind.change_zone"))))

    COMMANDS = (Command("reminders", cmd_reminders, "command.reminders"),)

    def after_pause(self, turn: TurnApi) -> None:
        turn.say(turn.t("remind.offer"), offer_buttons(turn))

    def button(self, turn: TurnApi, data: str) -> bool:
        parts = data.split(":")
        key = str(turn.user.key)
        found = self.book.reminder(key)
        if parts[1:] == ["no"]:
            turn.ops.append(SetReminder(key, None))
            turn.say(turn.t("remind.off"))
        elif parts[1:] == ["carry"]:
            turn.steps.ensure_cycle()
            turn.record = replace(turn.user, active="cycle")
        elif parts[1:] == ["zone"]:
            turn.record = replace(turn.user, awaiting="remind:zone:0")
        elif len(parts) == 3 and parts[1] == "set" and parts[2] in ("1", "3"):
            if found is None or found.zone is None:
                turn.record = replace(turn.user, awaiting=f"remind:zone:{parts[2]}")
            else:
                self.plan(turn, int(parts[2]), found.zone, found)
        else:
            return False
        turn.show_current = True
        return True

    def plan(self, turn: TurnApi, days: int, zone: str, found: Reminder | None) -> None:
        """Plan the next nudge `days` from now (0: only the time zone changes)."""
        key = str(turn.user.key)
        if days == 0:
            at = found.next_at if found else None
            if at is not None:
                at = daytime(at, zone)
            turn.ops.append(SetReminder(key, at, zone))
            turn.say(turn.t("remind.status_on", when=local_text(at, zone)) if at
                     else turn.t("remind.status_off"))
            return
        at = next_nudge(turn.now, days, zone, found)
        turn.ops.append(SetReminder(key, at, zone))
        turn.say(turn.t("remind.set", when=local_text(at, zone)))

    # ------------------------------------------------------------------ the time zone, once
    def prompt(self, turn: TurnApi, awaiting: str) -> tuple[str, tuple[Choice, ...]] | None:
        if not awaiting.startswith("remind:zone:"):
            return None
        zones = likely_zones(turn.locale)
        return turn.t("remind.zone_ask"), tuple(turn.choice(f"z{i}", z)
                                                for i, z in enumerate(zones))

    def act(self, turn: TurnApi, awaiting: str, option: str) -> None:
        zones = likely_zones(turn.locale)
        if option.startswith("z") and option[1:].isdigit() and int(option[1:]) < len(zones):
            self.chose_zone(turn, awaiting, zones[int(option[1:])])

    def text(self, turn: TurnApi, awaiting: str, text: str) -> bool:
        if not awaiting.startswith("remind:zone:"):
            return False
        zone = typed_zone(text)
        if zone is None:
            turn.say(turn.t("remind.zone_unknown", zone=text.strip()[:60]))
            return True
        turn.record = replace(turn.user, awaiting=None)
        self.chose_zone(turn, awaiting, zone)
        return True

    def chose_zone(self, turn: TurnApi, awaiting: str, zone: str) -> None:
        days = awaiting.rsplit(":", 1)[1]
        found = self.book.reminder(str(turn.user.key))
        self.plan(turn, int(days) if days.isdigit() else 0, zone, found)
