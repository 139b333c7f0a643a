"""Content reload: new text reaches users at once; removed steps move users to the nearest one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from test_engine import Chat, onboard

from bot.definitions.checked import load_content
from bot.definitions.model import Content
from bot.engine.engine import Engine
from bot.engine.memory.store import MemoryStore
from bot.engine.messages import REQUIRED_MESSAGES

PROJECT = Path(__file__).resolve().parent.parent


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copytree(PROJECT / "content", tmp_path / "content")
    shutil.copytree(PROJECT / "dialogues", tmp_path / "dialogues")
    return tmp_path


def load(project: Path) -> Content:
    return load_content(project / "content", project / "dialogues", REQUIRED_MESSAGES)


def test_reloaded_text_is_used_from_the_next_turn(project: Path, content: Content) -> None:
    engine = Engine(content, MemoryStore())
    chat = Chat(engine)
    onboard(chat)
    path = project / "content/steps/outcomes.yaml"
    path.write_text(path.read_text("utf-8").replace(
        "How far do you use what service users and communities tell you",
        "How well do you use what people tell you"), "utf-8")
    engine.reload(load(project))
    chat.send("/where")
    assert "How well do you use what people tell you" in chat.text()


def test_user_on_a_removed_step_moves_to_the_nearest_and_is_told(project: Path,
                                                                  content: Content) -> None:
    engine = Engine(content, MemoryStore())
    chat = Chat(engine)
    onboard(chat)
    chat.send("/strand delivery")
    chat.send("/skip")
    assert chat.state() == "delivery.agility"
    cycle = project / "dialogues/cycle.yaml"
    text = cycle.read_text("utf-8")
    text = text.replace("  - {id: delivery.agility, ask: delivery.agility, next: "
                        "delivery.leadership}\n", "")
    text = text.replace("next: delivery.agility}", "next: delivery.leadership}")
    cycle.write_text(text, "utf-8")
    engine.reload(load(project))
    chat.send("3")
    assert "The questions have been updated" in chat.text()
    # Moved to the strand's entry, and the "3" answered it (one tap: on to the next step).
    assert chat.state() == "delivery.leadership"


def test_an_answer_survives_when_its_step_stops_offering_a_note(project: Path,
                                                                content: Content) -> None:
    engine = Engine(content, MemoryStore())
    chat = Chat(engine)
    onboard(chat)
    chat.send("2")
    assert chat.state() == "outcomes.relationships"
    cycle = project / "dialogues/cycle.yaml"
    cycle.write_text(cycle.read_text("utf-8").replace(
        "{id: outcomes.insight, ask: outcomes.insight,",
        "{id: outcomes.insight, ask: outcomes.insight, note: false,"), "utf-8")
    engine.reload(load(project))
    chat.send("/where")
    assert [(a.question, a.level) for a in engine.store.answers(chat.user)] == [
        ("outcomes.insight", 2)]
    assert chat.state() == "outcomes.relationships"


def test_reload_refuses_content_without_the_core_dialogues(project: Path,
                                                           content: Content) -> None:
    engine = Engine(content, MemoryStore())
    (project / "dialogues/onboarding.yaml").unlink()
    with pytest.raises(ValueError, match="dialogues missing: onboarding"):
        engine.reload(load_content(project / "content", project / "dialogues"))
    assert engine.content is content


def test_reloader_keeps_old_content_when_the_new_has_problems(
        project: Path, content: Content, caplog: pytest.LogCaptureFixture) -> None:
    from bot.content_reload import reloader_for

    engine = Engine(load(project), MemoryStore())
    before = engine.content
    reloader = reloader_for(engine, project / "content", project / "dialogues",
                            REQUIRED_MESSAGES)
    assert reloader.reload_if_changed() is None
    path = project / "dialogues/cycle.yaml"
    path.write_text(path.read_text("utf-8").replace("ask: delivery.agility,",
                                                    "ask: delivery.agilty,"), "utf-8")
    problems = reloader.reload_if_changed()
    assert problems and "unknown question 'delivery.agilty'" in problems[0].message
    assert engine.content is before
    assert "content reload refused" in caplog.text
    assert "dialogues/cycle.yaml" in caplog.text


def test_reloader_swaps_in_valid_changes_once(project: Path) -> None:
    from bot.content_reload import reloader_for

    engine = Engine(load(project), MemoryStore())
    reloader = reloader_for(engine, project / "content", project / "dialogues",
                            REQUIRED_MESSAGES)
    path = project / "content/messages.yaml"
    path.write_text(path.read_text("utf-8").replace('en: "Note saved."',
                                                    'en: "Your note is safe."'), "utf-8")
    assert reloader.reload_if_changed() == []
    assert engine.content.text("note.saved", "en") == "Your note is safe."
    assert reloader.reload_if_changed() is None
