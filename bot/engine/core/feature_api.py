"""What a feature sees of a turn (`TurnApi`), and the base class features plug in with.

Features type against `TurnApi`, never against the Turn class, so imports run one way:
features -> core, and the core knows features only as `Feature` objects it is handed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from bot.definitions.model import Content, Question
from bot.engine.core.commands import Command
from bot.engine.core.dialogue_steps import DialogueSteps
from bot.engine.core.events import Choice, Event, Reply, UserKey
from bot.engine.core.records import Answer, Op, Position, UserRecord
from bot.engine.ports.charts import Chart, ChartRenderer
from bot.engine.ports.store import Store


class TurnApi(Protocol):
    """One event's scratchpad as features use it: read the user, say things, queue ops."""

    content: Content
    event: Event
    now: float
    record: UserRecord | None
    replies: list[Reply]
    answers: list[Answer]
    ops: list[Op]
    refused: list[str]
    forget: bool
    chosen: str | None
    stale: bool
    show_current: bool
    steps: DialogueSteps

    @property
    def user(self) -> UserRecord:
        """The user's record (exists past first contact)."""
        ...

    @property
    def locale(self) -> str:
        """The user's language code."""
        ...

    @property
    def store(self) -> Store:
        """The store this turn reads from (writes go through the turn's commit)."""
        ...

    @property
    def charts(self) -> ChartRenderer | None:
        """The chart renderer, or None where charts are not drawn."""
        ...

    def t(self, message_id: str, **values: object) -> str:
        """A message in the user's language."""
        ...

    def say(self, text: str, choices: tuple[Choice, ...] = ()) -> None:
        """Add a reply."""
        ...

    def choice(self, option: str, label: str) -> Choice:
        """A button bound to this turn's question."""
        ...

    def has_role(self, role: str) -> bool:
        """True when the user holds `role` (or a role above it)."""
        ...

    def menu(self) -> list[Command]:
        """Every command with a menu text that this user may use, in menu order."""
        ...

    def holds(self, user: UserKey, role: str) -> bool:
        """True when another user holds `role` (or one above it) now."""
        ...

    def refuse(self, what: str) -> None:
        """A polite refusal, logged by the engine."""
        ...

    def attach_chart(self, draw: Callable[[ChartRenderer], Chart], name: str) -> None:
        """Add a chart image; on failure the words already said stand alone."""
        ...

    def set_position(self, position: Position) -> None:
        """Make `position` the user's place in its dialogue, and that dialogue active."""
        ...

    def use_start_payload(self, payload: str) -> bool:
        """Offer a deep-link payload to the features; True if one used it."""
        ...

    def strand_title(self, strand_id: str) -> str:
        """A strand's title in the user's language."""
        ...

    def level_label(self, question_id: str, level: int) -> str:
        """A level's label on a question's scale, in the user's language."""
        ...

    def action(self, question: Question, level: int) -> str | None:
        """The action for `level`, tailored to the user's persona, with its evidence line."""
        ...

    def question_buttons(self, question: Question) -> tuple[Choice, ...]:
        """The buttons features add under a question, after its answers."""
        ...

    def prompt_buttons(self, question: Question, level: int,
                       broadcast: int | None = None) -> tuple[Choice, ...]:
        """The buttons every feature puts under a tailored prompt (e.g. *I'll try this*); with
        `broadcast`, the prompt came as the answer to that broadcast."""
        ...

    def actions_tried(self) -> dict[str, int]:
        """How many things the user tried per strand (for /progress), from the features."""
        ...

    def paused(self) -> None:
        """The user paused (/pause): every feature may add to the reply (e.g. reminders)."""
        ...


class Feature:
    """Base class: a feature owns the awaiting states and button data that start with its prefix.

    Awaiting states are '<prefix>:<detail>' (or one of `awaits`, the bare names kept from
    before features had prefixes, since they are stored in users' records); buttons for them
    are ordinary turn-bound choices. Buttons that must outlive a turn (e.g. on a broadcast) use
    data '<prefix>:<detail>' too and are validated by the feature itself.
    """

    prefix = ""
    awaits: tuple[str, ...] = ()
    # The commands this feature adds, declared once; see core/commands.py.
    COMMANDS: tuple[Command, ...] = ()

    def prompt(self, turn: TurnApi, awaiting: str) -> tuple[str, tuple[Choice, ...]] | None:
        """The question to show while the user is in one of this feature's awaiting states."""
        return None

    def act(self, turn: TurnApi, awaiting: str, option: str) -> None:
        """A choice (tapped or typed) was made in one of this feature's awaiting states."""

    def text(self, turn: TurnApi, awaiting: str, text: str) -> bool:
        """Free text arrived in one of this feature's awaiting states; True if consumed."""
        return False

    def button(self, turn: TurnApi, data: str) -> bool:
        """Button data with this feature's prefix, outside any awaiting state; True if handled."""
        return False

    def question_buttons(self, turn: TurnApi, question: Question) -> tuple[Choice, ...]:
        """Buttons this feature adds under a question, after its answers."""
        return ()

    def prompt_buttons(self, turn: TurnApi, question: Question, level: int,
                       broadcast: int | None = None) -> tuple[Choice, ...]:
        """Buttons this feature adds under the tailored prompt for `question` at `level`."""
        return ()

    def actions_tried(self, turn: TurnApi) -> dict[str, int]:
        """The user's actions tried per strand, if this feature keeps them."""
        return {}

    def after_pause(self, turn: TurnApi) -> None:
        """The user paused with /pause; say anything this feature offers then."""

    def start_payload(self, turn: TurnApi, payload: str) -> bool:
        """A `/start <payload>` deep link after onboarding; True if this feature used it."""
        return False

    def summary(self, turn: TurnApi, kind: str,
                pos: Position) -> tuple[str, tuple[Choice, ...]] | None:
        """The text and buttons of a dialogue's summary step of `kind`, if this feature owns it."""
        return None

    def after_summary(self, turn: TurnApi, kind: str, pos: Position, option: str) -> bool:
        """An option chosen on a summary step of `kind`; True if this feature owns it."""
        return False

    def owns(self, value: str) -> bool:
        """True when an awaiting state or button data belongs to this feature."""
        return value in self.awaits or (bool(self.prefix) and value.startswith(self.prefix + ":"))
