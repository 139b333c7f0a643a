"""The overview, teams and team pages: every figure from the release module, as the chat's.

Each page gathers through bot/engine/release (counts.py for the overview, requests.py and
history.py for teams, practice.py for actions tried) and commits what the release module
says must be recorded (closed rounds, the viewer's ledger) before the page is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from aiohttp import web

from bot.dashboard.login import form_token, message
from bot.dashboard.render import Words, page
from bot.dashboard.security import secure_headers
from bot.dashboard.site import Site, Viewer
from bot.dashboard.svg import funnel_svg, team_svg
from bot.engine.core.records import Op
from bot.engine.features.broadcasts.views import sub_title
from bot.engine.features.team_view.words import team_report
from bot.engine.ports.directory import commit_ops
from bot.engine.ports.releases import RecordRelease
from bot.engine.release.counts import (
    WEEK,
    WEEKLY,
    CountFigure,
    closed_weeks,
    release_counts,
    release_funnel,
    step_metric,
)
from bot.engine.release.figures import Figure, TeamRelease
from bot.engine.release.history import view_history
from bot.engine.release.practice import release_tried
from bot.engine.release.requests import TeamView, directory_rules, view_team
from bot.storage.programme_reads import onboarded_at, reached_at, week_counts

WEEKS_SHOWN = 8
TEAMS_PER_PAGE = 20


def words_for(site: Site, viewer: Viewer) -> Words:
    """The viewer's language and zone."""
    return Words(site.content(), viewer.locale, viewer.zone)


def render(template: str, site: Site, viewer: Viewer, **values: object) -> web.Response:
    """A signed-in page: the viewer (for the menu) and the form token go to every template."""
    return page(template, words_for(site, viewer), 200, viewer=viewer, csrf=form_token(viewer),
                **values)


def coordinators_only(site: Site, request: web.Request, viewer: Viewer) -> web.Response:
    """The refusal of a coordinators' page to a manager."""
    return message(site, request, 403, "dash.refused_title", "dash.coordinators_only",
                   words_for(site, viewer), viewer)


# ---------------------------------------------------------------------- overview
@dataclass(frozen=True)
class Overview:
    """The overview's released counts: per closed week, and the funnel at the last week's end."""

    weeks: tuple[tuple[float, tuple[CountFigure, ...]], ...]
    funnel: tuple[tuple[str, CountFigure], ...]  # (sub-component id, reached)
    funnel_week: float


def overview_figures(site: Site, viewer: Viewer) -> Overview:
    """Freeze the closed weeks not frozen yet, then release them to the viewer."""
    content = site.content()
    steps = [s.id for s in content.sub_components]
    weeks = closed_weeks(site.clock(), WEEKS_SHOWN)
    frozen = site.book.frozen_weeks(weeks)
    have = {(c.week_start, c.metric) for c in frozen}
    wanted = [(w, m) for w in weeks for m in WEEKLY]
    wanted += [(weeks[-1], step_metric(n)) for n in range(1, len(steps) + 1)]
    missing = sorted({w for w, m in wanted if (w, m) not in have})
    if missing:
        # A funnel is frozen for the newest closed week only, so that the chain of funnels
        # release_funnel walks only ever grows at its end.
        site.book.freeze_weeks([c for c in week_counts(site.store, missing, steps)
                                if c.metric in WEEKLY or c.week_start == weeks[-1]])
        frozen = site.book.frozen_weeks(weeks)  # what was frozen first stands
    by_key = {(c.week_start, c.metric): c for c in frozen}
    ordered = [by_key[key] for key in wanted if key in by_key and key[1] in WEEKLY]
    mine = {(c.week_start, c.metric) for c in week_counts(site.store, weeks, steps,
                                                           only=viewer.user) if c.count}
    joined, rules = onboarded_at(site.store, viewer.user), directory_rules(site.directory)
    released = release_counts(ordered, mine, joined, rules)
    per_week = {w: tuple(f for f in released if f.week_start == w) for w in weeks}
    # The funnel: released along every funnel frozen so far, with the viewer's own steps.
    history = site.book.frozen_funnels(weeks[-1])
    reached = reached_at(site.store, viewer.user)
    numbers = {step_metric(n): question for n, question in enumerate(steps, start=1)}
    mine_steps = {(c.week_start, c.metric) for c in history if c.metric in numbers
                  and reached.get(numbers[c.metric], float("inf")) < c.week_start + WEEK}
    funnel = tuple((numbers[f.metric], f) for f in release_funnel(history, mine_steps, joined,
                                                                   rules, weeks[-1])
                   if f.metric in numbers)
    return Overview(tuple((w, per_week[w]) for w in reversed(weeks)), funnel, weeks[-1])


