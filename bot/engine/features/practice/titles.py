"""The short action title a commitment is referred back to by."""

from __future__ import annotations

from bot.definitions.model import Content


def action_title(content: Content, question_id: str, level: int, persona: str | None,
                 locale: str) -> str:
    """The title of the action the user committed to (its persona variant), in `locale`;
    the sub-component's id if the content no longer has it."""
    question = content.questions.get(question_id)
    prompt = question.prompt_for(level, persona) if question else None
    return prompt.title.get(locale) if prompt is not None else question_id
