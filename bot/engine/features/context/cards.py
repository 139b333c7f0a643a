"""The texts shown on demand: a question's levels, why it matters, an evidence card, /about."""

from __future__ import annotations

from bot.definitions.model import Question
from bot.engine.core.feature_api import TurnApi
from bot.engine.core.texts import evidence_card as full_card

# The messages of content/messages/context.yaml that this feature says.
CONTEXT_MESSAGES = (
    "about.text", "button.evidence", "button.levels", "button.why", "context.gone",
    "evidence.no_link", "help.levels",
    "levels.general.1", "levels.general.2", "levels.general.3", "levels.general.4",
    "levels.general.hint", "levels.general.title", "levels.line", "levels.title", "why.title",
)


def levels_card(turn: TurnApi, question: Question) -> str:
    """What each level looks like in practice for this question (its descriptors; where a
    level has none, what the level means for any question)."""
    scale = turn.content.scales[question.scale]
    lines = [turn.t("levels.title", title=question_title(turn, question))]
    for level in scale.levels:
        descriptor = question.descriptor(level.level)
        meaning = descriptor.get(turn.locale) if descriptor else general_meaning(turn,
                                                                                 level.level)
        lines.append(turn.t("levels.line", label=level.label.get(turn.locale), meaning=meaning))
    return "\n".join(lines)


def general_levels_card(turn: TurnApi) -> str:
    """What the four levels mean for any question, and where to find one question's."""
    scale = next(iter(turn.content.scales.values()))
    lines = [turn.t("levels.general.title")]
    for level in scale.levels:
        lines.append(turn.t("levels.line", label=level.label.get(turn.locale),
                            meaning=general_meaning(turn, level.level)))
    return "\n".join(lines) + "\n\n" + turn.t("levels.general.hint")


def general_meaning(turn: TurnApi, level: int) -> str:
    """What a level means for any question (each id written out, so validation finds it)."""
    meanings = {1: turn.t("levels.general.1"), 2: turn.t("levels.general.2"),
                3: turn.t("levels.general.3"), 4: turn.t("levels.general.4")}
    return meanings.get(level, "")


def why_card(turn: TurnApi, question: Question) -> str:
    """Why the question matters, in our own words (its `about`, else its description)."""
    sub = turn.content.sub_component(question.id)
    strand = turn.content.strand(question.strand)
    about = question.about or (sub.description if sub else
                               strand.description if strand else None)
    text = about.get(turn.locale) if about else ""
    return turn.t("why.title", title=question_title(turn, question)) + "\n" + text


def evidence_card(turn: TurnApi, ref_id: str) -> str | None:
    """A reference in full, what it shows, and where to read it; None if it is unknown."""
    ref = turn.content.references.get(ref_id)
    if ref is None:
        return None
    card = full_card(turn.content, ref, turn.locale)
    return card if ref.free_url else card + "\n\n" + turn.t("evidence.no_link")


def about_text(turn: TurnApi) -> str:
    """The framework, the collaborative citizen at its centre, and whose work it is."""
    strands = ", ".join(s.title.get(turn.locale) for s in turn.content.strands)
    return turn.t("about.text", strands=strands)


def question_title(turn: TurnApi, question: Question) -> str:
    """The sub-component's title (a quick question is titled by its strand)."""
    sub = turn.content.sub_component(question.id)
    return sub.title.get(turn.locale) if sub else turn.strand_title(question.strand)
