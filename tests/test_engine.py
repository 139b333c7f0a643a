"""Engine behaviour: answers, notes, buttons, replays, privacy and the cycle's loop."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from itertools import count

import pytest

from bot.definitions.model import Content
from bot.engine.core.events import Event, Response, UserKey
from bot.engine.core.records import MAX_NOTE_CHARS, Commit, Position
from bot.engine.engine import Engine
from bot.engine.memory.store import MemoryStore

USER = UserKey("test", "u1")


class Chat:
    """A user talking to an engine, with update ids like Telegram's."""

    def __init__(self, engine: Engine, user: UserKey = USER) -> None:
        self.engine = engine
        self.user = user
        self.ids: Iterator[int] = count(1)
        self.last: Response = Response()

    def send(self, text: str, **kwargs: object) -> Response:
        self.last = self.engine.handle(Event(self.user, text=text, update_id=next(self.ids),
                                             **kwargs))  # type: ignore[arg-type]
        return self.last

    def tap(self, label: str) -> Response:
        choice = self.button(label)
        self.last = self.engine.handle(Event(self.user, choice=choice, update_id=next(self.ids)))
        return self.last

    def button(self, label: str) -> str:
        for reply in reversed(self.last.replies):
            for choice in reply.choices:
                if choice.label == label:
                    return choice.id
        raise AssertionError(f"no button {label!r} in {self.text()}")

    def text(self) -> str:
        return "\n".join(r.text for r in self.last.replies)

    def state(self) -> str | None:
        record = self.engine.store.load_user(self.user)
        pos = record.position("cycle") if record else None
        return pos.state if pos else None


@pytest.fixture
def engine(content: Content) -> Engine:
    return Engine(content, MemoryStore(), clock=iter(range(1000, 100000)).__next__)


def onboard(chat: Chat) -> None:
    chat.send("/start")
    chat.tap("Yes, I agree")
    chat.tap("Frontline staff")


@pytest.mark.parametrize("typed", ["2", " 2 ", "2.", "developing", "  DEVELOPING ",
                                   "Developing.", "developing!"])
def test_typed_answers_are_understood(engine: Engine, typed: str) -> None:
    chat = Chat(engine)
    onboard(chat)
    chat.send(typed)
    assert chat.state() == "outcomes.relationships"
    assert "Keep what people tell you" in chat.text() and "step 2 of 12" in chat.text()


def test_nonsense_gets_a_hint_and_the_question_again(engine: Engine) -> None:
    chat = Chat(engine)
    onboard(chat)
    chat.send("maybe?")
    assert "Please tap a button" in chat.text() and "step 1 of 12" in chat.text()
    assert chat.state() == "outcomes.insight"


def test_nothing_is_stored_before_consent_beyond_the_question(engine: Engine) -> None:
    chat = Chat(engine)
    chat.send("/start")
    chat.send("hmm")
    record = engine.store.load_user(USER)
    assert record is not None and not record.consent and record.persona is None
    assert engine.store.answers(USER) == []
    assert [p.dialogue for p in record.positions] == ["onboarding"]


def test_declining_consent_keeps_nothing(engine: Engine) -> None:
    chat = Chat(engine)
    chat.send("/start")
    chat.tap("No thanks")
    assert "nothing about you has been kept" in chat.text()
    assert engine.store.load_user(USER) is None


def test_first_contact_in_users_language(engine: Engine) -> None:
    chat = Chat(engine)
    chat.send("/start", locale="xx-YY")
    record = engine.store.load_user(USER)
    assert record is not None and record.locale == "en"


def test_one_tap_answers_and_shows_the_prompt_with_the_next_question(engine: Engine) -> None:
    chat = Chat(engine)
    onboard(chat)
    chat.tap("Established")
    assert chat.last.chosen == "Established"
    prompt, question = chat.last.replies
    assert "Type a note if you like" in prompt.text
    assert [c.label for c in prompt.choices] == ["About this evidence"]
    assert "step 2 of 12" in question.text
    assert [(a.question, a.level, a.note) for a in engine.store.answers(USER)] == [
        ("outcomes.insight", 3, None)]


def test_a_typed_note_is_stored_once_with_the_answer_just_given(engine: Engine) -> None:
    chat = Chat(engine)
    onboard(chat)
    chat.tap("Established")
    chat.send("We met the tenants' group on Tuesday.")
    answers = engine.store.answers(USER)
    assert [(a.question, a.level, a.note, a.cycle) for a in answers] == [
        ("outcomes.insight", 3, "We met the tenants' group on Tuesday.", 1)]
    assert chat.state() == "outcomes.relationships"


