"""Fuzzing the engine: random event sequences never crash it, dead-end a user or corrupt state.

Each example is a list of actions by a few users, interpreted against the bot's latest replies:
valid ones (tap a button just shown, type a level, write a note) keep a user moving through
onboarding, the twelve questions, the summary and into the next cycle; hostile ones (random
Unicode, odd commands, stale and forged buttons, stickers, replayed update ids, strange locale
hints) are mixed in between. After every event the invariants checked in `Fuzzer.send` must
hold: no exception, a reply to every fresh update, replays ignored, only valid states stored,
nothing stored without consent, other users untouched, buttons within Telegram's limits and
never reused for another question, privileged commands only for their role.

Runs derandomized with a small budget so CI is quick and repeatable; for a deeper local run set
CCBOT_FUZZ_EXAMPLES (e.g. 3000), which also switches to fresh random seeds.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from itertools import count
from pathlib import Path

import pytest
from hypothesis import HealthCheck, currently_in_test_context, event, given, settings
from hypothesis import strategies as st

from bot.definitions.checked import load_content
from bot.definitions.model import Content
from bot.engine.core.commands import Command
from bot.engine.core.events import MAX_CHOICE_ID_BYTES, Event, Response, UserKey
from bot.engine.core.feature_api import Feature, TurnApi
from bot.engine.core.records import MAX_NOTE_CHARS, Answer, UserRecord
from bot.engine.engine import Engine
from bot.engine.features.personal import PERSONAL_COMMANDS
from bot.engine.memory.charts import MemoryCharts
from bot.engine.memory.store import MemoryStore
from bot.engine.messages import REQUIRED_MESSAGES
from bot.engine.ports.store import Store
from bot.storage.sqlite_store import SQLiteStore

# ---------------------------------------------------------------------------------- settings
_DEEP = int(os.environ.get("CCBOT_FUZZ_EXAMPLES", "0"))
FUZZ = settings(
    deadline=None,
    database=None,
    derandomize=not _DEEP,
    # Long texts (5,000+ characters) are built by repetition, but some examples stay large.
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def examples(ci: int) -> int:
    """The example budget: `ci` in the suite, CCBOT_FUZZ_EXAMPLES for a deep local run."""
    return _DEEP or ci


# The core commands (everyone's features, features/personal.py), open to every user who
# has consented. A new one must be added here on purpose, after review: anything that needs
# a role belongs in a Feature's Command(requires=...), which the engine checks before running.
ALLOWED_COMMANDS = ("about", "back", "cycle", "forget", "help", "language", "levels", "mydata",
                    "pause", "profile", "progress", "reflect", "restart", "skip", "start",
                    "strand", "where")
# Stand-in privileged commands, added by the Vault feature below.
PRIVILEGED = {"vault": "coordinator", "team": "manager"}

PROJECT = Path(__file__).resolve().parent.parent
USERS = (UserKey("fuzz", "ann"), UserKey("fuzz", "ben"), UserKey("other", "ann"))
CORE_AWAITING = (None, "strand", "restart", "forget", "language")
TELEGRAM_TEXT_LIMIT = 4096
TELEGRAM_CAPTION_LIMIT = 1024

# ---------------------------------------------------------------------------------- strategies
SPECIAL_TEXTS = (
    "", " ", "\t \n ", "\n\n\n", "\x00", "\x00\x00/start", "\u200f", "\u202e2", "\u200b",
    "\ufeff", "\u2028", "\u0085", "👩🏽‍💻", "🇺🇦", "𝟚", "٢", "２", "Ⅱ", "\r\n", "\x1b[2J",
    "<b>bold</b>", "&amp;", "{command}", "{0}", "%s", "'; DROP TABLE users; --",
    "עברית \u200fמימין לשמאל", "العربية", "developing\u200f", "ＤＥＶＥＬＯＰＩＮＧ", "2\x00",
    "99", "0", "-1", "1.5", "skip", "Skip", "yes", "no", "next", "later",
    "\udcff\udcfe", "half an emoji \ud83d", "\udc802",
)
LEVEL_WORDS = ("1", "2", "3", "4", " 2 ", "3.", "4)", "developing", "  Established. ",
               "DEVELOPING!")
KNOWN_STRANDS = ("outcomes", "alignment", "delivery", "accountability", "ACCOUNT", "del", "a",
                 "Outcomes ")
MEDIA = ("sticker", "photo", "voice", "video", "video_note", "document", "location", "contact",
         "poll", "animation", "dice", "audio")
OPTION_WORDS = ("1", "2", "3", "4", "0", "5", "skip", "yes", "no", "agree", "decline",
                "frontline", "manager", "coordinator", "other", "next", "later", "outcomes",
                "delivery", "../x", "x" * 70)


def _long(seed: str, size: int) -> str:
    return (seed * (size // len(seed) + 1))[:size]


# Text from every plane, controls (\x00 included) and lone surrogates: a console fed bytes that
# are not UTF-8 decodes them as surrogates, so the engine must survive them too.
any_text = st.one_of(
    st.text(max_size=30),
    st.text(st.characters(min_codepoint=0x10000), max_size=8),
    st.text(st.characters(categories=["Cc", "Cf", "Zl", "Zp", "Zs", "Cs"]), max_size=8),
    st.sampled_from(SPECIAL_TEXTS),
    st.lists(st.sampled_from(SPECIAL_TEXTS) | st.text(max_size=3), max_size=6).map("".join),
    st.builds(_long, st.text(min_size=1, max_size=4),
              st.sampled_from([5000, 10_000, 10_001, 20_000])),
)

command_text = st.builds(
    lambda slash, name, bot, sep, arg, shout: (
        (f"{slash}{name}{bot}{sep}{arg}").upper() if shout else f"{slash}{name}{bot}{sep}{arg}"),
    st.sampled_from(["/", "/", "/", "//", " /", "\x00/"]),
    st.sampled_from([*ALLOWED_COMMANDS, *PRIVILEGED, "", "unknown", "START", "Strand", "__init__",
                     "cmd_start", "старт", "start_", "1", "_"]),
    st.sampled_from(["", "", "@otherbot", "@", "@ccbot_bot"]),
    st.sampled_from(["", " ", " ", "\n", "  ", "\t", "\x00", "\u200f"]),
    st.sampled_from(["", *KNOWN_STRANDS]) | any_text,
    st.booleans(),
)

forged_choice = st.one_of(
    st.builds("t{}:{}".format, st.integers(0, 60), st.sampled_from(OPTION_WORDS)),
    st.builds("t{}:{}".format, st.integers(-10, 10**12), any_text),
    st.builds(lambda k, tail: "t" + "9" * k + tail,
              st.sampled_from([62, 4300, 4301, 6000]) | st.integers(60, 6000),
              st.sampled_from([":1", ":skip", ":", "1"])),
    st.text(max_size=80),
    st.binary(max_size=100).map(lambda b: b.decode("latin-1")),
    st.text(st.characters(max_codepoint=127), min_size=65, max_size=90),
    st.just(""),
    st.builds("vault:{}".format, any_text),
)

locale_hint = st.one_of(
    st.none(), st.none(), st.sampled_from(["en", "en-GB", "EN_us", "fr-CA", "", "-", "_", "xx"]),
    st.text(max_size=12),
)


@dataclass(frozen=True)
class Action:
    """One thing a fuzzed user does; `kind` says how Fuzzer.event_for turns it into an Event."""

    user: int
    kind: str
    value: str = ""
    index: int = 0
    locale: str | None = None
    with_id: bool = True


users = st.sampled_from([0, 0, 0, 0, 1, 2])
with_id = st.sampled_from([True] * 9 + [False])


NO_VALUE = st.just("")


def _action(kind: str, value: st.SearchStrategy[str] = NO_VALUE) -> st.SearchStrategy[Action]:
    return st.builds(Action, user=users, kind=st.just(kind), value=value,
                     index=st.integers(0, 1000), locale=locale_hint, with_id=with_id)


valid_action = st.one_of(
    _action("tap"),
    st.builds(Action, user=users, kind=st.just("walk"), index=st.integers(12, 40)),
    _action("type", st.sampled_from(LEVEL_WORDS)),
    _action("type", st.sampled_from(["/skip", "/cycle", "/back", "/where", "/profile",
                                     "/reflect", "/progress", "/language", "/strand", "/forget",
                                     "/restart"])),
    _action("type", st.sampled_from(["A short note.", "We met the tenants' group."]) | any_text),
)
hostile_action = st.one_of(
    _action("type", any_text),
    _action("type", command_text),
    _action("choice", forged_choice),
    _action("stale"),
    _action("unsupported", st.sampled_from(MEDIA) | st.text(min_size=1, max_size=10)),
    _action("replay"),
    _action("replay_other", any_text),
)
# Valid actions come first and twice, so sequences get deep into the cycle and shrink to them.
action = st.one_of(valid_action, valid_action, hostile_action)
action_lists = st.lists(action, min_size=3, max_size=60)


# ---------------------------------------------------------------------------------- wiring
def opener(role: str) -> Callable[[Vault, TurnApi, str], None]:
    """A command handler that opens the `role` area."""
    def open_(vault: Vault, turn: TurnApi, arg: str) -> None:
        vault.open_(turn, role)
    return open_


class Vault(Feature):
    """A stand-in privileged feature: its commands need a role; it notes who got through."""

    prefix = "vault"

    def __init__(self) -> None:
        self.opened: list[tuple[UserKey, str]] = []

    def open_(self, turn: TurnApi, role: str) -> None:
        self.opened.append((turn.user.key, role))
        turn.say(f"The {role} area.")

    COMMANDS = tuple(Command(name, opener(role), requires=role)
                     for name, role in PRIVILEGED.items())


class Book:
    """ben is a manager; nobody else holds a role."""

    def roles(self, key: UserKey) -> frozenset[str]:
        return frozenset({"manager"}) if key == USERS[1] else frozenset()


@cache
def shipped_content() -> Content:
    """The shipped content, loaded once; not a fixture so hypothesis does not print it."""
    return load_content(PROJECT / "content", PROJECT / "dialogues", REQUIRED_MESSAGES)


def clock() -> Callable[[], float]:
    ticks = count(1_000)
    return lambda: float(next(ticks))


def fuzz_engine(store: Store | None = None) -> Engine:
    """An engine as the CLI wires it, plus charts, a privileged feature and one manager."""
    return Engine(shipped_content(), store or MemoryStore(), clock=clock(), features=(Vault(),),
                  roles=Book(), charts=MemoryCharts())


# ---------------------------------------------------------------------------------- the fuzzer
Snapshot = dict[UserKey, tuple[UserRecord | None, list[Answer]]]


def normalised(record: UserRecord | None) -> UserRecord | None:
    """The record with positions in a fixed order (stores may return them in any order)."""
    if record is None:
        return None
    return replace(record, positions=tuple(sorted(record.positions, key=lambda p: p.dialogue)))


def is_level_question(buttons: list[str]) -> bool:
    """True for the buttons of a question: levels 1-4, then Skip."""
    return [b.split(":", 1)[-1] for b in buttons] == ["1", "2", "3", "4", "skip"]


class Fuzzer:
    """Turns actions into events against the latest replies, and checks every response."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.store: Store = engine.store
        self.ids = count(1)
        self.latest: dict[UserKey, Response] = {}
        self.shown: list[str] = []
        self.sent: list[Event] = []
        self.used: set[tuple[str, int]] = set()
        self.responses: list[Response] = []
        self.meanings: dict[tuple[UserKey, str, str], tuple[str, str]] = {}

    def run(self, actions: list[Action]) -> None:
        for act in actions:
            if act.kind == "walk":
                # A run of valid taps, so a short example still gets deep into the cycle.
                for step in range(act.index):
                    self.send(self.event_for(replace(act, kind="onward", index=act.index + step)))
            else:
                self.send(self.event_for(act))

    def event_for(self, act: Action) -> Event:
        user = USERS[act.user]
        update_id = next(self.ids) if act.with_id else None
        if act.kind in ("replay", "replay_other") and self.sent:
            earlier = self.sent[act.index % len(self.sent)]
            if act.kind == "replay":
                return earlier
            return replace(earlier, text=act.value, choice=None, unsupported=None)
        if act.kind in ("tap", "onward"):
            choices = self.buttons(user)
            if not choices:
                return Event(user, text="/cycle", update_id=update_id, locale=act.locale)
            index = act.index
            if act.kind == "onward" and not choices[-1].endswith(":skip"):
                index = 0  # onward: agree, first role, yes, summary's next cycle; any level
            return Event(user, choice=choices[index % len(choices)], update_id=update_id,
                         locale=act.locale)
        if act.kind == "stale" and self.shown:
            # Odd index: any button ever shown (maybe another user's); even: one of this user's.
            own = [data for (who, data, _) in self.meanings if who == user]
            pool = own if own and act.index % 2 == 0 else self.shown
            return Event(user, choice=pool[act.index // 2 % len(pool)], update_id=update_id,
                         locale=act.locale)
        if act.kind == "choice":
            return Event(user, choice=act.value, update_id=update_id, locale=act.locale)
        if act.kind == "unsupported":
            return Event(user, unsupported=act.value, update_id=update_id, locale=act.locale)
        return Event(user, text=act.value, update_id=update_id, locale=act.locale)

    def buttons(self, user: UserKey) -> list[str]:
        """The choice ids of the latest question shown to `user`."""
        response = self.latest.get(user)
        for reply in reversed(response.replies if response else ()):
            if reply.choices:
                return [c.id for c in reply.choices]
        return []

    def snapshot(self) -> Snapshot:
        return {u: (normalised(self.store.load_user(u)), self.store.answers(u)) for u in USERS}

    def send(self, ev: Event) -> Response:
        before = self.snapshot()
        replayed = ev.update_id is not None and (ev.user.channel, ev.update_id) in self.used
        shown = self.buttons(ev.user)
        response = self.engine.handle(ev)  # an exception here fails the example
        after = self.snapshot()
        self.responses.append(response)
        if replayed:
            assert response.duplicate, f"replayed {ev!r} was handled again"
            assert response.replies == ()
            assert after == before, f"replayed {ev!r} changed stored state"
        else:
            assert not response.duplicate, f"fresh {ev!r} was taken for a replay"
            assert response.replies, f"{ev!r} got no reply: a dead end"
            # A button just shown works when tapped; a level typed at a question is understood.
            assert not (ev.choice in shown and response.stale_choice), (
                f"{ev.choice!r} from the latest question was called stale")
            if ev.choice is None and ev.text in LEVEL_WORDS and is_level_question(shown):
                not_understood = self.engine.content.text("hint.not_understood", "en")
                assert not_understood not in [r.text for r in response.replies]
            for other in USERS:
                if other != ev.user:
                    assert after[other] == before[other], f"{ev!r} changed {other}'s data"
            record = after[ev.user][0]
            if record is not None:
                self.check_buttons_mean_one_thing(ev.user, record.locale, response)
            if ev.update_id is not None:
                self.used.add((ev.user.channel, ev.update_id))
            self.sent.append(ev)
            self.latest[ev.user] = response
        self.check_replies(response)
        for user in USERS:
            self.check_stored(user, *after[user])
        self.check_privileges()
        return response

    def check_buttons_mean_one_thing(self, user: UserKey, locale: str,
                                     response: Response) -> None:
        """A button id, once shown to a user, never stands for a different question later:
        otherwise an old button still in the chat would answer whatever is asked now.
        Context buttons ('ctx:levels:<question>', ...) name what they explain instead, so
        their meaning is that and their label, wherever they appear."""
        for reply in response.replies:
            for choice in reply.choices:
                context = choice.id.startswith("ctx:")
                meaning = ("" if context else reply.text, choice.label)
                first = self.meanings.setdefault((user, choice.id, locale), meaning)
                assert first == meaning, (
                    f"{choice.id!r} was {first!r} for {user}, and is now {meaning!r}")

    def check_privileges(self) -> None:
        for feature in self.engine.features:
            if isinstance(feature, Vault):
                for key, role in feature.opened:
                    assert self.engine.roles.has(key, role), f"{key} reached the {role} area"

    def check_replies(self, response: Response) -> None:
        for reply in response.replies:
            assert reply.text.strip(), f"empty reply in {response!r}"
            # Channels split longer texts, but each reply is meant to be one phone message.
            assert len(reply.text) < TELEGRAM_TEXT_LIMIT, f"{len(reply.text)}-character reply"
            for choice in reply.choices:
                assert choice.id.isascii()
                assert len(choice.id.encode("ascii")) <= MAX_CHOICE_ID_BYTES
                assert choice.label.strip()
                self.shown.append(choice.id)
            for attachment in (reply.image, reply.document):
                if attachment is not None:
                    assert attachment.data
                    assert len(attachment.caption) < TELEGRAM_CAPTION_LIMIT
            if reply.document is not None:
                assert isinstance(json.loads(reply.document.data), dict)

    def check_stored(self, user: UserKey, record: UserRecord | None,
                     answers: list[Answer]) -> None:
        engine, content = self.engine, self.engine.content
        if record is None or not record.consent:
            assert answers == [], f"answers stored for {user} without consent"
        if record is None:
            return
        if not record.consent:
            assert record.persona is None
            assert [p.dialogue for p in record.positions] == ["onboarding"]
        assert record.key == user
        assert record.locale in content.locales
        assert record.active is None or record.active in engine.machines
        assert record.active is None or record.position(record.active) is not None
        assert record.awaiting in CORE_AWAITING or engine.feature_for(record.awaiting), (
            f"awaiting {record.awaiting!r}")
        dialogues = [p.dialogue for p in record.positions]
        assert len(dialogues) == len(set(dialogues))
        for pos in record.positions:
            assert pos.dialogue in engine.machines, f"unknown dialogue {pos.dialogue!r}"
            assert engine.machines[pos.dialogue].has_state(pos.state), (
                f"{user} is in {pos.dialogue}:{pos.state!r}, which does not exist")
            assert pos.cycle >= 1
            if pos.pending_level is not None:
                # A note is open only for an answer given in a dialogue that offers notes.
                assert any(s.note for s in engine.machines[pos.dialogue].dialogue.ask_steps)
                assert any(a.level == pos.pending_level and a.dialogue == pos.dialogue
                           for a in answers)
            if pos.pass_start is not None:
                assert engine.machines[pos.dialogue].has_state(pos.pass_start)
        for answer in answers:
            assert answer.user == user and answer.dialogue in engine.machines
            question = content.questions[answer.question]
            if answer.level is not None:
                assert content.scales[question.scale].level(answer.level) is not None
            assert answer.note is None or len(answer.note) <= MAX_NOTE_CHARS
        if record.consent and currently_in_test_context():
            # Record how deep examples get: shown by pytest --hypothesis-show-statistics.
            cycle = record.position("cycle")
            if cycle is not None and cycle.cycle > 1:
                event("reached a second cycle")
            elif cycle is not None and cycle.state == "summary":
                event("reached the summary")


# ---------------------------------------------------------------------------------- tests
@pytest.mark.slow  # 800 random conversations: a soak of the engine (the others stay quick)
@settings(FUZZ, max_examples=examples(800))
@given(actions=action_lists)
def test_random_event_sequences_keep_every_invariant(actions: list[Action]) -> None:
    Fuzzer(fuzz_engine()).run(actions)


@settings(FUZZ, max_examples=examples(300))
@given(texts=st.lists(st.one_of(any_text, command_text), min_size=1, max_size=30))
def test_any_text_at_a_note_or_question_gets_an_answer(texts: list[str]) -> None:
    fuzzer = Fuzzer(fuzz_engine())
    user = USERS[0]
    fuzzer.send(Event(user, text="/start", update_id=next(fuzzer.ids)))
    for _ in range(2):  # agree, then a role
        fuzzer.send(Event(user, choice=fuzzer.buttons(user)[0], update_id=next(fuzzer.ids)))
    for text in texts:
        # Alternate an answer and a text, so text lands both as a note and on a question.
        fuzzer.send(Event(user, text="2", update_id=next(fuzzer.ids)))
        fuzzer.send(Event(user, text=text, update_id=next(fuzzer.ids)))
    # Whatever was kept must come back out as a JSON file (check_replies parses it).
    fuzzer.send(Event(user, text="/mydata", update_id=next(fuzzer.ids)))


@settings(FUZZ, max_examples=examples(300))
@given(choices=st.lists(forged_choice, min_size=1, max_size=10), before=action_lists)
def test_forged_buttons_never_change_anything(choices: list[str], before: list[Action]) -> None:
    fuzzer = Fuzzer(fuzz_engine())
    fuzzer.run(before)
    user = USERS[0]
    for data in choices:
        if data in fuzzer.buttons(user):
            continue  # a genuine button of the current question, not a forgery
        snapshot = fuzzer.snapshot()
        response = fuzzer.send(Event(user, choice=data, update_id=next(fuzzer.ids)))
        record, answers = fuzzer.snapshot()[user]
        old_record, old_answers = snapshot[user]
        assert answers == old_answers
        if old_record is not None:  # (a first contact is welcomed whatever it carries)
            assert response.stale_choice and record is not None
            assert (record.positions, record.awaiting, record.consent, record.turn) == (
                old_record.positions, old_record.awaiting, old_record.consent, old_record.turn)


@settings(FUZZ, max_examples=examples(60))
@given(actions=action_lists)
def test_sqlite_store_behaves_like_the_memory_twin_under_fuzz(actions: list[Action]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = SQLiteStore(Path(folder) / "fuzz.db")
        try:
            on_disk = Fuzzer(fuzz_engine(store))
            in_memory = Fuzzer(fuzz_engine())
            on_disk.run(actions)
            in_memory.run(actions)
            # Same words and buttons (the /mydata file differs in layout by design).
            assert [[(r.text, r.choices) for r in x.replies] for x in on_disk.responses] == [
                [(r.text, r.choices) for r in x.replies] for x in in_memory.responses]
            assert on_disk.snapshot() == in_memory.snapshot()
        finally:
            store.close()


def test_valid_taps_alone_walk_into_the_next_cycle() -> None:
    # The interpreter itself must be able to get deep; otherwise the fuzzer only tests onboarding.
    fuzzer = Fuzzer(fuzz_engine())
    # The first tap has no button yet (it says /cycle); then agree, a role, 12 levels (one tap
    # per step), and the summary's "next cycle".
    fuzzer.run([Action(0, "tap")] * 16)
    record = fuzzer.store.load_user(USERS[0])
    pos = record.position("cycle") if record else None
    assert pos is not None and pos.cycle == 2
    assert len(fuzzer.store.answers(USERS[0])) == 12


def test_no_command_exists_outside_the_reviewed_list(content: Content) -> None:
    # Core commands are open to every consented user; only a feature's Command(requires=...)
    # is role-checked. So a privileged core command must not slip in: adding one fails here.
    assert [c.name for c in PERSONAL_COMMANDS if c.requires is not None] == []
    commands = sorted(c.name for c in PERSONAL_COMMANDS)
    assert commands == sorted(ALLOWED_COMMANDS)
    response = Engine(content, MemoryStore()).handle(Event(USERS[0], text="/help"))
    documented = "\n".join(r.text for r in response.replies)
    assert [c for c in ALLOWED_COMMANDS if c != "start" and f"/{c}" not in documented] == []


def test_privileged_commands_are_refused_without_the_role() -> None:
    fuzzer = Fuzzer(fuzz_engine())
    fuzzer.run([Action(u, "tap") for u in (0, 1) for _ in range(2)])  # first contact, agree
    for user in (0, 1):
        for name in PRIVILEGED:
            fuzzer.send(Event(USERS[user], text=f"/{name}", update_id=next(fuzzer.ids)))
    (vault,) = [f for f in fuzzer.engine.features if isinstance(f, Vault)]
    assert isinstance(vault, Vault) and vault.opened == [(USERS[1], "manager")]
