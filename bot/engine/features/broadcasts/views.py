"""What broadcasts look like: the recipient's message, progress, reports and schedule lines.

Pure functions of content and stored values, shared by the chat feature (previews), the
Telegram sender (the message itself, the progress message) and the CLI.
"""

from __future__ import annotations

from bot.definitions.model import Content
from bot.engine.core.events import Choice
from bot.engine.core.local_time import local_text, utc_text
from bot.engine.ports.broadcasts import Broadcast, Progress, Report
from bot.engine.ports.directory import split_audience
from bot.engine.ports.schedules import Schedule
from bot.engine.release.figures import TOO_FEW, Distribution
from bot.engine.release.rules import SPREAD_MINIMUM

PREVIEW = "pv"


def audience_text(content: Content, locale: str, audience: str, label: str) -> str:
    """'team riverside', 'cohort north' or 'everyone'."""
    kind, _ = split_audience(audience)
    if kind == "team":
        return content.text("bc.aud_team", locale, name=label)
    if kind == "cohort":
        return content.text("bc.aud_cohort", locale, name=label)
    return content.text("bc.aud_everyone", locale)


def sub_title(content: Content, locale: str, question: str | None) -> str:
    """The sub-component's title, or its id when the content no longer has it."""
    sub = content.sub_component(question or "")
    return sub.title.get(locale) if sub else (question or "?")


# A broadcast inviting a team to answer in a new check-in round (`ccbot rounds close --invite`).
ROUND_INVITE = "round"


def content_text(content: Content, locale: str, kind: str, question: str | None,
                 body: str | None, cycle_index: int = 0) -> str:
    """A short description of what is sent: 'the Insight question', 'the message "..."'."""
    if kind == "text":
        start = (body or "").strip().replace("\n", " ")
        start = start if len(start) <= 40 else start[:39] + "…"
        return content.text("bc.content_text", locale, start=start)
    if kind == ROUND_INVITE:
        return content.text("bc.content_round", locale)
    if kind == "cycle":
        subs = content.sub_components
        nxt = subs[cycle_index % len(subs)].id if subs else None
        return content.text("bc.content_cycle", locale, title=sub_title(content, locale, nxt))
    return content.text("bc.content_prompt", locale, title=sub_title(content, locale, question))


def render_message(content: Content, locale: str, kind: str, question: str | None,
                   body: str | None, handle: str) -> tuple[str, tuple[Choice, ...]]:
    """A broadcast's message and buttons; button data is 'bc:<handle>:<level>' or ':n'."""
    if kind == "text":
        return (content.text("bc.text_message", locale, body=body or ""),
                (Choice(f"bc:{handle}:n", content.text("bc.write_reflection", locale)),))
    if kind == ROUND_INVITE:
        # In each recipient's language; answering is the cycle itself (/where), not a reply.
        return content.text("bc.round_message", locale), ()
    q = content.questions.get(question or "")
    scale = content.scales.get(q.scale) if q else None
    if q is None or scale is None:
        return content.text("bc.prompt_gone", locale), ()
    text = content.text("bc.prompt_message", locale, title=sub_title(content, locale, q.id),
                        question=q.question.get(locale))
    return text, tuple(Choice(f"bc:{handle}:{lv.level}", lv.label.get(locale))
                       for lv in scale.levels)


def render_broadcast(content: Content, broadcast: Broadcast,
                     locale: str) -> tuple[str, tuple[Choice, ...]]:
    """The message a recipient gets for `broadcast`, in their locale (the sender uses this)."""
    return render_message(content, locale, broadcast.kind, broadcast.question, broadcast.body,
                          str(broadcast.id))


def title_line(content: Content, locale: str, broadcast: Broadcast) -> str:
    """'#12 to team riverside, 2 Jun 2025 08:00 UTC: the Insight question'."""
    return content.text(
        "bc.title", locale, id=broadcast.id,
        audience=audience_text(content, locale, broadcast.audience, broadcast.audience_label),
        when=utc_text(broadcast.created_at),
        what=content_text(content, locale, broadcast.kind, broadcast.question, broadcast.body))