async def overview(request: web.Request, site: Site, viewer: Viewer) -> web.StreamResponse:
    if not viewer.coordinator:
        # Managers have no programme to see: their teams are their first page.
        return secure_headers(web.Response(status=303, headers={"Location": "/teams"}))
    words = words_for(site, viewer)
    content = site.content()
    figures = overview_figures(site, viewer)
    labels = [f"{n}. {sub_title(content, words.locale, sub)}"
              for n, (sub, _) in enumerate(figures.funnel, start=1)]
    counts = [f.count for _, f in figures.funnel]
    # Where people stop: reached this step but not the next (both counts shown).
    stops = [a - b if a is not None and b is not None else None
             for a, b in pairwise(counts)] + [None]
    chart = funnel_svg(tuple(labels), tuple(counts), words.t("dash.funnel_title"),
                       words.t("dash.withheld"))
    return render("overview.html", site, viewer, figures=figures, labels=labels,
                  stops=stops, chart=chart, minimum=directory_rules(site.directory).minimum)


# ---------------------------------------------------------------------- teams
@dataclass(frozen=True)
class TeamRow:
    """One team in the list: its last closed round's strand figures, as released."""

    id: int
    name: str
    release: TeamRelease


async def teams(request: web.Request, site: Site, viewer: Viewer) -> web.StreamResponse:
    try:
        number = max(1, int(request.query.get("page", "1")))
    except ValueError:
        number = 1
    shown = viewer.teams[(number - 1) * TEAMS_PER_PAGE:number * TEAMS_PER_PAGE]
    rows: list[TeamRow] = []
    content = site.content()
    for team in shown:
        view = view_team(site.directory, content, team, viewer.user, site.clock())
        # Each team's release is recorded before the next is decided: two teams one person
        # apart on the same page must be checked against each other.
        commit_ops(site.store, view.ops)
        rows.append(TeamRow(team.id, team.name, view.release))
    pages = max(1, -(-len(viewer.teams) // TEAMS_PER_PAGE))
    return render("teams.html", site, viewer, rows=rows, number=number, pages=pages,
                  strands=content.strands)


def _tried(site: Site, viewer: Viewer, history_ops: list[Op], team_id: int,
           view_rounds: TeamView) -> tuple[tuple[str, Figure], ...]:
    """Actions tried per strand in the last closed round, through release_tried."""
    last = view_rounds.rounds.last
    if last is None or last.closed_at is None:
        return ()
    content = site.content()
    respondents = frozenset(a.person for a in view_rounds.rounds.answers)
    tried = site.practice.tried_by(sorted(respondents), last.opened_at, last.closed_at)
    earlier = [r for op in history_ops if isinstance(op, RecordRelease) for r in op.rows]
    strands = [s.id for s in content.strands]
    release = release_tried(viewer.user, f"team:{team_id} round:{last.number}", respondents,
                            tried, strands, (*site.directory.released(viewer.user), *earlier),
                            view_rounds.rules, site.clock())
    if release.recorded:
        history_ops.append(RecordRelease(release.recorded, view_rounds.rules.minimum))
    return tuple(zip(strands, release.strands))


async def team(request: web.Request, site: Site, viewer: Viewer) -> web.StreamResponse:
    try:
        team_id = int(request.match_info["team_id"])
    except ValueError:
        team_id = -1
    found = site.directory.team(team_id)
    if found is None or not viewer.may_see(found.id):
        # The same answer for a team that does not exist and one that is not theirs.
        return message(site, request, 403, "dash.refused_title", "dash.not_your_team",
                       words_for(site, viewer), viewer)
    content = site.content()
    words = words_for(site, viewer)
    history = view_history(site.directory, content, found, viewer.user, site.clock())
    ops: list[Op] = list(history.ops)
    tried = _tried(site, viewer, ops, found.id, history.view)
    commit_ops(site.store, ops)
    view = history.view
    report = team_report(content, words.locale, found.name, view.release, view.rules,
                         view.rounds.open.closes_at, words.when)
    chart = team_svg(report.chart) if report.chart is not None else None
    rounds = (view.release, *history.earlier)
    return render("team.html", site, viewer, team=found, rounds=rounds, report=report,
                  chart=chart, tried=tried, content=content, rules=view.rules,
                  next_close=view.rounds.open.closes_at)
