"""What the user reads at the end of the one-minute reflection: the strand to focus on."""

from __future__ import annotations

from bot.engine.core.events import Choice
from bot.engine.core.feature_api import TurnApi
from bot.engine.core.records import Position
from bot.engine.core.summaries import summarise
from bot.engine.features.cycle.summary_views import scores_block


def reflection_summary(turn: TurnApi, pos: Position) -> tuple[str, tuple[Choice, ...]]:
    """The one-minute reflection's summary: the strand to focus on and its prompt."""
    summary = summarise(turn.content, turn.steps.cycle_levels(pos))
    done = turn.choice("done", turn.t("reflect.finish"))
    if summary.weakest is None:
        return turn.t("reflect.empty"), (done,)
    weakest = turn.strand_title(summary.weakest.strand)
    # One answer per strand in a reflection: the mean is a whole level.
    text = scores_block(turn, summary, turn.t("reflect.title"), ".0f")
    if summary.focus_question and summary.focus_level:
        question = turn.content.questions[summary.focus_question]
        prompt = turn.action(question, summary.focus_level)
        if prompt:
            text += "\n\n" + prompt
    start = turn.choice("strand", turn.t("reflect.start_strand", strand=weakest))
    return text, (start, done)
