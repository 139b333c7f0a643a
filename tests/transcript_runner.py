"""Replays YAML transcripts (user says -> bot must answer) through the engine or `ccbot chat`.

A transcript is one user's conversation, or several people's: a step may say `as: NAME`, and a
`given:` block sets up who is an admin, who holds a role, who has been onboarded, which teams
exist and which cycle answers are stored. Those are replayed in a coordinator world
(tests/coordinator_world.py); replay_world and set_up below say what each key does.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from coordinator_world import World

from bot.definitions.model import Content
from bot.engine.core.events import Choice, Event, Reply, UserKey
from bot.engine.core.records import Answer, Commit
from bot.engine.engine import Engine
from bot.engine.features.broadcasts.views import render_broadcast
from bot.engine.features.practice.followups import send_due
from bot.engine.features.reminders.nudges import send_nudges
from bot.engine.features.teams.actions import new_invite
from bot.engine.ports.broadcasts import Delivery
from bot.engine.ports.directory import commit_ops
from bot.engine.ports.directory_ops import CreateTeam, GrantRole, JoinTeam

TRANSCRIPTS = Path(__file__).parent / "transcripts"
COORDINATORS = TRANSCRIPTS / "coordinators"
PROJECT = Path(__file__).parent.parent


@dataclass(frozen=True)
class Step:
    """One user action and what the bot's answer must (and must not) contain."""

    send: str | None
    tap: str | None
    expect: tuple[str, ...]
    expect_not: tuple[str, ...]
    choices: tuple[str, ...] | None
    # Who acts (None: the transcript's user), whether they receive their broadcast copy instead
    # of sending, and values to capture from what the bot said ({name: regex with one group}).
    as_user: str | None = None
    receive: bool = False
    remember: tuple[tuple[str, str], ...] = ()
    # Days the clock moves on before this step; then what fell due (follow-ups, reminders) is
    # sent, as the scheduler would, and the acting person sees theirs.
    wait: float | None = None


@dataclass(frozen=True)
class Team:
    """A team that exists before the first step."""

    name: str
    managers: tuple[str, ...]
    members: tuple[str, ...]


@dataclass(frozen=True)
class Given:
    """The world before the first step of a several-user transcript."""

    admins: tuple[str, ...] = ()
    roles: tuple[tuple[str, str], ...] = ()
    onboarded: tuple[str, ...] = ()
    teams: tuple[Team, ...] = ()
    # name -> one level per sub-component, in framework order (None: not answered)
    answers: tuple[tuple[str, tuple[int | None, ...]], ...] = ()

    def named(self) -> tuple[str, ...]:
        """Everyone the block names, in order of first mention (all of them are onboarded)."""
        return tuple(dict.fromkeys([
            *self.admins, *(n for n, _ in self.roles), *self.onboarded,
            *(n for t in self.teams for n in (*t.managers, *t.members)),
            *(n for n, _ in self.answers)]))


@dataclass(frozen=True)
class Transcript:
    """A named conversation for one user (or, with `as:` steps and `given:`, several)."""

    name: str
    user: str
    steps: tuple[Step, ...]
    locale: str | None = None
    given: Given | None = None

    def people(self) -> tuple[str, ...]:
        """Everyone named, in order of first mention: their numeric ids follow this order."""
        names = [self.user, *(self.given.named() if self.given else ())]
        names += [s.as_user for s in self.steps if s.as_user is not None]
        return tuple(dict.fromkeys(names))

    def several(self) -> bool:
        """True if it needs a coordinator world (replay_world), not one user's engine."""
        return self.given is not None or any(s.as_user or s.receive or s.remember
                                             or s.wait is not None for s in self.steps)

    def key(self, name: str) -> UserKey:
        """A Telegram-like key for a named person (numeric ids, as Telegram's are)."""
        return UserKey("telegram", str(100 + self.people().index(name)))


def _names(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in (value or ()))


