"""The message ids the engine itself says; `ccbot validate` checks every one is in content."""

from __future__ import annotations

from bot.engine.core.commands import menu_messages
from bot.engine.features.broadcasts.feature import BROADCAST_MESSAGES, BroadcastsFeature
from bot.engine.features.context.cards import CONTEXT_MESSAGES
from bot.engine.features.dashboard.feature import DASHBOARD_MESSAGES, DashboardFeature
from bot.engine.features.personal import PERSONAL_COMMANDS
from bot.engine.features.practice.feature import PRACTICE_MESSAGES, PracticeFeature
from bot.engine.features.reminders.feature import REMINDER_MESSAGES, RemindersFeature
from bot.engine.features.team_view.feature import TeamViewFeature
from bot.engine.features.team_view.words import TEAM_VIEW_MESSAGES
from bot.engine.features.teams.feature import TEAMS_MESSAGES, TeamsFeature

# Every command the engine can have, in declaration order; their menu texts are required.
ALL_COMMANDS = (*PERSONAL_COMMANDS, *PracticeFeature.COMMANDS, *RemindersFeature.COMMANDS,
                *DashboardFeature.COMMANDS, *TeamsFeature.COMMANDS,
                *BroadcastsFeature.COMMANDS, *TeamViewFeature.COMMANDS)

REQUIRED_MESSAGES: tuple[str, ...] = (
    "evidence.free_link",
    "evidence.link",
    "question.heading",
    "cancelled",
    "chart.cycle",
    "chart.latest",
    "chart.profile.caption",
    "chart.profile.title",
    "chart.progress.title",
    "chart.reflection",
    "chart.was",
    "evidence",
    "forget.confirm",
    "forget.done",
    "group.open_private",
    "group.private_only",
    "help.answering",
    "help.title",
    "hint.at_first_step",
    "hint.empty",
    "hint.moved_on",
    "hint.not_understood",
    "hint.nothing_to_skip",
    "hint.too_long",
    "hint.unknown_command",
    "hint.unknown_strand",
    "hint.unsupported",
    "idle",
    "language.pick",
    "language.set",
    "language.unknown",
    "mydata.caption",
    "mydata.sent",
    "no",
    "note.offer",
    "note.saved",
    "note.truncated",
    "onboarding.declined",
    "onboarding.done",
    "onboarding.first",
    "paused",
    "paused_nothing",
    "paused_summary",
    "privacy.nothing_stored",
    "profile.empty",
    "profile.focus",
    "profile.level",
    "profile.none",
    "profile.title",
    "progress",
    "progress.empty",
    "progress.title",
    "reflect.done",
    "reflect.empty",
    "reflect.finish",
    "reflect.intro",
    "reflect.progress",
    "reflect.start_strand",
    "reload.moved",
    "reflect.title",
    "refused",
    "restart.confirm",
    "restarted",
    "skip",
    "strand.pick",
    "summary.empty",
    "summary.later",
    "summary.level",
    "summary.start_at",
    "summary.start_weakest",
    "summary.strongest",
    "summary.takeaway",
    "summary.title",
    "summary.weakest",
    "welcome_back",
    "where",
    "where.not_started",
    "where.summary",
    "yes",
)

# Context on demand's messages (content/messages/context.yaml), the coordinator features'
# (teams.yaml, broadcasts.yaml and team_view.yaml), practice and reminders, and every
# command's menu text.
REQUIRED_MESSAGES += (CONTEXT_MESSAGES + TEAMS_MESSAGES + BROADCAST_MESSAGES + TEAM_VIEW_MESSAGES
                      + PRACTICE_MESSAGES + REMINDER_MESSAGES + DASHBOARD_MESSAGES
                      + menu_messages(ALL_COMMANDS))