def progress_text(content: Content, broadcast: Broadcast, progress: Progress,
                  locale: str) -> str:
    """The coordinator's progress message, edited as copies go out."""
    return content.text(
        "bc.progress", locale, id=broadcast.id,
        audience=audience_text(content, locale, broadcast.audience, broadcast.audience_label),
        sent=progress.sent, failed=progress.failed, blocked=progress.blocked,
        remaining=progress.remaining, total=progress.total)


def report_text(content: Content, report: Report, locale: str,
                distribution: Distribution | None = None) -> str:
    """Delivery outcomes with failure reasons, then answers.

    How they answered is shown only as released to the viewer (release/report.py); without
    a `distribution` (the progress message) it is not shown at all.
    """
    b, p = report.broadcast, report.progress
    lines = [title_line(content, locale, b),
             content.text("bc.report_delivery", locale, sent=p.sent, total=p.total,
                          failed=p.failed, blocked=p.blocked, remaining=p.remaining)]
    if report.failures:
        reasons = ", ".join(f"{reason} ({n})" for reason, n in report.failures)
        lines.append(content.text("bc.report_reasons", locale, reasons=reasons))
    if b.in_flight_at_restart:
        lines.append(content.text("bc.report_in_flight", locale, count=b.in_flight_at_restart))
    if b.kind == "prompt":
        lines.append(content.text("bc.report_answered", locale, answered=report.answered))
        if distribution is not None and distribution.withheld is None:
            q = content.questions.get(b.question or "")
            scale = content.scales.get(q.scale) if q else None
            parts = []
            for level, n in distribution.counts:
                found = scale.level(level) if scale else None
                parts.append(f"{found.label.get(locale) if found else level}: {n}")
            lines.append(content.text("bc.report_distribution", locale,
                                      distribution=" · ".join(parts)))
        elif distribution is not None and distribution.withheld == TOO_FEW and report.answered:
            lines.append(content.text("bc.report_suppressed", locale, minimum=SPREAD_MINIMUM))
        elif distribution is not None and distribution.withheld is not None:
            lines.append(content.text("rel.report_withheld", locale))
    lines.append(content.text("bc.report_notes", locale, notes=report.notes))
    return "\n".join(lines)


def weekday_names(content: Content, locale: str) -> list[str]:
    """Monday ... Sunday in the locale."""
    names = [n.strip() for n in content.text("bc.weekdays", locale).split(",")]
    return names if len(names) == 7 else ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def when_text(content: Content, locale: str, frequency: str, weekday: int | None,
              local_time: str, zone: str, next_run_at: float | None = None) -> str:
    """'every Monday at 09:00 (Europe/London)', 'every day at ...' or 'once, on ...'."""
    if frequency == "weekly" and weekday is not None:
        return content.text("bc.when_weekly", locale, time=local_time, zone=zone,
                            day=weekday_names(content, locale)[weekday % 7])
    if frequency == "once" and next_run_at is not None:
        return content.text("bc.when_once", locale, at=local_text(next_run_at, zone))
    return content.text("bc.when_daily", locale, time=local_time, zone=zone)


def schedule_text(content: Content, schedule: Schedule, locale: str) -> str:
    """One line describing a stored schedule and its next run."""
    return content.text(
        "bc.schedule_line", locale, id=schedule.id,
        when=when_text(content, locale, schedule.frequency, schedule.weekday,
                       schedule.local_time, schedule.timezone, schedule.next_run_at),
        audience=audience_text(content, locale, schedule.audience, schedule.audience_label),
        what=content_text(content, locale, schedule.kind, schedule.question, schedule.body,
                          schedule.cycle_index),
        next=local_text(schedule.next_run_at, schedule.timezone))
