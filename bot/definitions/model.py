"""Frozen dataclasses for the framework, its questions, references, messages and dialogues."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

DEFAULT_LOCALE = "en"


@dataclass(frozen=True)
class LocalText:
    """A user-facing string in every locale it has been written in."""

    values: tuple[tuple[str, str], ...]

    def get(self, locale: str) -> str:
        """The text in `locale`, falling back to English, then to any locale."""
        fallback = ""
        for code, text in self.values:
            if code == locale:
                return text
            if code == DEFAULT_LOCALE or not fallback:
                fallback = text
        return fallback

    def has(self, locale: str) -> bool:
        """True when the text is written in `locale`."""
        return any(code == locale for code, _ in self.values)

    @property
    def locales(self) -> tuple[str, ...]:
        """The locales this text is written in."""
        return tuple(code for code, _ in self.values)


@dataclass(frozen=True)
class SubComponent:
    """One of the twelve sub-components, e.g. `outcomes.insight`."""

    id: str
    strand: str
    title: LocalText
    description: LocalText


@dataclass(frozen=True)
class Strand:
    """One of the four strands of the cycle, with its sub-components in order."""

    id: str
    title: LocalText
    description: LocalText
    sub_components: tuple[SubComponent, ...]


@dataclass(frozen=True)
class Level:
    """One point of an answer scale, with the words a user may type for it."""

    level: int
    label: LocalText
    aliases: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def words(self, locale: str) -> tuple[str, ...]:
        """Lower-case words that select this level in `locale` (label first)."""
        words = [self.label.get(locale).casefold()]
        for code, extra in self.aliases:
            if code == locale:
                words.extend(word.casefold() for word in extra)
        return tuple(words)


@dataclass(frozen=True)
class Scale:
    """An ordered answer scale."""

    id: str
    levels: tuple[Level, ...]

    def level(self, number: int) -> Level | None:
        """The level with this number, if the scale has it."""
        return next((lv for lv in self.levels if lv.level == number), None)


PERSONAS = ("frontline", "manager", "coordinator")


@dataclass(frozen=True)
class PromptText:
    """One action: a short title and the text saying how to do it this week."""

    title: LocalText
    text: LocalText


@dataclass(frozen=True)
class Prompt:
    """The action for one level, with optional variants for personas whose authority differs."""

    level: int
    default: PromptText
    personas: tuple[tuple[str, PromptText], ...] = ()

    @property
    def title(self) -> LocalText:
        """The default action title."""
        return self.default.title

    @property
    def text(self) -> LocalText:
        """The default action text."""
        return self.default.text

    def variant(self, persona: str | None) -> PromptText:
        """The persona's variant, falling back to the level's default."""
        return next((v for p, v in self.personas if p == persona), self.default)


@dataclass(frozen=True)
class Question:
    """What the bot asks for one sub-component (or a quick-reflection strand) and how it replies."""

    id: str
    strand: str
    scale: str
    question: LocalText
    prompts: tuple[Prompt, ...]
    reflection: LocalText | None
    references: tuple[str, ...]
    about: LocalText | None = None
    descriptors: tuple[tuple[int, LocalText], ...] = ()

    def prompt_for(self, level: int, persona: str | None = None) -> PromptText | None:
        """The action for an answer at `level`, tailored to `persona` when a variant exists."""
        found = next((p for p in self.prompts if p.level == level), None)
        return found.variant(persona) if found else None

    def descriptor(self, level: int) -> LocalText | None:
        """What `level` looks like in practice for this sub-component."""
        return next((text for lv, text in self.descriptors if lv == level), None)


@dataclass(frozen=True)
class Reference:
    """An evidence reference from the library."""

    id: str
    authors: str
    year: int
    title: str
    venue: str
    url: str | None
    status: str
    supports: LocalText
    venue_note: LocalText | None = None
    free_url: str | None = None

    def citation(self) -> str:
        """A full citation: authors (year). Title. Venue."""
        return f"{self.authors} ({self.year}). {self.title}. {self.venue}."

    def short(self, locale: str = DEFAULT_LOCALE) -> str:
        """A short citation such as "Arnstein (1969)" or "Ansell and Gash (2008)"."""
        return f"{short_authors(self.authors, locale)} ({self.year})"

    def note(self, locale: str) -> str:
        """The venue as users of `locale` read it (a localised note where one is written)."""
        return self.venue_note.get(locale) if self.venue_note else self.venue


_AND = {"en": "and", "fr": "et", "es": "y"}
_ET_AL = "et al."


def short_authors(authors: str, locale: str = DEFAULT_LOCALE) -> str:
    """Surnames for a short citation: one, two joined by a localised "and", or "et al."."""
    names = _surnames(authors)
    if not names:
        return authors
    if len(names) == 1:
        return names[0]
    if len(names) == 2:
        return f"{names[0]} {_AND.get(locale, _AND[DEFAULT_LOCALE])} {names[1]}"
    return f"{names[0]} {_ET_AL}"


def _surnames(authors: str) -> list[str]:
    """Surnames from "Ansell, C. and Gash, A." or "Bason, C."; corporate authors kept whole."""
    text = authors.replace(" & ", " and ").replace(", and ", " and ")
    if "," not in text:
        # A corporate author such as "OECD" or "Design Council".
        return [part.strip() for part in text.split(" and ") if part.strip()]
    names: list[str] = []
    for person in text.split(" and "):
        for chunk in person.split(".,"):
            surname = chunk.split(",")[0].strip()
            if surname and not _is_initials(surname):
                names.append(surname)
    return names


def _is_initials(word: str) -> bool:
    return all(len(part.strip(".")) <= 1 for part in word.split())


@dataclass(frozen=True)
class Option:
    """A choice offered by a `choose` step."""

    id: str
    label: str
    next: str
    sets: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Step:
    """One step of a dialogue; exactly one of ask/choose/summary/end is set."""

    id: str
    next: str | None = None
    ask: str | None = None
    choose: str | None = None
    say: tuple[str, ...] = ()
    options: tuple[Option, ...] = ()
    summary: str | None = None
    end: str | None = None
    note: bool = True

    @property
    def kind(self) -> str:
        """Which kind of step this is: ask, choose, summary or end."""
        if self.ask:
            return "ask"
        if self.choose:
            return "choose"
        if self.summary:
            return "summary"
        return "end"


@dataclass(frozen=True)
class Dialogue:
    """A conversation flow: steps referring to content by id."""

    id: str
    start: str
    steps: tuple[Step, ...]
    ring: bool = False
    summary_step: str | None = None
    entry_points: tuple[tuple[str, str], ...] = ()

    def step(self, step_id: str) -> Step | None:
        """The step with this id, if any."""
        return self._index.get(step_id)

    @property
    def ask_steps(self) -> tuple[Step, ...]:
        """The question steps in order."""
        return tuple(s for s in self.steps if s.kind == "ask")

    @cached_property
    def _index(self) -> dict[str, Step]:
        return {s.id: s for s in self.steps}


@dataclass(frozen=True)
class Content:
    """Everything the bot can say: framework, scales, questions, references, messages."""

    strands: tuple[Strand, ...]
    scales: dict[str, Scale]
    questions: dict[str, Question]
    references: dict[str, Reference]
    messages: dict[str, LocalText]
    dialogues: dict[str, Dialogue] = field(default_factory=dict)
    locales: tuple[str, ...] = (DEFAULT_LOCALE,)
    locale_names: tuple[tuple[str, str], ...] = ((DEFAULT_LOCALE, "English"),)

    @property
    def sub_components(self) -> tuple[SubComponent, ...]:
        """All sub-components in cycle order."""
        return tuple(sub for strand in self.strands for sub in strand.sub_components)

    def strand(self, strand_id: str) -> Strand | None:
        """The strand with this id."""
        return next((s for s in self.strands if s.id == strand_id), None)

    def sub_component(self, sub_id: str) -> SubComponent | None:
        """The sub-component with this full id (`strand.sub`)."""
        return next((s for s in self.sub_components if s.id == sub_id), None)

    def text(self, message_id: str, locale: str, **values: object) -> str:
        """A message in `locale` with its placeholders filled in."""
        message = self.messages.get(message_id)
        if message is None:
            # Validation rejects unknown ids; this keeps a bad reload from crashing a user.
            return message_id
        template = message.get(locale)
        try:
            return template.format(**values) if values else template
        except (KeyError, IndexError, ValueError):
            return message.get(DEFAULT_LOCALE).format(**values)
