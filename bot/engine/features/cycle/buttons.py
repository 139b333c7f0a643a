"""The buttons under a question and under the prompt for its answer, composed in one place."""

from __future__ import annotations

from bot.definitions.model import Question
from bot.engine.core.events import Choice
from bot.engine.core.feature_api import TurnApi
from bot.engine.features.context.feature import evidence_button, levels_button, why_button


def question_buttons(turn: TurnApi, question: Question) -> tuple[Choice, ...]:
    """After the answers and Skip: what the levels mean, and why the question matters."""
    return levels_button(turn, question), why_button(turn, question)


def prompt_buttons(turn: TurnApi, question: Question, level: int) -> tuple[Choice, ...]:
    """Under the prompt for an answer at `level`: the evidence card (other features' buttons
    for the prompt belong here too, in the order the user should see them)."""
    evidence = evidence_button(turn, question)
    return (evidence,) if evidence is not None else ()
