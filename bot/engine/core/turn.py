"""One event's worth of conversation: read the user's place, act, and say what comes next.

The Turn dispatches commands to their feature, buttons and typed answers to the awaiting feature
or to dialogue stepping (dialogue_steps.py), and renders what to show."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

from bot.definitions.model import Content, Question
from bot.engine.core.commands import Command, least_rank, menu_for
from bot.engine.core.dialogue_steps import ONBOARDING, DialogueSteps
from bot.engine.core.events import PRIVATE_CHAT, Attachment, Choice, Event, Reply, Response, UserKey
from bot.engine.core.feature_api import Feature
from bot.engine.core.feature_hooks import FeatureHooks
from bot.engine.core.machines import DialogueMachine
from bot.engine.core.records import MAX_NOTE_CHARS, Answer, Op, Position, UserRecord
from bot.engine.core.repair import repaired
from bot.engine.core.roles import Roles
from bot.engine.core.texts import action_for
from bot.engine.core.typed import normalise, typed_choice, typed_level
from bot.engine.ports.charts import Chart, ChartRenderer
from bot.engine.ports.store import Store

log = logging.getLogger(__name__)

# Messages longer than this are not read as answers or commands (a pasted document, a flood).
MAX_TEXT_CHARS = 10_000

_CHOICE = re.compile(r"^t(\d+):([A-Za-z0-9_.\-]+)$")
_COMMAND = re.compile(r"^/([A-Za-z0-9_]+)(?:@\w+)?(?:\s+(.*))?$", re.DOTALL)


class Host(Protocol):
    """What a turn reads from the engine that runs it (bot/engine/engine.py)."""

    content: Content
    machines: dict[str, DialogueMachine]
    store: Store
    charts: ChartRenderer | None
    roles: Roles
    features: tuple[Feature, ...]
    commands: dict[str, tuple[Feature, Command]]

    def pick_locale(self, hint: str | None) -> str: ...

    def feature_for(self, value: str) -> Feature | None: ...


class Turn(FeatureHooks):
    """The work for one event: a mutable scratchpad that ends as a Response and a Commit."""

    def __init__(self, engine: Host, event: Event, record: UserRecord | None, now: float):
        self.engine: Host = engine
        # Content and machines are read once, so a reload between turns never splits a turn.
        self.content: Content = engine.content
        self.machines: dict[str, DialogueMachine] = engine.machines
        self.event = event
        self.now = now
        self.record = record
        self.replies: list[Reply] = []
        self.answers: list[Answer] = []
        self.notes: list[Answer] = []
        self.forget = False
        self.chosen: str | None = None
        self.stale = False
        self.show_current = False
        self.refused: list[str] = []
        self.ops: list[Op] = []
        self.steps = DialogueSteps(self)

    # ------------------------------------------------------------------ the feature API
    @property
    def locale(self) -> str:
        if self.record is not None:
            return self.record.locale
        return self.engine.pick_locale(self.event.locale)

    @property
    def user(self) -> UserRecord:
        assert self.record is not None, "a user record exists past first contact"
        return self.record

    @property
    def store(self) -> Store:
        return self.engine.store

    @property
    def charts(self) -> ChartRenderer | None:
        return self.engine.charts

    def t(self, message_id: str, **values: object) -> str:
        return self.content.text(message_id, self.locale, **values)

    def say(self, text: str, choices: tuple[Choice, ...] = ()) -> None:
        self.replies.append(Reply(text, choices))

    def choice(self, option: str, label: str) -> Choice:
        return Choice(f"t{self.user.turn}:{option}", label)

    def set_position(self, position: Position) -> None:
        self.steps.set_position(position)

    def has_role(self, role: str) -> bool:
        return self.engine.roles.has(self.user.key, role)

    def holds(self, user: UserKey, role: str) -> bool:
        return self.engine.roles.has(user, role)

    def menu(self) -> list[Command]:
        roles = self.engine.roles.book.roles(self.event.user)
        shown = {name for name, _ in menu_for((c for _, c in self.engine.commands.values()),
                                              roles)}
        found = [c for _, c in self.engine.commands.values() if c.name in shown]
        return sorted(found, key=least_rank)

    def refuse(self, what: str) -> None:
        self.refused.append(what)
        self.say(self.t("refused"))
        self.show_current = True

    def attach_chart(self, draw: Callable[[ChartRenderer], Chart], name: str) -> None:
        if self.engine.charts is None:
            return
        try:
            chart = draw(self.engine.charts)
        except Exception:  # a chart is a bonus: never lose the answer over it
            log.exception("%s chart for %s could not be drawn; sending the words only", name,
                          self.user.key)
            return
        image = Attachment(f"{name}.png", chart.png, "image/png", chart.caption)
        self.replies.append(Reply(chart.caption, image=image))

    def use_start_payload(self, payload: str) -> bool:
        return any(f.start_payload(self, payload) for f in self.engine.features)

    def strand_title(self, strand_id: str) -> str:
        strand = self.content.strand(strand_id)
        return strand.title.get(self.locale) if strand else strand_id

    def level_label(self, question_id: str, level: int) -> str:
        question = self.content.questions.get(question_id)
        scale = self.content.scales.get(question.scale) if question else None
        found = scale.level(level) if scale else None
        return found.label.get(self.locale) if found else str(level)

    def action(self, question: Question, level: int) -> str | None:
        return action_for(self.content, question, level, self.user.persona, self.locale)

    # ------------------------------------------------------------------ entry
    def signature(self) -> tuple[object, ...]:
        if self.record is None:
            return ()
        pos = self.steps.position()
        return (self.record.active, pos and pos.state, pos and pos.cycle, self.record.awaiting)

    def run(self) -> Response:
        before = self.signature()
        if not self.event.private:
            self.in_group()
        elif self.record is None:
            self.first_contact()
        else:
            self.record = replace(self.record, last_seen=self.now)
            self.repair()
            self.dispatch()
        if self.record is not None and not self.forget:
            if self.signature() != before:
                self.record = replace(self.record, turn=self.record.turn + 1)
            if self.show_current and self.event.private:
                self.render_current()
        return Response(tuple(self.replies), chosen=self.chosen, stale_choice=self.stale)

    def repair(self) -> None:
        """Move the user off steps a content reload removed, to the nearest valid one."""
        fixed = repaired(self.steps, self.machines, self.user)
        if fixed is not None:
            self.record = fixed
            self.say(self.t("reload.moved"))

    def dispatch(self) -> None:
        event = self.event
        if event.unsupported:
            self.say(self.t("hint.unsupported"))
            self.show_current = True
        elif event.choice is not None:
            self.on_choice(event.choice)
        else:
            text = event.text.strip()
            if len(text) > MAX_TEXT_CHARS and not self.steps.note_open():
                self.say(self.t("hint.too_long", limit=MAX_NOTE_CHARS))
                self.show_current = True
            elif text.startswith("/"):
                self.on_command(text)
            else:
                self.on_text(text)

    def in_group(self) -> None:
        """In a group only group commands are answered (nothing stored); else a private link."""
        match = _COMMAND.match(self.event.text.strip()) if self.event.choice is None else None
        found = self.engine.commands.get(match.group(1).lower()) if match else None
        if match is not None and found is not None and found[1].in_groups:
            feature, command = found
            command.handler(feature, self, (match.group(2) or "").strip())
            return
        self.stale = self.event.choice is not None
        self.say(self.t("group.private_only"),
                 (Choice(PRIVATE_CHAT, self.t("group.open_private")),))

    def first_contact(self) -> None:
        command = _COMMAND.match(self.event.text.strip())
        name = command.group(1).lower() if command else ""
        if name in ("forget", "mydata"):
            self.say(self.t("privacy.nothing_stored"))
            return
        payload = (command.group(2) or "").strip() if command and name == "start" else ""
        self.record = UserRecord(
            key=self.event.user, locale=self.engine.pick_locale(self.event.locale),
            created_at=self.now, last_seen=self.now, start_payload=payload[:64] or None,
            # Button ids carry the turn. Counting from the clock (ms) rather than 0 keeps a button
            # left in the chat from a forgotten or declined record from matching a new question.
            turn=int(self.now * 1000),
        )
        dialogue = self.content.dialogues[ONBOARDING]
        self.set_position(Position(ONBOARDING, dialogue.start))
        # /help and /about answer a first message too, then onboarding begins.
        helper = self.engine.commands.get(name) if name in ("help", "about") else None
        if helper is not None:
            helper[1].handler(helper[0], self, "")
        self.show_current = True

    # ------------------------------------------------------------------ commands
    def on_command(self, text: str) -> None:
        match = _COMMAND.match(text)
        name = match.group(1).lower() if match else ""
        found = self.engine.commands.get(name)
        if match is None or found is None:
            shown = text.split()[0][:40] if match is None else "/" + name[:40]
            self.say(self.t("hint.unknown_command", command=shown))
            self.show_current = True
            return
        feature, command = found
        if not self.user.consent and not command.before_consent:
            self.say(self.t("onboarding.first"))
            self.show_current = True
            return
        if command.requires and not self.has_role(command.requires):
            self.refuse(f"/{name}")
            return
        self.record = replace(self.user, awaiting=None)
        command.handler(feature, self, (match.group(2) or "").strip())

    # ------------------------------------------------------------------ choices and text
    def on_choice(self, data: str) -> None:
        feature = self.engine.feature_for(data)
        if feature is not None and self.user.consent and feature.button(self, data):
            return
        match = _CHOICE.match(data)
        valid = {c.id: c for c in self.current_choices()}
        # Membership first: int() of a forged 5,000-digit turn number raises ValueError.
        if match is None or data not in valid or int(match.group(1)) != self.user.turn:
            self.stale = True
            self.say(self.t("hint.moved_on"))
            self.show_current = True
            return
        self.chosen = valid[data].label
        self.act(match.group(2))

    def on_text(self, text: str) -> None:
        if not text:
            self.say(self.t("hint.empty"))
            self.show_current = True
            return
        pos = self.steps.position()
        awaiting = self.user.awaiting
        feature = self.engine.feature_for(awaiting) if awaiting else None
        if feature is not None and awaiting is not None and feature.text(self, awaiting, text):
            self.show_current = True
            return
        option = self.typed_option(text)
        pressed = self.typed_feature_button(text) if option is None else None
        if pressed is not None:
            self.on_choice(pressed)
            return
        if option is None and pos is not None and self.steps.note_open():
            # Not an answer to the question now shown: the note its prompt offered.
            self.steps.add_note(pos, text)
            self.show_current = True
            return
        if option is None:
            self.say(self.t("hint.not_understood"))
            self.show_current = True
            return
        self.act(option)

    def typed_feature_button(self, text: str) -> str | None:
        """The data of a feature's button (under the question, or under the prompt just
        shown) whose label was typed: the terminal has no buttons to tap."""
        shown = [*self.current_choices()]
        if self.user.awaiting is None:
            shown += self.steps.last_prompt_choices()
        # By label only: a number typed is an answer, and these buttons are not numbered.
        wanted = normalise(text)
        return next((c.id for c in shown
                     if not _CHOICE.match(c.id) and normalise(c.label) == wanted), None)

    def typed_option(self, text: str) -> str | None:
        pos = self.steps.position()
        if self.user.awaiting is None and pos is not None:
            step = self.machines[pos.dialogue].dialogue.step(pos.state)
            if step is not None and step.kind == "ask" and step.ask:
                question = self.content.questions[step.ask]
                level = typed_level(text, self.content.scales[question.scale], self.locale)
                if level is not None:
                    return str(level)
        bound = tuple(c for c in self.current_choices() if _CHOICE.match(c.id))
        choice = typed_choice(text, bound)
        if choice is not None:
            return choice.id.split(":", 1)[1]
        return None

    def act(self, option: str) -> None:
        """Carry out an option of the current question or confirmation."""
        awaiting = self.user.awaiting
        self.show_current = True
        if awaiting is not None:
            self.record = replace(self.user, awaiting=None)
            feature = self.engine.feature_for(awaiting)
            if feature is not None:
                feature.act(self, awaiting, option)
            elif option == "no":
                self.say(self.t("cancelled"))
            return
        pos = self.steps.position()
        if pos is None:
            self.steps.ensure_cycle()
            return
        kind = self.steps.act(pos, option)
        if kind is not None:
            for feature in self.engine.features:
                if feature.after_summary(self, kind, pos, option):
                    return

    # ------------------------------------------------------------------ rendering
    def current_choices(self) -> tuple[Choice, ...]:
        return self.render_current(emit=False)

    def render_current(self, emit: bool = True) -> tuple[Choice, ...]:
        """Say the current question (or confirmation) again; return its choices."""
        text, choices = self.current_prompt()
        if emit and text:
            self.say(text, choices)
        return choices

    def current_prompt(self) -> tuple[str, tuple[Choice, ...]]:
        awaiting = self.user.awaiting
        feature = self.engine.feature_for(awaiting) if awaiting else None
        if feature is not None and awaiting is not None:
            shown = feature.prompt(self, awaiting)
            if shown is not None:
                return shown
        if awaiting is not None:
            # No feature offers this step any more (e.g. content changed): drop it.
            self.record = replace(self.user, awaiting=None)
        pos = self.steps.position()
        found = self.steps.step_prompt(pos) if pos is not None else None
        if isinstance(found, tuple):
            return found
        if isinstance(found, str) and pos is not None:
            for owner in self.engine.features:
                summary = owner.summary(self, found, pos)
                if summary is not None:
                    return summary
        return self.t("idle"), ()
