"""The broadcasts page (delivery, answer rate, released distribution, schedules) and the export."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiohttp import web

from bot.dashboard.login import form_ok, message
from bot.dashboard.pages import coordinators_only, render, words_for
from bot.dashboard.security import secure_headers
from bot.dashboard.site import Site, Viewer
from bot.engine.features.broadcasts.views import (
    audience_text,
    content_text,
    when_text,
)
from bot.engine.ports.broadcasts import Broadcast, Report
from bot.engine.ports.dashboard import View
from bot.engine.ports.directory import commit_ops
from bot.engine.ports.releases import RecordRelease
from bot.engine.release.figures import Distribution
from bot.engine.release.requests import directory_rules, view_distribution
from bot.exports import FORMATS, responses_file

log = logging.getLogger(__name__)

BROADCASTS_SHOWN = 30
# While a broadcast is sending, the page reloads itself this often (no script needed).
REFRESH_SECONDS = 10
MIME = {"csv": "text/csv; charset=utf-8",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@dataclass(frozen=True)
class BroadcastRow:
    """One broadcast as the page shows it."""

    broadcast: Broadcast
    audience: str
    what: str
    report: Report | None
    distribution: Distribution | None
    levels: tuple[tuple[str, int], ...]  # (level label, people), when released


def _row(site: Site, viewer: Viewer, broadcast: Broadcast, locale: str) -> BroadcastRow:
    content = site.content()
    distribution = view_distribution(site.directory, broadcast, viewer.user, site.clock())
    if distribution is not None and distribution.recorded:
        commit_ops(site.store, [RecordRelease(distribution.recorded,
                                              directory_rules(site.directory).minimum)])
    levels: tuple[tuple[str, int], ...] = ()
    question = content.questions.get(broadcast.question or "")
    if distribution is not None and distribution.withheld is None and question is not None:
        scale = content.scales[question.scale]
        levels = tuple((found.label.get(locale) if (found := scale.level(level)) else
                        str(level), people) for level, people in distribution.counts)
    what = content_text(content, locale, broadcast.kind, broadcast.question, broadcast.body)
    return BroadcastRow(broadcast, audience_text(content, locale, broadcast.audience,
                                                 broadcast.audience_label), what,
                        site.directory.report(broadcast.id), distribution, levels)


async def broadcasts(request: web.Request, site: Site, viewer: Viewer) -> web.StreamResponse:
    if not viewer.coordinator:
        return coordinators_only(site, request, viewer)
    words = words_for(site, viewer)
    content = site.content()
    rows = [_row(site, viewer, b, words.locale)
            for b in site.directory.broadcasts(BROADCASTS_SHOWN)]
    schedules = [(s, audience_text(content, words.locale, s.audience, s.audience_label),
                  content_text(content, words.locale, s.kind, s.question, s.body,
                               s.cycle_index),
                  when_text(content, words.locale, s.frequency, s.weekday, s.local_time,
                            s.timezone))
                 for s in site.directory.schedules()]
    live = any(r.broadcast.status == "sending" for r in rows)
    return render("broadcasts.html", site, viewer, rows=rows, schedules=schedules,
                  refresh=REFRESH_SECONDS if live else None,
                  spread_minimum=directory_rules(site.directory).spread_minimum)


async def export_page(request: web.Request, site: Site, viewer: Viewer) -> web.StreamResponse:
    if not viewer.coordinator:
        return coordinators_only(site, request, viewer)
    return render("export.html", site, viewer, formats=FORMATS)


async def export_download(request: web.Request, site: Site,
                          viewer: Viewer) -> web.StreamResponse:
    if not viewer.coordinator:
        return coordinators_only(site, request, viewer)
    form = await request.post()
    if not form_ok(viewer, str(form.get("csrf", ""))):
        return message(site, request, 403, "dash.form_bad_title", "dash.form_bad",
                       words_for(site, viewer), viewer)
    fmt = str(form.get("format", "csv"))
    if fmt not in FORMATS:
        fmt = "csv"
    data, count = responses_file(site.directory, site.content(), fmt)
    # Logged for the data protection officer: who downloaded, when, how many rows.
    site.book.record_view(View(viewer.user, f"export:{fmt}", site.clock()))
    log.info("dashboard export: %d response(s) as %s by %s", count, fmt, viewer.user)
    response = web.Response(body=data, headers={
        "Content-Type": MIME[fmt],
        "Content-Disposition": f'attachment; filename="responses.{fmt}"'})
    secure_headers(response)
    return response
