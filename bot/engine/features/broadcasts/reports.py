"""/report's answer: a broadcast's delivery and, as released to the viewer, its answers."""

from __future__ import annotations

from bot.engine.core.feature_api import TurnApi
from bot.engine.features.broadcasts.views import report_text
from bot.engine.ports.broadcasts import Broadcast
from bot.engine.ports.directory import Directory
from bot.engine.ports.practice import PracticeBook
from bot.engine.ports.releases import RecordRelease
from bot.engine.release.practice import release_outcomes
from bot.engine.release.requests import directory_rules, view_distribution


def say_report(directory: Directory, turn: TurnApi, broadcast: Broadcast,
               practice: PracticeBook | None = None) -> None:
    """Say the report, recording what the release module showed (rights are checked before)."""
    report = directory.report(broadcast.id)
    if report is None:
        return
    distribution = view_distribution(directory, broadcast, str(turn.user.key), turn.now)
    if distribution is not None and distribution.recorded:
        turn.ops.append(RecordRelease(distribution.recorded,
                                       directory_rules(directory).minimum))
    turn.say(report_text(turn.content, report, turn.locale, distribution))
    if practice is not None and broadcast.kind == "prompt":
        say_outcomes(directory, turn, broadcast, practice)


def say_outcomes(directory: Directory, turn: TurnApi, broadcast: Broadcast,
                 practice: PracticeBook) -> None:
    """How the *I'll try this* commitments from the broadcast went, as counts released."""
    outcomes = practice.broadcast_outcomes(broadcast.id)
    if not outcomes:
        return
    viewer = str(turn.user.key)
    rules = directory_rules(directory)
    found = release_outcomes(viewer, broadcast.id, outcomes, directory.released(viewer),
                             rules, turn.now)
    if found.counts is None:
        turn.say(turn.t("bc.report_tried_withheld"))
        return
    if found.recorded:
        turn.ops.append(RecordRelease(found.recorded, rules.minimum))
    counts = dict(found.counts)
    turn.say(turn.t("bc.report_tried", people=found.people, helped=counts["helped"],
                    mixed=counts["mixed"], not_yet=counts["not_yet"],
                    dropped=counts["dropped"]))
