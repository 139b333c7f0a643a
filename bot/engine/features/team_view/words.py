"""What /team and the weekly digest say: the team's figures as messages and chart inputs."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.definitions.model import Content
from bot.engine.core.events import Attachment, Reply
from bot.engine.core.texts import prompt_with_evidence
from bot.engine.features.me.reports import axes
from bot.engine.features.team_view.figures import ACTIVE_DAYS, MIN_RESPONDENTS, Figure, TeamFigures
from bot.engine.ports.charts import MAX_CAPTION_CHARS, Axis, Chart, ChartRenderer, TeamLegend

log = logging.getLogger(__name__)

TEAM_VIEW_MESSAGES: tuple[str, ...] = (
    "tv.title", "tv.participation", "tv.participation_small", "tv.no_answers", "tv.too_few",
    "tv.spread_title", "tv.spread_line", "tv.spread_hidden", "tv.hidden_note",
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


def team_report(content: Content, locale: str, team: str, figures: TeamFigures) -> TeamReport:
    """Every message of a team view, in `locale`."""
    def t(message_id: str, **values: object) -> str:
        return content.text(message_id, locale, **values)

    lines = [t("tv.title", team=team), participation_text(content, locale, figures)]
    if not figures.any_shown:
        lines.append(t("tv.too_few", min=MIN_RESPONDENTS) if figures.answered
                     else t("tv.no_answers"))
        return TeamReport("\n\n".join(lines), "", (), None)
    spread = [t("tv.spread_title")]
    for strand, figure in zip(content.strands, figures.strands):
        name = strand.title.get(locale)
        if figure.spread is None:
            spread.append(t("tv.spread_hidden", strand=name, min=MIN_RESPONDENTS))
        else:
            spread.append(t("tv.spread_line", strand=name, low=_number(figure.spread[0]),
                            high=_number(figure.spread[1])))
    lines.append("\n".join(spread))
    if figures.any_hidden:
        lines.append(t("tv.hidden_note", min=MIN_RESPONDENTS))
    caption = averages_text(content, locale, figures.subs)
    chart = TeamChart(axes(content, locale), tuple(f.mean for f in figures.subs),
                      tuple(f.spread for f in figures.subs), t("tv.chart_title", team=team),
                      caption, TeamLegend(t("tv.legend_mean"), t("tv.legend_spread"),
                                          t("tv.legend_hidden", min=MIN_RESPONDENTS)))
    return TeamReport("\n\n".join(lines), caption, weakest_texts(content, locale, figures),
                      chart)


def participation_text(content: Content, locale: str, figures: TeamFigures) -> str:
    """Members, and activity when the team is big enough to show it."""
    p = figures.participation
    if p.active is None or p.steps is None or p.respondents is None:
        return content.text("tv.participation_small", locale, members=p.members,
                            min=MIN_RESPONDENTS)
    return content.text("tv.participation", locale, members=p.members, active=p.active,
                        days=ACTIVE_DAYS, steps=p.steps, respondents=p.respondents)


def averages_text(content: Content, locale: str, subs: tuple[Figure, ...]) -> str:
    """The chart in words, per strand; at most MAX_CAPTION_CHARS (a photo caption)."""
    by_id = {f.id: f for f in subs}
    hidden = content.text("tv.hidden", locale)
    parts = []
    for strand in content.strands:
        values = []
        for sub in strand.sub_components:
            figure = by_id.get(sub.id)
            if figure is None or figure.mean is None or figure.spread is None:
                values.append(f"{sub.title.get(locale)} {hidden}")
            else:
                low, high = figure.spread
                values.append(f"{sub.title.get(locale)} {_number(figure.mean)} "
                              f"({_number(low)}–{_number(high)})")
        parts.append(f"{strand.title.get(locale)}: {', '.join(values)}")
    scale = content.scales[content.questions[content.sub_components[0].id].scale]
    text = content.text("tv.caption", locale, lowest=scale.levels[0].label.get(locale),
                        highest=scale.levels[-1].label.get(locale), levels="; ".join(parts))
    if any(f.mean is None for f in subs):
        text += " " + content.text("tv.caption_hidden", locale, min=MIN_RESPONDENTS)
    if len(text) > MAX_CAPTION_CHARS:
        # Only a very long translation gets here; the chart itself still shows every value.
        text = text[:MAX_CAPTION_CHARS - 1] + "…"
    return text


def weakest_texts(content: Content, locale: str, figures: TeamFigures) -> tuple[str, ...]:
    """One message per weakest sub-component: its team average and the prompt at that level."""
    found = []
    for figure, level in figures.weakest:
        question = content.questions[figure.id]
        sub = content.sub_component(figure.id)
        prompt = question.prompt(level)
        scale_level = content.scales[question.scale].level(level)
        if sub is None or prompt is None or figure.mean is None:
            continue
        found.append(content.text(
            "tv.weakest", locale, title=sub.title.get(locale), mean=_number(figure.mean),
            level=scale_level.label.get(locale) if scale_level else level,
            prompt=prompt_with_evidence(content, question, prompt.get(locale), locale)))
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