def _given(data: dict[str, Any], folder: Path) -> Given:
    """Parse a `given:` block; `answers: FILE` names a YAML file beside the transcript."""
    answers: dict[str, Any] = {}
    if "answers" in data:
        answers = yaml.safe_load((folder / str(data["answers"])).read_text("utf-8"))
    return Given(
        admins=_names(data.get("admins")),
        roles=tuple((str(n), str(r)) for n, r in (data.get("roles") or {}).items()),
        onboarded=_names(data.get("onboarded")),
        teams=tuple(Team(str(name), _names(t.get("managers")), _names(t.get("members")))
                    for name, t in (data.get("teams") or {}).items()),
        answers=tuple((str(n), tuple(None if v is None else int(v) for v in levels))
                      for n, levels in answers.items()),
    )


TOP_KEYS = {"name", "user", "locale", "given", "steps"}
STEP_KEYS = {"send", "tap", "expect", "expect_not", "choices", "as", "receive", "remember",
             "wait"}
GIVEN_KEYS = {"admins", "roles", "onboarded", "teams", "answers"}


def _known(path: Path, where: str, keys: Any, allowed: set[str]) -> None:
    """A misspelt key would silently be ignored: refuse it, naming the file and the place."""
    unknown = sorted(set(keys) - allowed)
    assert not unknown, f"{path.name} {where}: unknown key(s) {unknown}; use {sorted(allowed)}"


def load(path: Path) -> Transcript:
    """Parse a transcript file."""
    data: dict[str, Any] = yaml.safe_load(path.read_text("utf-8"))
    _known(path, "top level", data, TOP_KEYS)
    _known(path, "given", data.get("given") or {}, GIVEN_KEYS)
    for number, step in enumerate(data["steps"], start=1):
        _known(path, f"step {number}", step, STEP_KEYS)
        assert step.get("receive", "broadcast") == "broadcast", (
            f"{path.name} step {number}: `receive:` takes one value, broadcast")
    steps = tuple(
        Step(
            send=str(s["send"]) if "send" in s else None,
            tap=str(s["tap"]) if "tap" in s else None,
            expect=tuple(str(e) for e in s.get("expect", [])),
            expect_not=tuple(str(e) for e in s.get("expect_not", [])),
            choices=tuple(str(c) for c in s["choices"]) if "choices" in s else None,
            as_user=str(s["as"]) if "as" in s else None,
            receive=s.get("receive") == "broadcast",
            remember=tuple((str(k), str(v)) for k, v in (s.get("remember") or {}).items()),
            wait=float(s["wait"]) if "wait" in s else None,
        )
        for s in data["steps"]
    )
    given = _given(data["given"] or {}, path.parent) if "given" in data else None
    return Transcript(data["name"], str(data.get("user", "tester")), steps, data.get("locale"),
                      given)


def all_transcripts() -> list[Path]:
    """Every one-user transcript file, sorted (these also run through `ccbot chat`)."""
    return sorted(TRANSCRIPTS.glob("*.yaml"))


def coordinator_transcripts() -> list[Path]:
    """Every several-user transcript, sorted (engine only: the console has one user)."""
    return sorted(p for p in COORDINATORS.glob("*.yaml") if not p.stem.endswith("_figures"))


def flat(text: str) -> str:
    """Whitespace collapsed, so wrapped console output compares with one-line expectations."""
    return " ".join(text.split())


def replay_engine(engine: Engine, transcript: Transcript) -> None:
    """Replay through the engine; assert every expectation, naming the step that failed."""
    assert not transcript.several(), f"{transcript.name}: several people; use replay_world"
    key = UserKey("test", transcript.user)
    choices: tuple[Choice, ...] = ()
    earlier: tuple[Choice, ...] = ()
    for number, step in enumerate(transcript.steps, start=1):
        if step.tap is not None:
            # Any button of the last answer counts (the prompt's too, not only the question's).
            match = [c for c in (*choices, *earlier) if c.label == step.tap]
            assert match, (f"{transcript.name} step {number}: no button '{step.tap}' "
                           f"among {[c.label for c in choices]}")
            event = Event(key, choice=match[0].id, update_id=None, locale=transcript.locale)
        else:
            event = Event(key, text=step.send or "", locale=transcript.locale)
        response = engine.handle(event)
        choices = check(transcript, number, step, response.replies, choices)
        earlier = tuple(c for r in response.replies for c in r.choices)


