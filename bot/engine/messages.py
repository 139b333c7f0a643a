"""The message ids the engine itself says; `ccbot validate` checks every one is in content."""

from __future__ import annotations

REQUIRED_MESSAGES: tuple[str, ...] = (
    "cancelled", "evidence", "forget.confirm", "forget.done", "help", "hint.at_first_step",
    "hint.empty", "hint.moved_on", "hint.not_understood", "hint.nothing_to_skip",
    "hint.too_long", "hint.unknown_command", "hint.unknown_strand", "hint.unsupported", "idle",
    "mydata.caption", "mydata.sent", "no", "note.ask", "note.saved", "note.skip",
    "note.truncated", "onboarding.declined", "onboarding.done", "onboarding.first", "paused",
    "paused_nothing", "paused_summary", "privacy.nothing_stored", "profile.empty",
    "profile.focus", "profile.none", "profile.title", "progress", "restart.confirm",
    "restarted", "skip", "strand.pick", "summary.empty", "summary.later", "summary.start_at",
    "summary.strongest", "summary.takeaway", "summary.title", "summary.weakest", "welcome_back",
    "where", "where.not_started", "where.summary", "yes",
)
