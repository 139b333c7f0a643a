"""What the user reads at the end of a cycle or a one-minute reflection, with its buttons."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.engine.events import Choice
from bot.engine.records import Position
from bot.engine.summaries import Summary, summarise

if TYPE_CHECKING:
    from bot.engine.conversation import Turn


def cycle_summary(turn: Turn, pos: Position) -> tuple[str, tuple[Choice, ...]]:
    """The end-of-cycle summary and its offer of the next cycle."""
    levels = turn.cycle_levels(pos)
    summary = summarise(turn.content, levels)
    first = turn.content.strands[0].id
    if summary.weakest is None:
        return (turn.t("summary.empty", cycle=pos.cycle),
                (turn.choice(first, turn.t("summary.start_at",
                                           strand=turn.strand_title(first))),
                 turn.choice("later", turn.t("summary.later"))))
    text = _scores(turn, summary, turn.t("summary.title", cycle=pos.cycle), ".1f")
    if summary.focus_question and summary.focus_level:
        question = turn.content.questions[summary.focus_question]
        prompt = question.prompt(summary.focus_level)
        sub = turn.content.sub_component(question.id)
        if prompt and sub:
            takeaway = turn.prompt_text(question, prompt.get(turn.locale))
            text += "\n\n" + turn.t("summary.takeaway", title=sub.title.get(turn.locale),
                                    prompt=takeaway)
    weakest = summary.weakest.strand
    choices = [turn.choice("next", turn.t("summary.start_at",
                                          strand=turn.strand_title(weakest)))]
    if weakest != first:
        choices.append(turn.choice(first, turn.t("summary.start_at",
                                                 strand=turn.strand_title(first))))
    choices.append(turn.choice("later", turn.t("summary.later")))
    return text, tuple(choices)


def reflection_summary(turn: Turn, pos: Position) -> tuple[str, tuple[Choice, ...]]:
    """The one-minute reflection's summary: the strand to focus on and its prompt."""
    summary = summarise(turn.content, turn.cycle_levels(pos))
    done = turn.choice("done", turn.t("reflect.finish"))
    if summary.weakest is None:
        return turn.t("reflect.empty"), (done,)
    weakest = turn.strand_title(summary.weakest.strand)
    # One answer per strand in a reflection: the mean is a whole level.
    text = _scores(turn, summary, turn.t("reflect.title"), ".0f")
    if summary.focus_question and summary.focus_level:
        question = turn.content.questions[summary.focus_question]
        prompt = question.prompt(summary.focus_level)
        if prompt:
            text += "\n\n" + turn.prompt_text(question, prompt.get(turn.locale))
    start = turn.choice("strand", turn.t("reflect.start_strand", strand=weakest))
    return text, (start, done)


def _scores(turn: Turn, summary: Summary, title: str, mean_format: str) -> str:
    """The title, each strand's mean level, then the strongest and weakest strand."""
    assert summary.weakest is not None
    lines = [title]
    for score in summary.scores:
        lines.append(f"  {turn.strand_title(score.strand)}: {score.mean:{mean_format}} / 4")
    if summary.strongest is not None:
        lines.append(turn.t("summary.strongest",
                            strand=turn.strand_title(summary.strongest.strand)))
    else:
        lines.append(turn.t("summary.level"))
    lines.append(turn.t("summary.weakest", strand=turn.strand_title(summary.weakest.strand)))
    return "\n".join(lines)
