"""From advice to practice: *I'll try this* under a prompt, the follow-up, /actions and Drop."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from bot.definitions.model import Question
from bot.engine.core.commands import Command
from bot.engine.core.events import Choice
from bot.engine.core.feature_api import Feature, TurnApi
from bot.engine.core.local_time import local_text
from bot.engine.core.records import MAX_NOTE_CHARS
from bot.engine.features.practice.timing import DAYS, DEFAULT_DAYS, follow_up_at
from bot.engine.features.practice.titles import action_title
from bot.engine.features.practice.views import actions_view, title_of
from bot.engine.ports.practice import (
    AnswerFollowUp,
    Commitment,
    MakeCommitment,
    NoteFollowUp,
    PracticeBook,
)

# 'Not yet' asks once more, this many days later; after the second ask it is not asked again.
ASK_AGAIN_DAYS = 7
MAX_ASKS = 2
ANSWERABLE = ("open", "not_yet")
PRACTICE_MESSAGES: tuple[str, ...] = (
    "practice.try", "practice.cancel", "practice.when", "practice.days", "practice.committed",
    "practice.already", "practice.followup", "practice.helped", "practice.mixed",
    "practice.not_yet", "practice.drop", "practice.thanks", "practice.note_ask",
    "practice.not_yet_again", "practice.not_yet_last", "practice.dropped", "practice.gone",
    "practice.none", "practice.open", "practice.tried", "practice.drop_button",
    "practice.outcome.helped", "practice.outcome.mixed", "practice.outcome.not_yet",
    "practice.outcome.dropped", "practice.outcome.open", "practice.actions_title",
    "skip", "note.saved", "cancelled", "progress.tried", "chart.progress.tried",
    "tv.tried", "tv.tried_withheld", "bc.report_tried", "bc.report_tried_withheld",
)


class PracticeFeature(Feature):
    """Commitments and their follow-ups; the due follow-ups are sent by followups.py."""

    prefix = "practice"

    def __init__(self, book: PracticeBook,
                 zone_of: Callable[[str], str | None] = lambda user: None) -> None:
        self.book = book
        # The user's time zone (chosen for reminders), for a follow-up at a sensible hour.
        self.zone_of = zone_of

    def zone(self, turn: TurnApi) -> str:
        """The user's time zone, UTC until they chose one."""
        return self.zone_of(str(turn.user.key)) or "UTC"

    def cmd_actions(self, turn: TurnApi, arg: str) -> None:
        text, choices = actions_view(turn, self.book.commitments(str(turn.user.key)))
        turn.say(text, choices)

    COMMANDS = (Command("actions", cmd_actions, "command.actions"),)

    def actions_tried(self, turn: TurnApi) -> dict[str, int]:
        return self.book.tried_by_strand(str(turn.user.key))

    # ------------------------------------------------------------------ the button under a prompt
    def prompt_buttons(self, turn: TurnApi, question: Question, level: int,
                       broadcast: int | None = None) -> tuple[Choice, ...]:
        data = f"practice:try:{question.id}:{level}" + (f":{broadcast}" if broadcast else "")
        return (Choice(data, turn.t("practice.try")),)

    def button(self, turn: TurnApi, data: str) -> bool:
        parts = data.split(":")
        if len(parts) in (4, 5) and parts[1] == "try":
            self.offer_days(turn, parts[2], parts[3], ":".join(parts[4:]))
        elif len(parts) == 4 and parts[1] == "o":
            self.answer(turn, parts[2], parts[3])
        elif len(parts) == 3 and parts[1] == "drop":
            self.answer(turn, parts[2], "dropped")
        else:
            return False
        return True

    def offer_days(self, turn: TurnApi, question_id: str, level_text: str,
                   broadcast: str = "") -> None:
        question = turn.content.questions.get(question_id)
        level = int(level_text) if level_text.isdigit() else None
        if question is None or level is None or question.prompt_for(level) is None:
            turn.say(turn.t("practice.gone"))
            turn.show_current = True
            return
        key = str(turn.user.key)
        if any(c.question == question_id and c.status in ANSWERABLE and c.due_at is not None
               for c in self.book.commitments(key)):
            turn.say(turn.t("practice.already"))
            turn.show_current = True
            return
        if broadcast and not broadcast.isdigit():
            broadcast = ""
        turn.record = replace(turn.user, awaiting=":".join(
            ("practice", "days", question_id, level_text, *([broadcast] if broadcast else ()))))
        turn.show_current = True

    def owned(self, turn: TurnApi, id_text: str) -> Commitment | None:
        """The user's own commitment with this id, still answerable; None otherwise."""
        found = self.book.commitment(int(id_text)) if id_text.isdigit() else None
        if found is None or found.user != str(turn.user.key) or found.status not in ANSWERABLE:
            return None
        return found

    def answer(self, turn: TurnApi, id_text: str, outcome: str) -> None:
        found = self.owned(turn, id_text)
        if found is None or outcome not in ("helped", "mixed", "not_yet", "dropped"):
            turn.say(turn.t("practice.gone"))
            turn.show_current = True
            return
        if outcome != "dropped" and found.asked == 0:
            turn.say(turn.t("practice.gone"))  # a follow-up button for one never sent
            turn.show_current = True
            return
        due = None
        title = title_of(turn, found)
        if outcome == "not_yet" and found.asked < MAX_ASKS:
            due = follow_up_at(turn.now, ASK_AGAIN_DAYS, self.zone(turn))
            turn.say(turn.t("practice.not_yet_again", title=title,
                            when=local_text(due, self.zone(turn))))
        elif outcome == "not_yet":
            turn.say(turn.t("practice.not_yet_last", title=title))
        elif outcome == "dropped":
            turn.say(turn.t("practice.dropped", title=title))
        turn.ops.append(AnswerFollowUp(found.id, found.user, outcome, turn.now, due))
        if outcome in ("helped", "mixed"):
            turn.say(turn.t("practice.thanks"))
            turn.record = replace(turn.user, awaiting=f"practice:note:{found.id}")
        turn.show_current = True

    # ------------------------------------------------------------------ awaiting states
    def prompt(self, turn: TurnApi, awaiting: str) -> tuple[str, tuple[Choice, ...]] | None:
        parts = awaiting.split(":")
        if parts[1] == "days" and len(parts) in (4, 5) and parts[3].isdigit():
            title = action_title(turn.content, parts[2], int(parts[3]), turn.user.persona,
                                 turn.locale)
            choices = tuple(turn.choice(str(d), turn.t("practice.days", days=d)) for d in DAYS)
            cancel = turn.choice("no", turn.t("practice.cancel"))
            return turn.t("practice.when", title=title), (*choices, cancel)
        if parts[1] == "note":
            return turn.t("practice.note_ask"), (turn.choice("skip", turn.t("skip")),)
        return None

    def act(self, turn: TurnApi, awaiting: str, option: str) -> None:
        parts = awaiting.split(":")
        if parts[1] == "days" and option.isdigit() and int(option) in DAYS:
            question = turn.content.questions.get(parts[2])
            if question is None:
                return
            days = int(option) or DEFAULT_DAYS
            due = follow_up_at(turn.now, days, self.zone(turn))
            # From a broadcast prompt: the programme sees how it went, in aggregate only.
            broadcast = int(parts[4]) if len(parts) == 5 and parts[4].isdigit() else None
            turn.ops.append(MakeCommitment(str(turn.user.key), question.id, question.strand,
                                           int(parts[3]), turn.user.persona, turn.now, due,
                                           broadcast))
            title = action_title(turn.content, question.id, int(parts[3]), turn.user.persona,
                                 turn.locale)
            turn.say(turn.t("practice.committed", title=title,
                            when=local_text(due, self.zone(turn))))
        elif option == "no":
            turn.say(turn.t("cancelled"))

    def text(self, turn: TurnApi, awaiting: str, text: str) -> bool:
        parts = awaiting.split(":")
        if parts[1] != "note" or len(parts) != 3 or not parts[2].isdigit():
            return False
        turn.ops.append(NoteFollowUp(int(parts[2]), str(turn.user.key), text[:MAX_NOTE_CHARS]))
        turn.say(turn.t("note.saved"))
        turn.record = replace(turn.user, awaiting=None)
        return True
