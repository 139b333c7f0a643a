"""A user's own reports: /profile and /progress with charts, and /reflect's history."""

from __future__ import annotations

import pytest
from test_engine import Chat, onboard

from bot.definitions.model import Content
from bot.engine.engine import Engine
from bot.engine.memory.charts import MemoryCharts
from bot.engine.memory.store import MemoryStore

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def charts() -> MemoryCharts:
    return MemoryCharts()


@pytest.fixture
def engine(content: Content, charts: MemoryCharts) -> Engine:
    return Engine(content, MemoryStore(), clock=iter(range(1000, 100000)).__next__,
                  charts=charts)


def answer_cycle(chat: Chat, levels: list[int]) -> None:
    for level in levels:
        chat.send(str(level))


def test_profile_with_no_answers_says_so_without_a_chart(engine: Engine,
                                                          charts: MemoryCharts) -> None:
    chat = Chat(engine)
    onboard(chat)
    chat.send("/profile")
    assert "You have no answers yet" in chat.text() and charts.calls == []


def test_profile_sends_a_radar_with_the_previous_cycle_and_a_caption(
        engine: Engine, charts: MemoryCharts) -> None:
    chat = Chat(engine)
    onboard(chat)
    answer_cycle(chat, [1] * 12)
    chat.tap("Next cycle from Outcomes")
    answer_cycle(chat, [3, 2])
    chat.send("/profile")
    image = chat.last.replies[-1].image
    assert image is not None and image.data.startswith(PNG) and image.mime == "image/png"
    assert charts.calls == [("profile", "Your collaborative capacity profile")]
    assert "Insight 3 (was 1)" in image.caption and "Brokering relationships 2 (was 1)" in (
        image.caption)
    assert len(image.caption) < 1024


def test_chart_failure_still_sends_the_text_summary(content: Content) -> None:
    engine = Engine(content, MemoryStore(), charts=MemoryCharts(fail=True))
    chat = Chat(engine)
    onboard(chat)
    answer_cycle(chat, [2])
    chat.send("/profile")
    assert "Your latest answers:" in chat.text()
    assert all(r.image is None for r in chat.last.replies)


def test_progress_lists_cycles_and_reflections_in_order(engine: Engine,
                                                        charts: MemoryCharts) -> None:
    chat = Chat(engine)
    onboard(chat)
    answer_cycle(chat, [2] * 12)
    chat.tap("Later")
    chat.send("/reflect")
    for level in (4, 4, 4, 4):
        chat.send(str(level))
    chat.tap("Done for now")
    chat.send("/progress")
    text = chat.text()
    assert text.index("Cycle 1: Outcomes 2.0") < text.index("Reflection 1: Outcomes 4.0")
    assert charts.calls[-1][0] == "progress"


def test_progress_with_nothing_answered(engine: Engine) -> None:
    chat = Chat(engine)
    onboard(chat)
    chat.send("/progress")
    assert "nothing to show yet" in chat.text()


def test_reflections_are_kept_as_their_own_history(engine: Engine) -> None:
    chat = Chat(engine)
    onboard(chat)
    chat.send("/reflect")
    for level in (1, 2, 3, 4):
        chat.send(str(level))
    chat.tap("Done for now")
    chat.send("/reflect")
    assert "question 1 of 4" in chat.text()
    answers = engine.store.answers(chat.user, "reflect")
    assert [(a.question, a.level, a.cycle) for a in answers] == [
        ("quick.outcomes", 1, 1), ("quick.alignment", 2, 1), ("quick.delivery", 3, 1),
        ("quick.accountability", 4, 1)]
    assert engine.store.answers(chat.user, "cycle") == []
    record = engine.store.load_user(chat.user)
    pos = record.position("reflect") if record else None
    assert pos is not None and pos.cycle == 2


def test_reflect_mid_cycle_keeps_the_cycle_place(engine: Engine) -> None:
    chat = Chat(engine)
    onboard(chat)
    answer_cycle(chat, [2, 2])
    chat.send("/reflect")
    for level in (1, 1, 1, 1):
        chat.send(str(level))
    chat.tap("Done for now")
    chat.send("/cycle")
    assert "step 3 of 12" in chat.text()


def test_progress_shows_the_latest_twelve_points(engine: Engine) -> None:
    chat = Chat(engine)
    onboard(chat)
    for _ in range(14):
        chat.send("/reflect")
        for level in (2, 2, 2, 2):
            chat.send(str(level))
        chat.tap("Done for now")
    chat.send("/progress")
    text = chat.text()
    assert "Reflection 14:" in text and "Reflection 3:" in text
    assert "Reflection 2:" not in text