def check(transcript: Transcript, number: int, step: Step, replies: Sequence[Reply],
          choices: tuple[Choice, ...]) -> tuple[Choice, ...]:
    """Assert one step's expectations on what the bot said; returns the buttons now offered."""
    said = flat("\n".join(r.text for r in replies))
    who = f" as {step.as_user}" if step.as_user else ""
    for expected in step.expect:
        assert flat(expected) in said, (
            f"{transcript.name} step {number}{who} ({step.send or step.tap}): expected "
            f"{expected!r} in:\n{said}")
    for unwanted in step.expect_not:
        assert flat(unwanted) not in said, (
            f"{transcript.name} step {number}{who}: did not expect {unwanted!r} in:\n{said}")
    offered = [r.choices for r in replies if r.choices]
    if offered:
        choices = offered[-1]
    if step.choices is not None:
        assert tuple(c.label for c in choices) == step.choices, (
            f"{transcript.name} step {number}{who}: choices {[c.label for c in choices]}")
    return choices


def world_for(transcript: Transcript, content: Content, kind: str, path: Path) -> World:
    """A coordinator world over a `kind` store whose CCBOT_ADMINS are the transcript's admins."""
    admins = transcript.given.admins if transcript.given else ()
    return World(content, kind, path, admins=frozenset(str(transcript.key(n)) for n in admins))


def set_up(world: World, transcript: Transcript) -> None:
    """Make the world what `given:` says; everyone it names is onboarded first.

    People who appear only in steps start from nothing (e.g. to onboard through an invite).
    """
    given = transcript.given or Given()
    now = world.clock.now
    for name in given.named():
        world.member(transcript.key(name).id)
    ops: list[Any] = [GrantRole(str(transcript.key(n)), role, None, now) for n, role in given.roles]
    ops += [CreateTeam(t.name, None, now, new_invite("team", None, None, None, now))
            for t in given.teams]
    commit_ops(world.store, ops)
    for t in given.teams:
        team = world.directory.team_named(t.name)
        assert team is not None
        commit_ops(world.store, [
            *(JoinTeam(team.id, str(transcript.key(n)), now, "manager") for n in t.managers),
            *(JoinTeam(team.id, str(transcript.key(n)), now) for n in t.members)])
    subs = world.content.sub_components
    for name, levels in given.answers:
        assert len(levels) == len(subs), (
            f"{transcript.name}: {name} has {len(levels)} answers; give one per sub-component "
            f"({len(subs)}, in framework order; null for not answered)")
        user = transcript.key(name)
        answers = tuple(Answer(user, "cycle", 1, sub.id, level, None, now + i)
                        for i, (sub, level) in enumerate(zip(subs, levels)) if level is not None)
        world.store.commit(Commit(user, None, None, answers=answers))
    if given.answers:
        # The steps start a minute after the last stored answer, so a round closed in a step
        # holds them (a round holds the answers given before it closed).
        world.clock.now = now + len(subs) + 60


