"""Understanding typed answers: '2', 'Developing', '  developing ', an option's label."""

from __future__ import annotations

import re

from bot.definitions.model import Scale
from bot.engine.core.events import Choice

_NUMBER = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")


def normalise(text: str) -> str:
    """Case-folded text with runs of spaces collapsed and surrounding punctuation removed."""
    return " ".join(text.casefold().split()).strip(" .!?,;:")


def typed_level(text: str, scale: Scale, locale: str) -> int | None:
    """The scale level a typed answer means, or None when it is not an answer."""
    match = _NUMBER.match(text)
    if match:
        number = int(match.group(1))
        return number if scale.level(number) else None
    wanted = normalise(text)
    for level in scale.levels:
        if wanted in level.words(locale) or wanted in level.words("en"):
            return level.level
    return None


def typed_choice(text: str, choices: tuple[Choice, ...]) -> Choice | None:
    """The choice a typed number (1-based) or label means, or None."""
    match = _NUMBER.match(text)
    if match:
        index = int(match.group(1)) - 1
        return choices[index] if 0 <= index < len(choices) else None
    wanted = normalise(text)
    return next((c for c in choices if normalise(c.label) == wanted), None)
