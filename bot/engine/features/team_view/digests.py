"""Weekly digests: a manager's /team summary, sent each week at a local time they chose.

The scheduler calls due_digests() at start-up and then every minute. Each due digest is claimed
and re-armed (next_run_at moves to the first run after now) in one transaction together with
its replies, so a run missed while the bot was down is sent once, not repeated; see
docs/BROADCASTS.md, "Weekly digest", for the delivery guarantee.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from bot.definitions.model import Content
from bot.engine.core.events import Attachment, Reply, UserKey
from bot.engine.core.local_time import (
    Rule,
    local_text,
    next_run,
    parse_clock,
    runs_between,
    zone_of,
)
from bot.engine.core.records import Commit, Op
from bot.engine.core.roles import ROLE_ORDER, DirectoryRoles, rank
from bot.engine.features.broadcasts.views import weekday_names
from bot.engine.features.team_view.access import viewable_teams
from bot.engine.features.team_view.words import report_replies, team_report
from bot.engine.ports.charts import ChartRenderer
from bot.engine.ports.directory import Directory, Rejected, commit_ops
from bot.engine.ports.directory_ops import RunDigest, StopDigest
from bot.engine.ports.store import Store
from bot.engine.ports.team_reads import AlreadyRun, Digest
from bot.engine.release.requests import view_team

log = logging.getLogger(__name__)

ENGLISH_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DEFAULT_ZONE = "UTC"


@dataclass(frozen=True)
class DigestRequest:
    """What `/digest on <weekday> <HH:MM> [Area/City] [TEAM]` asked for."""

    weekday: int
    local_time: str
    zone: str
    team: str | None


@dataclass(frozen=True)
class DigestMessage:
    """One digest to deliver: to whom, the same replies /team gives, and the chart if drawn.

    When `queued` is True the replies were already written to the store's reply outbox in the
    transaction that claimed the run (see Store.queues_replies): the channel only has to
    drain that chat's outbox. Otherwise the caller sends `replies` itself.
    """

    user: UserKey
    chat_id: str
    locale: str
    text: str
    chart: Attachment | None
    replies: tuple[Reply, ...]
    queued: bool


def parse_weekday(text: str, content: Content, locale: str) -> int:
    """'monday', 'Mon', 'mo' is too short; also the day names of the user's language."""
    wanted = text.strip().casefold()
    names = [(i, n.casefold()) for i, n in enumerate(weekday_names(content, locale))]
    names += list(enumerate(ENGLISH_DAYS))
    exact = {i for i, name in names if name == wanted}
    prefix = {i for i, name in names if len(wanted) >= 3 and name.startswith(wanted)}
    found = exact or prefix
    if len(found) != 1:
        raise Rejected("tv.digest_bad_day", day=text.strip()[:20])
    return found.pop()


def parse_on(words: list[str], content: Content, locale: str) -> DigestRequest:
    """The words after `/digest on`: a weekday, a time, then a time zone and a team, if any."""
    if len(words) < 2 or len(words) > 4:
        raise Rejected("tv.digest_usage")
    weekday = parse_weekday(words[0], content, locale)
    hour, minute = parse_clock(words[1])
    zone, team = DEFAULT_ZONE, None
    for word in words[2:]:
        # Team names never contain '/' (features/teams/feature.py); zone names do, except UTC.
        if "/" in word or word.upper() in ("UTC", "GMT"):
            zone = zone_of(word).key
        elif team is None:
            team = word
        else:
            raise Rejected("tv.digest_usage")
    return DigestRequest(weekday, f"{hour:02d}:{minute:02d}", zone, team)


def rule_of(digest: Digest) -> Rule:
    """The weekly rule of a stored digest."""
    hour, minute = parse_clock(digest.local_time)
    return Rule("weekly", digest.weekday, hour, minute, digest.timezone)


def digest_when(content: Content, locale: str, weekday: int, local_time: str, zone: str,
              next_run_at: float) -> dict[str, str]:
    """The values the digest messages show: day, time, zone, next run."""
    return {"day": weekday_names(content, locale)[weekday], "time": local_time, "zone": zone,
            "next": local_text(next_run_at, zone)}


def may_receive(directory: Directory, user: UserKey, team_id: int,
                admins: frozenset[str]) -> bool:
    """True while the user may still see the team's view (roles are checked at every run)."""
    roles = DirectoryRoles(directory, admins).roles(user)
    coordinator = rank(roles) >= ROLE_ORDER.index("coordinator")
    return any(t.id == team_id for t in viewable_teams(directory, user, coordinator))


def due_digests(directory: Directory, store: Store, content: Content,
                charts: ChartRenderer | None, now: float, admins: Iterable[str] = (),
                channels: tuple[str, ...] = ("telegram",)) -> list[DigestMessage]:
    """Claim every due digest, re-arm it, and return what to deliver; each in its own commit.

    Call it at start-up and then every minute. A digest whose owner may no longer see the
    team (no longer its manager, or forgotten) is turned off instead. `admins` are the keys
    from CCBOT_ADMINS (roles.parse_admins), who count as admins here as in the chat.
    """
    admin_keys = frozenset(admins)
    queued = store.queues_replies()
    messages = []
    for digest in directory.digests_due(now):
        record = store.load_user(digest.user)
        team = directory.team(digest.team_id)
        if (record is None or not record.consent or team is None
                or not may_receive(directory, digest.user, digest.team_id, admin_keys)):
            log.info("digest %s of %s turned off: they may no longer see team %s", digest.id,
                     digest.user, digest.team_id)
            commit_ops(store, [StopDigest(str(digest.user), digest.team_id)])
            continue
        rule = rule_of(digest)
        following = next_run(rule, now)
        missed = runs_between(rule, digest.next_run_at, now)
        result = "sent"
        if missed:
            result += f"; {missed} earlier run(s) missed while stopped were not repeated"
        replies: tuple[Reply, ...] = ()
        chart = None
        shown: tuple[Op, ...] = ()
        if digest.user.channel not in channels:
            result = f"skipped: {digest.user.channel} users cannot be sent a digest"
        else:
            view = view_team(directory, content, team, str(digest.user), now)
            shown = view.ops  # the rounds closed and what was released, with the claim
            report = team_report(content, record.locale, team.name, view.release, view.rules,
                                 view.rounds.open.closes_at)
            intro = content.text("tv.digest_intro", record.locale, team=team.name)
            replies, chart = report_replies(report, charts, intro)
        claim = RunDigest(digest.id, digest.next_run_at, following, now, result)
        try:
            store.commit(Commit(digest.user, None, None, ops=(claim, *shown), replies=replies))
        except AlreadyRun:
            continue  # another scheduler claimed this run, and sends it
        if replies:
            text = "\n\n".join(r.text for r in replies if r.image is None)
            messages.append(DigestMessage(digest.user, digest.user.id, record.locale, text,
                                          chart, replies, queued))
    return messages
