"""Wires the coordinator features (teams, broadcasts, team views) and their RoleBook."""

from __future__ import annotations

from bot.engine.core.feature_api import Feature
from bot.engine.core.roles import DirectoryRoles
from bot.engine.features.broadcasts.feature import BroadcastsFeature
from bot.engine.features.team_view.feature import TeamViewFeature
from bot.engine.features.teams.feature import TeamsFeature
from bot.engine.ports.directory import Directory
from bot.engine.ports.practice import PracticeBook


def coordination(directory: Directory, admins: frozenset[str] = frozenset(),
                 bot_username: str = "ccbot",
                 channels: tuple[str, ...] = ("telegram",),
                 practice: PracticeBook | None = None) -> tuple[list[Feature], DirectoryRoles]:
    """The features to pass to Engine(features=...) and the RoleBook for Engine(roles=...).

    `admins` are user keys from CCBOT_ADMINS (see roles.parse_admins); `bot_username` makes
    the invite links (the console uses the placeholder 'ccbot'); broadcasts reach users of
    `channels` only, and so do weekly digests. With `practice`, /team also shows the actions
    tried per strand, through the release rules.
    """
    features: list[Feature] = [TeamsFeature(directory, bot_username),
                               BroadcastsFeature(directory, channels, practice),
                               TeamViewFeature(directory, channels, practice)]
    return features, DirectoryRoles(directory, admins)
