"""The composition of the coordinator parts: features, RoleBook and directory over one database."""

from __future__ import annotations

import os
from dataclasses import dataclass

from bot.engine.coordination import coordination
from bot.engine.core.feature_api import Feature
from bot.engine.core.roles import ADMINS_ENV, DirectoryRoles, parse_admins
from bot.engine.features.dashboard.feature import URL_ENV, DashboardFeature
from bot.engine.features.practice.feature import PracticeFeature
from bot.engine.features.reminders.feature import RemindersFeature
from bot.engine.ports.directory import commit_ops
from bot.engine.ports.directory_ops import SetSetting
from bot.engine.release.rules import RULE_SETTINGS, rules_from
from bot.storage.dashboard_store import SQLiteDashboard, install_dashboard
from bot.storage.directory_store import SQLiteDirectory, install
from bot.storage.practice_store import SQLitePractice, install_practice
from bot.storage.reminder_store import SQLiteReminders, install_reminders
from bot.storage.sqlite_store import SQLiteStore

USERNAME_ENV = "CCBOT_BOT_USERNAME"


@dataclass(frozen=True)
class Parts:
    """The coordinator parts of a running bot, over one database."""

    features: list[Feature]
    roles: DirectoryRoles
    directory: SQLiteDirectory
    practice: SQLitePractice
    reminders: SQLiteReminders
    dashboard: SQLiteDashboard


def engine_parts(store: SQLiteStore, bot_username: str | None = None) -> Parts:
    """The coordinator features and RoleBook for Engine(), and the directory they share.

    bot/cli.py passes `features` and `roles` to Engine(...); the broadcast sender and the
    scheduler (bot.engine.schedules.run_due, bot.engine.digests.due_digests with
    admins=roles.admins) use `directory`. Admins come from CCBOT_ADMINS
    (AdminsError, a ValueError naming it, if malformed); invite links use `bot_username`, else
    $CCBOT_BOT_USERNAME, the stored setting, or 'ccbot'. $CCBOT_MIN_GROUP and
    $CCBOT_ROUND_MONTHS, when set, replace the stored release rules (docs/PRIVACY.md).
    """
    admins = parse_admins(os.environ.get(ADMINS_ENV))
    directory = install(store)
    # Release rules are a deployment setting: the environment, kept in the database so that
    # the bot, the scheduler and the CLI apply the same ones (ValueError naming the variable).
    given = {name: value for name in RULE_SETTINGS if (value := os.environ.get(name))}
    rules_from(given)
    commit_ops(store, [SetSetting(name, value) for name, value in given.items()
                       if directory.setting(name) != value])
    name = (bot_username or os.environ.get(USERNAME_ENV) or directory.setting("bot_username")
            or "ccbot")
    practice, reminders = install_practice(store), install_reminders(store)
    features, roles = coordination(directory, admins, name, practice=practice)
    def zone_of(user: str) -> str | None:
        found = reminders.reminder(user)
        return found.zone if found else None

    mine: list[Feature] = [PracticeFeature(practice, zone_of), RemindersFeature(reminders),
                           DashboardFeature(os.environ.get(URL_ENV))]
    return Parts([*mine, *features], roles, directory, practice, reminders,
                 install_dashboard(store))
