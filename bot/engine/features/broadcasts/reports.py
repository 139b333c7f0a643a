"""/report's answer: a broadcast's delivery and, as released to the viewer, its answers."""

from __future__ import annotations

from bot.engine.core.feature_api import TurnApi
from bot.engine.features.broadcasts.views import report_text
from bot.engine.ports.broadcasts import Broadcast
from bot.engine.ports.directory import Directory
from bot.engine.ports.releases import RecordRelease
from bot.engine.release.requests import view_distribution


def say_report(directory: Directory, turn: TurnApi, broadcast: Broadcast) -> None:
    """Say the report, recording what the release module showed (rights are checked before)."""
    report = directory.report(broadcast.id)
    if report is None:
        return
    distribution = view_distribution(directory, broadcast, str(turn.user.key), turn.now)
    if distribution is not None and distribution.recorded:
        turn.ops.append(RecordRelease(distribution.recorded))
    turn.say(report_text(turn.content, report, turn.locale, distribution))
