"""The turn's calls to every feature's hooks: buttons under a prompt, actions tried, a pause."""

from __future__ import annotations

from typing import Protocol, cast

from bot.definitions.model import Question
from bot.engine.core.events import Choice
from bot.engine.core.feature_api import Feature, TurnApi


class HasFeatures(Protocol):
    """What the hooks need of the engine running the turn."""

    @property
    def features(self) -> tuple[Feature, ...]: ...


class FeatureHooks:
    """Mixed into the Turn: each hook asks every feature, in order, and joins the answers."""

    engine: HasFeatures

    def _api(self) -> TurnApi:
        # The Turn satisfies TurnApi; this mixin alone does not, hence the cast.
        return cast(TurnApi, self)

    def question_buttons(self, question: Question) -> tuple[Choice, ...]:
        found = (f.question_buttons(self._api(), question) for f in self.engine.features)
        return tuple(c for buttons in found for c in buttons)

    def prompt_buttons(self, question: Question, level: int,
                       broadcast: int | None = None) -> tuple[Choice, ...]:
        found = (f.prompt_buttons(self._api(), question, level, broadcast)
                 for f in self.engine.features)
        return tuple(c for buttons in found for c in buttons)

    def actions_tried(self) -> dict[str, int]:
        counts = (f.actions_tried(self._api()) for f in self.engine.features)
        return {strand: n for found in counts for strand, n in found.items()}

    def paused(self) -> None:
        for feature in self.engine.features:
            feature.after_pause(self._api())
