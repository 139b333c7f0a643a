"""What the user reads at the end of the one-minute reflection: the strand to focus on."""

from __future__ import annotations

from bot.definitions.model import Question
from bot.engine.core.dialogue_steps import CYCLE
from bot.engine.core.events import Choice
from bot.engine.core.feature_api import TurnApi
from bot.engine.core.records import Position
from bot.engine.core.summaries import latest_levels, summarise
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
    weakest_sub = weakest_sub_component(turn, summary.weakest.strand)
    if weakest_sub is not None:
        question, level = weakest_sub
        prompt = turn.action(question, level)
        sub = turn.content.sub_component(question.id)
        if prompt and sub:
            text += "\n\n" + turn.t("summary.takeaway", title=sub.title.get(turn.locale),
                                    prompt=prompt)
    elif summary.focus_question and summary.focus_level:
        # No cycle answers in that strand yet: the reflection's own prompt for the level chosen.
        question = turn.content.questions[summary.focus_question]
        prompt = turn.action(question, summary.focus_level)
        if prompt:
            text += "\n\n" + prompt
    start = turn.choice("strand", turn.t("reflect.start_strand", strand=weakest))
    return text, (start, done)


def weakest_sub_component(turn: TurnApi, strand_id: str) -> tuple[Question, int] | None:
    """The user's weakest sub-component of a strand by their latest cycle answers, with its
    level (ties: the earlier in the framework); None when none of it is answered yet."""
    levels = latest_levels(turn.store.answers(turn.user.key, CYCLE))
    strand = turn.content.strand(strand_id)
    if strand is None:
        return None
    found = [(levels[sub.id], i, sub.id) for i, sub in enumerate(strand.sub_components)
             if sub.id in levels and sub.id in turn.content.questions]
    if not found:
        return None
    level, _, question_id = min(found)
    return turn.content.questions[question_id], level
