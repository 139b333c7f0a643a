"""Context on demand: the buttons under questions and prompts, /levels and /about.

The buttons carry what they explain ('ctx:levels:outcomes.insight', 'ctx:ev:arnstein-1969'),
not the turn: what a level means or what a reference shows does not go stale, so a button
on an earlier question still answers, and none of them moves the user from their place.
"""

from __future__ import annotations

from bot.definitions.model import Question
from bot.engine.core.commands import Command
from bot.engine.core.dialogue_steps import CYCLE
from bot.engine.core.events import Choice
from bot.engine.core.feature_api import Feature, TurnApi
from bot.engine.features.context.cards import (
    about_text,
    evidence_card,
    general_levels_card,
    levels_card,
    why_card,
)

PREFIX = "ctx"


def levels_button(turn: TurnApi, question: Question) -> Choice:
    """'What do the levels mean?' for a question."""
    return Choice(f"{PREFIX}:levels:{question.id}", turn.t("button.levels"))


def why_button(turn: TurnApi, question: Question) -> Choice:
    """'Why this matters' for a question."""
    return Choice(f"{PREFIX}:why:{question.id}", turn.t("button.why"))


def evidence_button(turn: TurnApi, question: Question) -> Choice | None:
    """'About this evidence' for a question's first reference, if it has one."""
    if not question.references or question.references[0] not in turn.content.references:
        return None
    return Choice(f"{PREFIX}:ev:{question.references[0]}", turn.t("button.evidence"))


class ContextFeature(Feature):
    """Answers the context buttons and the /levels and /about commands."""

    prefix = PREFIX

    def cmd_about(self, turn: TurnApi, arg: str) -> None:
        turn.say(about_text(turn))

    def cmd_levels(self, turn: TurnApi, arg: str) -> None:
        question = self.current_question(turn)
        if question is None:
            turn.say(general_levels_card(turn))
        else:
            turn.say(levels_card(turn, question))
        turn.show_current = question is not None

    COMMANDS = (
        Command("levels", cmd_levels, "command.levels"),
        Command("about", cmd_about, "command.about", before_consent=True),
    )

    def button(self, turn: TurnApi, data: str) -> bool:
        kind, _, key = data.removeprefix(PREFIX + ":").partition(":")
        question = turn.content.questions.get(key)
        text: str | None = None
        if kind == "levels" and question is not None:
            text = levels_card(turn, question)
        elif kind == "why" and question is not None:
            text = why_card(turn, question)
        elif kind == "ev":
            text = evidence_card(turn, key)
        if text is None:
            # Forged, or its question or reference was removed by a content change.
            turn.stale = True
            turn.say(turn.t("context.gone"))
            turn.show_current = True
        else:
            turn.say(text)
        return True

    @staticmethod
    def current_question(turn: TurnApi) -> Question | None:
        """The question the user is on in the cycle (or reflection), if any."""
        pos = turn.steps.position() if turn.user.active else turn.user.position(CYCLE)
        step = turn.steps.step_at(pos) if pos is not None else None
        return turn.content.questions.get(step.ask) if step and step.ask else None
