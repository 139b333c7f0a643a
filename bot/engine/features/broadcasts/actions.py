"""Broadcast actions behind both the chat and the CLI: audiences, content checks, plans."""

from __future__ import annotations

from collections.abc import Callable

from bot.definitions.model import Content
from bot.engine.core.events import UserKey
from bot.engine.core.local_time import clock_of
from bot.engine.ports.broadcasts import NewBroadcast, Recipient
from bot.engine.ports.directory import EVERYONE, Directory, Rejected, audience_of, split_audience
from bot.engine.ports.directory_ops import CreateBroadcast, CreateSchedule
from bot.engine.ports.schedules import NewSchedule

# A typed broadcast is one short message (DESIGN.md §2: ≲ 600 characters for a prompt).
MAX_BODY_CHARS = 1000
def resolve_audience(directory: Directory, spec: str) -> tuple[str, str]:
    """'team:NAME', 'cohort:NAME' or 'everyone' -> (stored audience, label)."""
    kind, _, name = spec.strip().partition(":")
    kind = kind.lower()
    if kind == EVERYONE and not name:
        return EVERYONE, ""
    if kind == "team":
        team = directory.team_named(name)
        if team is not None:
            return audience_of("team", team.id), team.name
    if kind == "cohort":
        cohort = directory.cohort_named(name)
        if cohort is not None:
            return audience_of("cohort", cohort.id), cohort.name
    raise Rejected("bc.unknown_audience", audience=spec.strip()[:60])


def check_content(content: Content, prompt: str | None, text: str | None) -> tuple[str, str | None,
                                                                                   str | None]:
    """(kind, question, body) for a prompt id or a typed text; rejects unknown or long ones."""
    if prompt is not None:
        if content.sub_component(prompt) is None or prompt not in content.questions:
            ids = ", ".join(s.id for s in content.sub_components)
            raise Rejected("bc.unknown_prompt", id=prompt[:60], ids=ids)
        return "prompt", prompt, None
    body = (text or "").strip()
    if not body or len(body) > MAX_BODY_CHARS:
        raise Rejected("bc.text_too_long", limit=MAX_BODY_CHARS)
    return "text", None, body


def progress_chat(user: UserKey | None, channels: tuple[str, ...]) -> str | None:
    """Where the creator's progress message goes: their private chat on a sending channel."""
    return user.id if user is not None and user.channel in channels else None


def plan_broadcast(directory: Directory, audience: str, label: str, kind: str,
                   question: str | None, body: str | None, by: UserKey | None, now: float,
                   channels: tuple[str, ...]) -> tuple[CreateBroadcast, list[Recipient]]:
    """The op creating a broadcast and its outbox rows; rejects an empty audience."""
    recipients = directory.recipients(audience, channels)
    if not recipients:
        raise Rejected("bc.empty_audience", audience=audience or "?")
    new = NewBroadcast(str(by) if by else "cli", audience, label, kind, question, body, now,
                       None, progress_chat(by, channels))
    return CreateBroadcast(new, tuple(recipients)), recipients


def plan_once(audience: str, label: str, kind: str, question: str | None, body: str | None,
              at: float, zone: str, by: str | None, now: float) -> CreateSchedule:
    """A one-off schedule for `ccbot broadcast --at`."""
    return CreateSchedule(NewSchedule(by, "once", None, clock_of(at, zone), zone, audience,
                                      label, kind, question, body, at, now))


# ---------------------------------------------------------------------- wizard state


# Schedules and broadcasts made with `ccbot` carry this maker: the operator, who has the shell.
CLI_MAKER = "cli"


def may_address(directory: Directory, holds: Callable[[UserKey, str], bool], user: UserKey,
                audience: str) -> bool:
    """True when `user` may send to `audience` now: coordinators anyone, managers their teams.

    Asked when a right is used (each schedule run, each /report), not only when granted.
    """
    if holds(user, "coordinator"):
        return True
    kind, team_id = split_audience(audience)
    return kind == "team" and holds(user, "manager") and any(
        m.team_id == team_id and m.role == "manager" for m in directory.memberships(user))
