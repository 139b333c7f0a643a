"""The features every user has, in menu order: cycle, reflection, own data, context, help."""

from __future__ import annotations

from bot.engine.core.commands import Command
from bot.engine.core.feature_api import Feature
from bot.engine.features.context.feature import ContextFeature
from bot.engine.features.cycle.feature import CycleFeature
from bot.engine.features.help.feature import HelpFeature
from bot.engine.features.me.feature import MeFeature
from bot.engine.features.reflect.feature import ReflectFeature

PERSONAL = (CycleFeature, ReflectFeature, MeFeature, ContextFeature, HelpFeature)
PERSONAL_COMMANDS: tuple[Command, ...] = tuple(c for f in PERSONAL for c in f.COMMANDS)


def personal_features() -> tuple[Feature, ...]:
    """One instance of each personal feature, for an Engine."""
    return tuple(feature() for feature in PERSONAL)