def test_long_note_is_kept_up_to_the_limit_and_the_user_is_told(engine: Engine) -> None:
    chat = Chat(engine)
    onboard(chat)
    chat.send("1")
    chat.send("n" * 10_000)
    assert f"kept the first {MAX_NOTE_CHARS} characters" in chat.text()
    (saved,) = engine.store.answers(USER)
    assert saved.note == "n" * MAX_NOTE_CHARS


def test_huge_message_as_an_answer_is_refused_politely(engine: Engine) -> None:
    chat = Chat(engine)
    onboard(chat)
    chat.send("2" * 20_000)
    assert "too long" in chat.text() and chat.state() == "outcomes.insight"


def test_stale_button_says_moved_on_and_changes_nothing(engine: Engine) -> None:
    chat = Chat(engine)
    onboard(chat)
    old = chat.button("Developing")
    chat.tap("Established")
    before = engine.store.load_user(USER)
    response = engine.handle(Event(USER, choice=old, update_id=999))
    assert response.stale_choice and "This question has moved on" in response.replies[0].text
    after = engine.store.load_user(USER)
    assert before is not None and after is not None
    assert before.positions == after.positions and before.turn == after.turn


@pytest.mark.parametrize("forged", ["t1:9", "t999:2", "garbage", "", "t2:../../x",
                                    "t2:" + "9" * 80, "tΩ:1"])
def test_forged_button_is_answered_without_a_state_change(engine: Engine, forged: str) -> None:
    chat = Chat(engine)
    onboard(chat)
    before = engine.store.load_user(USER)
    response = engine.handle(Event(USER, choice=forged, update_id=500))
    assert response.stale_choice
    after = engine.store.load_user(USER)
    assert before is not None and after is not None and before.positions == after.positions
    assert engine.store.answers(USER) == []


def test_replayed_update_changes_and_says_nothing(engine: Engine) -> None:
    chat = Chat(engine)
    onboard(chat)
    first = engine.handle(Event(USER, text="3", update_id=77))
    assert first.replies
    again = engine.handle(Event(USER, text="1", update_id=77))
    assert again.duplicate and again.replies == ()
    record = engine.store.load_user(USER)
    assert record is not None and record.position("cycle").state == "outcomes.relationships"  # type: ignore[union-attr]


def test_unsupported_media_gets_a_hint(engine: Engine) -> None:
    chat = Chat(engine)
    onboard(chat)
    response = engine.handle(Event(USER, unsupported="sticker", update_id=300))
    assert "I can read text and buttons only." in response.replies[0].text
    assert "step 1 of 12" in response.replies[-1].text


def test_commands_before_consent_point_back_to_the_question(engine: Engine) -> None:
    chat = Chat(engine)
    chat.send("/start")
    chat.send("/profile")
    assert "First, please answer this question" in chat.text()


def test_mydata_sends_every_stored_row_as_json(engine: Engine) -> None:
    chat = Chat(engine)
    onboard(chat)
    chat.send("2")
    chat.send("a private thought")
    chat.send("/mydata")
    document = chat.last.replies[0].document
    assert document is not None and document.mime == "application/json"
    data = json.loads(document.data)
    assert data["answers"][-1]["note"] == "a private thought"
    assert data["users"][0]["persona"] == "frontline"


def test_forget_asks_first_then_deletes_everything(engine: Engine) -> None:
    chat = Chat(engine)
    onboard(chat)
    chat.send("2")
    chat.send("/forget")
    assert "cannot be undone" in chat.text()
    chat.tap("Yes")
    assert "everything about you has been deleted" in chat.text()
    assert engine.store.load_user(USER) is None and engine.store.answers(USER) == []
    chat.send("hello")
    assert "Is that OK with you?" in chat.text()


def test_forget_can_be_cancelled(engine: Engine) -> None:
    chat = Chat(engine)
    onboard(chat)
    chat.send("/forget")
    chat.tap("No")
    assert engine.store.load_user(USER) is not None


def test_moving_on_closes_the_note_and_keeps_the_answer(engine: Engine) -> None:
    chat = Chat(engine)
    onboard(chat)
    chat.send("4")
    chat.send("/strand delivery")
    assert [(a.question, a.level, a.note) for a in engine.store.answers(USER)] == [
        ("outcomes.insight", 4, None)]
    assert chat.state() == "delivery.innovation"
    chat.send("a late thought")
    assert "Please tap a button" in chat.text() and len(engine.store.answers(USER)) == 1


def test_back_after_an_answer_returns_to_its_question(engine: Engine) -> None:
    chat = Chat(engine)
    onboard(chat)
    chat.send("4")
    chat.send("/back")
    assert chat.state() == "outcomes.insight" and len(engine.store.answers(USER)) == 1
    chat.send("1")
    assert [a.level for a in engine.store.answers(USER)] == [4, 1]


