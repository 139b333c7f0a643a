"""What /team and the weekly digest say: a team release as messages and chart inputs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from bot.definitions.model import Content
from bot.engine.core.events import Attachment, Reply
from bot.engine.core.local_time import utc_text
from bot.engine.core.texts import action_for
from bot.engine.features.me.reports import axes
from bot.engine.ports.charts import MAX_CAPTION_CHARS, Axis, Chart, ChartRenderer, TeamLegend
from bot.engine.release.figures import DIFFERENCING, Figure, TeamRelease
from bot.engine.release.rules import Rules

log = logging.getLogger(__name__)

TEAM_VIEW_MESSAGES: tuple[str, ...] = (
    "tv.title", "tv.no_answers", "tv.too_few", "rel.round_closed", "rel.no_round",
    "rel.participation", "rel.participation_small", "rel.open_count", "rel.too_few",
    "rel.spread_too_few", "rel.differencing", "rel.parts_hidden", "rel.spread_withheld",
    "rel.report_withheld", "rnd.status", "rnd.answers_count", "rnd.answers_few", "rnd.who",
    "rnd.close_button", "rnd.closed", "rnd.no_teams",
    "tv.spread_title", "tv.spread_line", "tv.spread_same",
    "tv.chart_title", "tv.caption", "tv.caption_hidden", "tv.hidden", "tv.legend_mean",
    "tv.legend_spread", "tv.legend_hidden", "tv.weakest", "tv.pick", "tv.cancel",
    "tv.no_teams", "tv.digest_usage", "tv.digest_none", "tv.digest_title", "tv.digest_line",
    "tv.digest_on", "tv.digest_off", "tv.digest_all_off", "tv.digest_off_none",
    "tv.digest_bad_day", "tv.digest_which_team", "tv.digest_stop", "tv.digest_intro",
    "tv.digest_channel", "tv.done",
)


@dataclass(frozen=True)
class TeamChart:
    """The inputs of ChartRenderer.team for one team view."""

    axes: tuple[Axis, ...]
    means: tuple[float | None, ...]
    spreads: tuple[tuple[float, float] | None, ...]
    title: str
    caption: str
    legend: TeamLegend

    def draw(self, charts: ChartRenderer) -> Chart:
        """Render it (raises ChartError, or whatever the renderer raises)."""
        return charts.team(self.axes, self.means, self.spreads, self.title, self.caption,
                           legend=self.legend)


@dataclass(frozen=True)
class TeamReport:
    """A team view in words: the summary, the averages (the chart's words) and the weakest two.

    `averages` and `chart` are empty/None when no average can be shown.
    """

    summary: str
    averages: str
    weakest: tuple[str, ...]
    chart: TeamChart | None


def _number(value: float) -> str:
    return f"{value:.1f}"


def team_report(content: Content, locale: str, team: str, release: TeamRelease, rules: Rules,
                next_close: float, when: Callable[[float], str] = utc_text) -> TeamReport:
    """Every message of a team view, in `locale`; `next_close` is when the open round closes;
    `when` writes a moment (the chat: UTC; the dashboard: the viewer's language and zone)."""
    def t(message_id: str, **values: object) -> str:
        return content.text(message_id, locale, **values)

    lines = [t("tv.title", team=team)]
    if release.round_number is None or release.round_closed_at is None:
        lines.append(t("rel.no_round", closes=when(next_close)))
    else:
        lines.append(t("rel.round_closed", number=release.round_number,
                       closed=when(release.round_closed_at)))
    lines.append(participation_text(content, locale, release, rules))
    if release.round_number is None:
        return TeamReport("\n\n".join(lines), "", (), None)
    if not release.any_shown:
        if DIFFERENCING in release.reasons:
            lines.append(t("rel.differencing"))
        else:
            lines.append(t("tv.too_few", min=rules.minimum) if release.answered
                         else t("tv.no_answers"))
        return TeamReport("\n\n".join(lines), "", (), None)
    spread = [t("tv.spread_title")]
    for strand, figure in zip(content.strands, release.strands):
        name = strand.title.get(locale)
        if figure.spread is None:
            spread.append(t("rel.spread_withheld", strand=name))
        elif figure.spread[0] == figure.spread[1]:
            # "1.0 to 1.0" reads as "everyone said 1"; all it shows is the middle half.
            spread.append(t("tv.spread_same", strand=name, value=_number(figure.spread[0])))
        else:
            spread.append(t("tv.spread_line", strand=name, low=_number(figure.spread[0]),
                            high=_number(figure.spread[1])))
    lines.append("\n".join(spread))
    lines += [t(reason, min=rules.minimum, spread_min=rules.spread_minimum)
              for reason in release.reasons]
    caption = averages_text(content, locale, release.subs, rules)
    chart = TeamChart(axes(content, locale), tuple(f.mean for f in release.subs),
                      tuple(f.spread for f in release.subs), t("tv.chart_title", team=team),
                      caption, TeamLegend(t("tv.legend_mean"), t("tv.legend_spread"),
                                          t("tv.legend_hidden", min=rules.minimum)))
    return TeamReport("\n\n".join(lines), caption, weakest_texts(content, locale, release),
                      chart)


def participation_text(content: Content, locale: str, release: TeamRelease,
                       rules: Rules) -> str:
    """Members, how many answered in the round, and the open round's count once large enough."""
    if release.respondents is None:
        text = content.text("rel.participation_small", locale, members=release.members,
                            min=rules.minimum)
    else:
        text = content.text("rel.participation", locale, members=release.members,
                            respondents=release.respondents)
    if release.open_count is not None:
        text += " " + content.text("rel.open_count", locale, count=release.open_count)
    return text


def averages_text(content: Content, locale: str, subs: tuple[Figure, ...], rules: Rules) -> str:
    """The chart in words, per strand; at most MAX_CAPTION_CHARS (a photo caption)."""
    by_id = {f.id: f for f in subs}
    hidden = content.text("tv.hidden", locale)
    parts = []
    for strand in content.strands:
        values = []
        for sub in strand.sub_components:
            figure = by_id.get(sub.id)
            if figure is None or figure.mean is None:
                values.append(f"{sub.title.get(locale)} {hidden}")
            elif figure.spread is None:
                values.append(f"{sub.title.get(locale)} {_number(figure.mean)}")
            else:
                low, high = figure.spread
                values.append(f"{sub.title.get(locale)} {_number(figure.mean)} "
                              f"({_number(low)}–{_number(high)})")
        parts.append(f"{strand.title.get(locale)}: {', '.join(values)}")
    scale = content.scales[content.questions[content.sub_components[0].id].scale]
    text = content.text("tv.caption", locale, lowest=scale.levels[0].label.get(locale),
                        highest=scale.levels[-1].label.get(locale), levels="; ".join(parts))
    if any(f.mean is None for f in subs):
        text += " " + content.text("tv.caption_hidden", locale, min=rules.minimum)
    if len(text) > MAX_CAPTION_CHARS:
        # Only a very long translation gets here; the chart itself still shows every value.
        text = text[:MAX_CAPTION_CHARS - 1] + "…"
    return text


def weakest_texts(content: Content, locale: str, figures: TeamRelease,
                  persona: str | None = None) -> tuple[str, ...]:
    """One message per weakest sub-component: its team average and the prompt at that level."""
    found = []
    for figure, level in figures.weakest:
        question = content.questions[figure.id]
        sub = content.sub_component(figure.id)
        prompt = action_for(content, question, level, persona, locale)
        scale_level = content.scales[question.scale].level(level)
        if sub is None or prompt is None or figure.mean is None:
            continue
        found.append(content.text(
            "tv.weakest", locale, title=sub.title.get(locale), mean=_number(figure.mean),
            level=scale_level.label.get(locale) if scale_level else level,
            prompt=prompt))
    return tuple(found)


def report_replies(report: TeamReport, charts: ChartRenderer | None,
                   intro: str = "") -> tuple[tuple[Reply, ...], Attachment | None]:
    """The replies of a team view outside a chat turn (the digest), and the chart if drawn.

    The chart replaces the averages in words when it is drawn (its caption says them); when
    it cannot be drawn, the words are sent instead.
    """
    first = f"{intro}\n\n{report.summary}" if intro else report.summary
    replies = [Reply(first)]
    image: Attachment | None = None
    if report.chart is not None and charts is not None:
        try:
            chart = report.chart.draw(charts)
            image = Attachment("team.png", chart.png, "image/png", chart.caption)
        except Exception as exc:  # a chart is a bonus: the words below say the same
            log.warning("team chart not drawn: %s", exc)
    if image is not None:
        replies.append(Reply(image.caption, image=image))
    elif report.averages:
        replies.append(Reply(report.averages))
    replies += [Reply(text) for text in report.weakest]
    return tuple(replies), image