def replay_world(world: World, transcript: Transcript) -> None:
    """Replay a several-user transcript; each person keeps their own buttons.

    `receive: broadcast` stands in for the Telegram sender: every due copy is accepted, and the
    acting person sees theirs (rendered as the sender renders it) with its buttons.
    `remember: {name: regex}` keeps group 1 of what the bot said; `{name}` in a later `send`
    or `tap` is replaced by it (invite links and member codes are random).
    """
    set_up(world, transcript)
    buttons: dict[str, tuple[Choice, ...]] = {}
    remembered: dict[str, str] = {}
    inbox: dict[UserKey, list[Delivery]] = {}
    for number, step in enumerate(transcript.steps, start=1):
        name = step.as_user or transcript.user
        key = transcript.key(name)
        offered = buttons.get(name, ())

        def fill(text: str) -> str:
            return re.sub(r"\{(\w+)\}", lambda m: remembered.get(m.group(1), m.group(0)), text)

        replies: Sequence[Reply]
        if step.wait is not None:
            world.clock.now += step.wait * 86400
            replies = [reply for user, reply in _due(world) if user == key]
        elif step.receive:
            replies = _received(world, key, inbox)
            assert replies, f"{transcript.name} step {number}: no broadcast reached {name}"
        elif step.tap is not None:
            label = fill(step.tap)
            match = [c for c in offered if c.label == label]
            assert match, (f"{transcript.name} step {number}: no button '{label}' for "
                           f"{name} among {[c.label for c in offered]}")
            replies = world.engine.handle(Event(key, choice=match[0].id,
                                                update_id=next(world.ids),
                                                locale=transcript.locale)).replies
        else:
            replies = world.engine.handle(Event(key, text=fill(step.send or ""),
                                                update_id=next(world.ids),
                                                locale=transcript.locale)).replies
        # The newest message's buttons first; those on earlier messages of the answer can be
        # tapped too, as on a phone (e.g. *I'll try this* under a prompt).
        buttons[name] = (*check(transcript, number, step, replies, offered),
                         *(c for r in replies for c in r.choices))
        said = "\n".join(r.text for r in replies)
        for variable, pattern in step.remember:
            found = re.search(pattern, said)
            assert found, (f"{transcript.name} step {number}: nothing matching {pattern!r} to "
                           f"remember as {variable} in:\n{said}")
            remembered[variable] = found.group(1)


def _due(world: World) -> list[tuple[UserKey, Reply]]:
    """What the scheduler sends now: due follow-ups, then due reminders."""
    now = world.clock.now
    return [*send_due(world.practice, world.store, world.content, now),
            *send_nudges(world.reminders, world.store, world.content, now)]


def _received(world: World, key: UserKey, inbox: dict[UserKey, list[Delivery]]) -> list[Reply]:
    """Deliver every due broadcast copy; the messages `key` got, as the sender renders them."""
    for copy in world.outbox.claim_due("telegram", world.clock.now, 1000):
        world.outbox.mark_sent(copy.id, 1000 + copy.id, world.clock.now)
        inbox.setdefault(copy.user, []).append(copy)
    replies = []
    for copy in inbox.pop(key, []):
        broadcast = world.directory.broadcast(copy.broadcast_id)
        assert broadcast is not None
        text, choices = render_broadcast(world.content, broadcast, copy.locale)
        replies.append(Reply(text, choices))
    return replies


def replay_console(transcript: Transcript, db: Path, extra_env: dict[str, str] | None = None,
                   ) -> str:
    """Replay through `ccbot chat` as a subprocess; taps are typed as the button's label."""
    assert not transcript.several(), f"{transcript.name}: the console has one user"
    lines = [step.tap if step.tap is not None else (step.send or "")
             for step in transcript.steps]
    # The console opens with an implicit /start; drop a leading explicit one to keep steps aligned.
    skip_first = bool(lines) and lines[0] == "/start"
    stdin = "\n".join(lines[1:] if skip_first else lines) + "\n"
    env = {**os.environ, "CCBOT_DB": str(db), **(extra_env or {})}
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat", "--user", transcript.user,
         *(["--lang", transcript.locale] if transcript.locale else [])],
        input=stdin.encode("utf-8"), capture_output=True, env=env, cwd=PROJECT, timeout=120,
    )
    out = result.stdout.decode("utf-8")
    assert result.returncode == 0, f"ccbot chat exited {result.returncode}: {result.stderr!r}"
    assert "Traceback" not in out + result.stderr.decode("utf-8", "replace")
    said = flat(out)
    position = 0
    for number, step in enumerate(transcript.steps, start=1):
        for expected in step.expect:
            found = said.find(flat(expected), position)
            assert found >= 0, (f"{transcript.name} step {number}: expected {expected!r} "
                                f"after position {position} in console output:\n{said}")
            position = found
    return out


def prompts_in(text: str) -> int:
    """How many '> ' input prompts the console printed."""
    return len(re.findall(r"(^|\n)> ", text))
