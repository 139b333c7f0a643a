"""What the user reads at the end of a cycle, with its buttons; the scores block it shares."""

from __future__ import annotations

from bot.engine.core.events import Choice
from bot.engine.core.feature_api import TurnApi
from bot.engine.core.records import Position
from bot.engine.core.summaries import Summary, summarise


def cycle_summary(turn: TurnApi, pos: Position) -> tuple[str, tuple[Choice, ...]]:
    """The end-of-cycle summary and its offer of the next cycle."""
    levels = turn.steps.cycle_levels(pos)
    summary = summarise(turn.content, levels)
    first = turn.content.strands[0].id
    if summary.weakest is None:
        return (turn.t("summary.empty", cycle=pos.cycle),
                (turn.choice(first, turn.t("summary.start_at",
                                           strand=turn.strand_title(first))),
                 turn.choice("later", turn.t("summary.later"))))
    text = scores_block(turn, summary, turn.t("summary.title", cycle=pos.cycle), ".1f")
    if summary.focus_question and summary.focus_level:
        question = turn.content.questions[summary.focus_question]
        takeaway = turn.action(question, summary.focus_level)
        sub = turn.content.sub_component(question.id)
        if takeaway and sub:
            text += "\n\n" + turn.t("summary.takeaway", title=sub.title.get(turn.locale),
                                    prompt=takeaway)
    # The paper's cycle returns to Outcomes after Accountability; the weakest strand is the
    # alternative for someone who would rather work on it first.
    weakest = summary.weakest.strand
    choices = [turn.choice("next", turn.t("summary.start_at",
                                          strand=turn.strand_title(first)))]
    if weakest != first:
        choices.append(turn.choice(weakest, turn.t("summary.start_weakest",
                                                   strand=turn.strand_title(weakest))))
    choices.append(turn.choice("later", turn.t("summary.later")))
    return text, tuple(choices)


def scores_block(turn: TurnApi, summary: Summary, title: str, mean_format: str) -> str:
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