def test_back_at_the_first_step_of_a_pass_stays(engine: Engine) -> None:
    chat = Chat(engine)
    onboard(chat)
    chat.send("/back")
    assert "first question of this cycle" in chat.text()
    assert chat.state() == "outcomes.insight"


def test_strand_names_match_loosely(engine: Engine) -> None:
    chat = Chat(engine)
    onboard(chat)
    chat.send("/strand  ACCOUNT")
    assert chat.state() == "accountability.evidence"


def test_restart_after_answers_starts_a_new_cycle_number(engine: Engine) -> None:
    chat = Chat(engine)
    onboard(chat)
    chat.send("2")
    chat.send("/skip")
    chat.send("/restart")
    chat.tap("Yes")
    record = engine.store.load_user(USER)
    pos = record.position("cycle") if record else None
    assert pos is not None and pos.cycle == 2 and pos.state == "outcomes.insight"


def test_a_full_pass_started_mid_ring_ends_after_twelve_steps(engine: Engine) -> None:
    chat = Chat(engine)
    onboard(chat)
    chat.send("/strand delivery")
    for step in range(12):
        assert f"step {step + 1} of 12" in chat.text()
        chat.send("3" if step % 2 else "2")
    assert "Cycle 1 done" in chat.text()
    chat.tap("Next cycle from Outcomes")
    record = engine.store.load_user(USER)
    pos = record.position("cycle") if record else None
    assert pos is not None and pos.cycle == 2 and pos.pass_start == "outcomes.insight"
    assert "Cycle 2 · Outcomes · 1 of 3 · step 1 of 12" in chat.text()


def test_all_skipped_cycle_summary_says_so(engine: Engine) -> None:
    chat = Chat(engine)
    onboard(chat)
    for _ in range(12):
        chat.send("/skip")
    assert "every question was skipped" in chat.text()


def test_every_question_fits_a_phone_and_has_a_progress_marker(engine: Engine) -> None:
    chat = Chat(engine)
    onboard(chat)
    for _ in range(12):
        question = chat.last.replies[-1]
        assert len(question.text) <= 300 and "step" in question.text
        assert all(len(c.id.encode()) <= 64 for c in question.choices)
        chat.send("/skip")


def test_typing_skip_after_an_answer_skips_the_next_question(engine: Engine) -> None:
    chat = Chat(engine)
    onboard(chat)
    chat.send("2")
    chat.send(" Skip ")
    assert [a.note for a in engine.store.answers(USER)] == [None]
    assert chat.state() == "outcomes.design"


def test_context_buttons_answer_without_moving_the_user(engine: Engine) -> None:
    chat = Chat(engine)
    onboard(chat)
    old_levels = chat.button("What do the levels mean?")
    chat.send("2")
    before = engine.store.load_user(USER)
    why = chat.button("Why this matters")
    chat.tap("About this evidence")
    assert "A shared design process" in chat.text() and not chat.last.stale_choice
    response = engine.handle(Event(USER, choice=why, update_id=899))
    assert "Why Brokering relationships matters" in response.replies[0].text
    # A context button on an earlier question still explains that question.
    response = engine.handle(Event(USER, choice=old_levels, update_id=900))
    assert "Insight: what the levels mean" in response.replies[0].text
    after = engine.store.load_user(USER)
    assert before is not None and after is not None
    assert (before.positions, before.turn) == (after.positions, after.turn)


@pytest.mark.parametrize("forged", ["ctx:levels:nowhere", "ctx:ev:made-up-2020", "ctx:",
                                    "ctx:why:", "ctx:zzz:outcomes.insight"])
def test_forged_context_button_gets_a_clear_answer(engine: Engine, forged: str) -> None:
    chat = Chat(engine)
    onboard(chat)
    before = engine.store.load_user(USER)
    response = engine.handle(Event(USER, choice=forged, update_id=901))
    assert response.stale_choice and "no longer leads anywhere" in response.replies[0].text
    assert "step 1 of 12" in response.replies[-1].text
    after = engine.store.load_user(USER)
    assert before is not None and after is not None and before.positions == after.positions


def test_a_stored_note_state_from_before_one_tap_keeps_its_answer(content: Content) -> None:
    store = MemoryStore()
    engine = Engine(content, store, clock=iter(range(1000, 100000)).__next__)
    chat = Chat(engine)
    onboard(chat)
    record = store.load_user(USER)
    assert record is not None
    old = Position("cycle", "outcomes.insight#note", 1, "outcomes.insight", pending_level=3)
    store.commit(Commit(USER, None, replace(record.with_position(old), active="cycle")))
    chat.send("/where")
    assert [(a.question, a.level) for a in store.answers(USER)] == [("outcomes.insight", 3)]
    assert chat.state() == "outcomes.relationships"
