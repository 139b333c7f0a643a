"""A user's own reports in the chat: /profile and /progress, in words and as charts."""

from __future__ import annotations

from bot.engine.core.feature_api import TurnApi
from bot.engine.core.summaries import latest_levels, summarise
from bot.engine.features.me import reports
from bot.engine.ports.charts import Series

# How many cycles and reflections /progress shows, newest last.
MAX_PROGRESS_POINTS = 12


def profile(turn: TurnApi) -> None:
    """/profile: the latest level of every sub-component, in words and as a radar."""
    levels = latest_levels(turn.store.answers(turn.user.key))
    if not levels:
        turn.say(turn.t("profile.empty"))
        return
    lines = [turn.t("profile.title")]
    for strand in turn.content.strands:
        parts = []
        for sub in strand.sub_components:
            level = levels.get(sub.id)
            label = turn.level_label(sub.id, level) if level else turn.t("profile.none")
            parts.append(f"  {sub.title.get(turn.locale)}: {label}")
        lines.append(f"{strand.title.get(turn.locale)}\n" + "\n".join(parts))
    summary = summarise(turn.content, levels)
    if summary.weakest and summary.strongest:
        lines.append(turn.t("profile.focus",
                            strongest=turn.strand_title(summary.strongest.strand),
                            weakest=turn.strand_title(summary.weakest.strand)))
    elif summary.weakest:
        lines.append(turn.t("profile.level"))
    turn.say("\n\n".join(lines))
    profile_chart(turn)


def profile_chart(turn: TurnApi) -> None:
    """The radar of latest levels, previous cycle overlaid; skipped if it cannot be drawn."""
    data = reports.profile(turn.content, turn.store.answers(turn.user.key),
                           turn.locale)
    if data is None or turn.charts is None:
        return
    words = []
    for strand in turn.content.strands:
        parts = []
        for axis, now, before in zip(data.axes, data.current,
                                     data.previous or (None,) * len(data.axes)):
            if axis.id.split(".")[0] != strand.id:
                continue
            level = f"{now:.0f}" if now is not None else "-"
            if before is not None and before != now:
                level += " (" + turn.t("chart.was", level=f"{before:.0f}") + ")"
            parts.append(f"{axis.label} {level}")
        words.append(f"{strand.title.get(turn.locale)}: {', '.join(parts)}")
    caption = turn.t("chart.profile.caption", levels="; ".join(words))[:1000]
    current = Series(turn.t("chart.latest"), data.current)
    previous = (Series(turn.t("chart.cycle", cycle=data.previous_cycle), data.previous)
                if data.previous is not None else None)
    turn.attach_chart(lambda charts: charts.profile(
        data.axes, current, previous, turn.t("chart.profile.title"), caption), "profile")


def progress(turn: TurnApi) -> None:
    """/progress: the mean per strand of each cycle and reflection, newest last."""
    points = reports.progress(turn.content, turn.store.answers(turn.user.key))
    # A phone screen holds about a dozen lines; older history stays in /mydata.
    points = points[-MAX_PROGRESS_POINTS:]
    if not points:
        turn.say(turn.t("progress.empty"))
        return
    groups = tuple(s.title.get(turn.locale) for s in turn.content.strands)
    labels = [turn.t("chart.cycle", cycle=p.number) if p.kind == "cycle"
              else turn.t("chart.reflection", cycle=p.number) for p in points]
    lines = [turn.t("progress.title")]
    for label, point in zip(labels, points):
        means = ", ".join(f"{g} {m:.1f}" for g, m in zip(groups, point.means)
                          if m is not None)
        lines.append(f"{label}: {means}")
    tried = turn.actions_tried()
    if tried:
        # Beside the levels: in the words, and in the chart's legend (one entry per strand).
        counts = [tried.get(s.id, 0) for s in turn.content.strands]
        lines.append(turn.t("progress.tried", counts=", ".join(
            f"{g} {n}" for g, n in zip(groups, counts))))
        groups = tuple(turn.t("chart.progress.tried", strand=g, count=n)
                       for g, n in zip(groups, counts))
    text = "\n".join(lines)
    turn.say(text)
    caption = text[:1000]
    turn.attach_chart(lambda charts: charts.progress(
        groups, tuple(zip(labels, (p.means for p in points))),
        turn.t("chart.progress.title"), caption), "progress")
