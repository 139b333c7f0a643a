"""Updates in, Bot API parts out: the Telegram channel's translation, without a network."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.channels.telegram.commands import MENU, TELEGRAM_MESSAGES, menu
from bot.channels.telegram.translate import (
    CAPTION_LIMIT,
    TEXT_LIMIT,
    address,
    answered,
    html_size,
    keyboard_rows,
    read_update,
    render,
    split_text,
)
from bot.definitions.model import Content
from bot.engine.core.events import Attachment, Choice, Event, Reply, UserKey

BOT = "ccbot_test_bot"
ALICE = {"id": 42, "is_bot": False, "first_name": "Alice", "language_code": "fr-CA"}


def message(text: str | None = None, chat: dict[str, Any] | None = None,
            fields: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"message_id": 7, "date": 1, "from": ALICE,
                            "chat": chat or {"id": 42, "type": "private"}, **(fields or {})}
    if text is not None:
        body["text"] = text
    return {"update_id": 100, "message": body}


GROUP = {"id": -100500, "type": "supergroup", "title": "Team"}


def test_text_becomes_an_event_with_the_user_and_language() -> None:
    incoming = read_update(message("hello"), BOT)
    assert incoming.chat == "42"
    assert incoming.event == Event(UserKey("telegram", "42"), text="hello", update_id=100,
                                   locale="fr-CA")


def test_start_payload_is_passed_through_to_the_engine() -> None:
    event = read_update(message("/start team-7"), BOT).event
    assert event is not None and event.text == "/start team-7"


def test_commands_addressed_to_us_lose_the_mention() -> None:
    event = read_update(message("/start@CCBot_Test_Bot invite-1"), BOT).event
    assert event is not None and event.text == "/start invite-1"


@pytest.mark.parametrize("text", ["hi all", "/help", "/help@other_bot", "2"])
def test_group_messages_not_addressed_to_us_are_ignored(text: str) -> None:
    incoming = read_update(message(text, chat=GROUP), BOT)
    assert incoming.event is None and incoming.chat == "-100500"


def test_group_commands_addressed_to_us_are_answered_in_the_group() -> None:
    incoming = read_update(message("/where@ccbot_test_bot", chat=GROUP), BOT)
    assert incoming.chat == "-100500"
    assert incoming.event is not None and incoming.event.text == "/where"
    assert incoming.event.user == UserKey("telegram", "42")


@pytest.mark.parametrize("kind", ["sticker", "photo", "voice", "location", "document",
                                  "video_note", "contact"])
def test_media_becomes_an_unsupported_event(kind: str) -> None:
    event = read_update(message(fields={kind: {"file_id": "x"}}), BOT).event
    assert event is not None and event.unsupported == kind and event.text == ""


def test_photo_with_a_caption_is_still_media() -> None:
    event = read_update(message(fields={"photo": [{"file_id": "x"}], "caption": "look"}),
                        BOT).event
    assert event is not None and event.unsupported == "photo"


def test_service_messages_bots_and_edits_are_ignored() -> None:
    assert read_update(message(fields={"new_chat_members": [ALICE]}), BOT).event is None
    bot_sender = message("/start")
    bot_sender["message"]["from"] = {"id": 9, "is_bot": True, "first_name": "B"}
    assert read_update(bot_sender, BOT).event is None
    edited = {"update_id": 5, "edited_message": message("4")["message"]}
    assert read_update(edited, BOT).ignored == "edited_message"
    assert read_update({"update_id": 6, "brand_new_kind": {"x": 1}}, BOT).event is None


def callback(data: Any, with_message: bool = True) -> dict[str, Any]:
    query: dict[str, Any] = {"id": "q1", "from": ALICE, "chat_instance": "c", "data": data}
    if with_message:
        query["message"] = {"message_id": 9, "date": 5, "text": "Question?",
                            "chat": {"id": 42, "type": "private"}}
    return {"update_id": 101, "callback_query": query}


def test_button_press_becomes_a_choice_with_the_message_to_edit() -> None:
    incoming = read_update(callback("t3:2"), BOT)
    assert incoming.event is not None and incoming.event.choice == "t3:2"
    assert (incoming.callback_id, incoming.message_id, incoming.message_text) == (
        "q1", 9, "Question?")


@pytest.mark.parametrize("data", ["x" * 65, "t3:2é", 12])
def test_malformed_callback_data_becomes_an_empty_choice(data: Any) -> None:
    event = read_update(callback(data), BOT).event
    assert event is not None and event.choice == ""


def test_callback_on_an_old_inaccessible_message_is_not_edited() -> None:
    update = callback("t3:2")
    update["callback_query"]["message"]["date"] = 0
    incoming = read_update(update, BOT)
    assert incoming.message_id is None and incoming.event is not None


def test_callback_without_data_is_answered_but_not_handled() -> None:
    update = callback("x")
    del update["callback_query"]["data"]
    incoming = read_update(update, BOT)
    assert incoming.event is None and incoming.callback_id == "q1"


def test_address_names_the_chat_and_the_user() -> None:
    assert address(message("x", chat=GROUP)) == ("-100500", "telegram:42")
    assert address(callback("t1:1", with_message=False)) == ("42", "telegram:42")
    assert address({"update_id": 1, "something": {}}) == ("", None)


# ---------------------------------------------------------------------- replies out
def test_text_is_escaped_for_html_parse_mode() -> None:
    [part] = render(Reply("a <b> & c"))
    assert (part.method, part.text) == ("sendMessage", "a &lt;b&gt; &amp; c")


def test_choices_become_one_button_per_row_on_the_last_part() -> None:
    choices = tuple(Choice(f"t1:{i}", f"Level {i}") for i in range(5))
    long_text = "\n\n".join(["word " * 150] * 12)
    parts = render(Reply(long_text, choices))
    assert len(parts) > 1
    assert all(p.keyboard == () for p in parts[:-1])
    assert parts[-1].keyboard == tuple((c,) for c in choices)


def test_long_lists_of_choices_go_two_to_a_row() -> None:
    choices = tuple(Choice(f"t1:{i}", str(i)) for i in range(7))
    assert [len(row) for row in keyboard_rows(choices)] == [2, 2, 2, 1]


def test_callback_data_is_checked_when_the_keyboard_is_built() -> None:
    # Choice checks itself; this guards against one built some other way.
    bad = Choice.__new__(Choice)
    object.__setattr__(bad, "id", "x" * 65)
    object.__setattr__(bad, "label", "Too long")
    with pytest.raises(ValueError, match="64 bytes"):
        keyboard_rows((bad,))


def test_long_text_is_split_at_paragraphs_below_the_limit() -> None:
    paragraphs = [f"Paragraph {i}. " + "x" * 900 for i in range(10)]
    chunks = split_text("\n\n".join(paragraphs))
    assert len(chunks) == 3
    assert all(html_size(c) <= TEXT_LIMIT for c in chunks)
    assert "\n\n".join(chunks) == "\n\n".join(paragraphs)


def test_escaping_counts_towards_the_limit() -> None:
    chunks = split_text("&" * 5000)
    assert all(html_size(c) <= TEXT_LIMIT for c in chunks)
    assert "".join(chunks) == "&" * 5000


@given(st.lists(st.sampled_from(["a", "é", "😀", "&", "<", " ", "\n", "\n\n", "word " * 30]),
                max_size=600).map("".join))
def test_split_text_keeps_every_word_and_stays_below_the_limit(text: str) -> None:
    chunks = split_text(text, 500)
    assert all(html_size(c) <= 500 for c in chunks)
    assert "".join(text.split()) == "".join("".join(chunks).split())


def test_a_file_with_a_short_text_goes_as_one_captioned_message() -> None:
    chart = Attachment("profile.png", b"\x89PNG", "image/png", "Your profile")
    [part] = render(Reply("Your profile", image=chart))
    assert (part.method, part.text, part.file) == ("sendPhoto", "Your profile", chart)
    data = Attachment("my-data.json", b"{}", "application/json", "Your data & more")
    [part] = render(Reply("Here it is.", document=data))
    assert part.text == "Here it is.\n\nYour data &amp; more"


def test_long_captions_are_sent_as_text_before_the_file() -> None:
    chart = Attachment("c.png", b"png", "image/png", "y" * (CAPTION_LIMIT + 10))
    parts = render(Reply("", image=chart))
    assert [p.method for p in parts] == ["sendMessage", "sendPhoto"]
    assert parts[-1].text == ""


def test_the_answered_question_shows_the_choice() -> None:
    assert answered("Pick <one>", "Yes & no") == "Pick &lt;one&gt;\n\n✓ Yes &amp; no"
    assert html_size(answered("q" * 4090, "Developing")) <= TEXT_LIMIT


# ---------------------------------------------------------------------- the command menu
def test_every_menu_command_is_described_in_the_shipped_content(content: Content) -> None:
    assert set(TELEGRAM_MESSAGES) <= set(content.messages)
    menus = menu(content)
    # One menu per locale (French and Spanish came with their translations), each complete.
    assert list(menus) == list(content.locales) and next(iter(menus)) == "en"
    for entries in menus.values():
        assert [name for name, _ in entries] == list(MENU)
        assert all(3 <= len(text) <= 256 for _, text in entries)


def test_menu_commands_are_handled_by_the_engine(content: Content) -> None:
    from bot.engine.features.personal import PERSONAL_COMMANDS

    assert set(MENU) <= {c.name for c in PERSONAL_COMMANDS}


@pytest.mark.parametrize("update", [
    {"update_id": 1, "message": {"chat": [], "from": "nobody", "text": 5}},
    {"update_id": 2, "callback_query": {"from": None, "message": "gone", "data": "t1:1"}},
    {"update_id": 3, "message": {"from": {"id": 1}, "chat": {"id": 1, "type": "private"},
                                 "text": ["not", "text"]}},
])
def test_odd_shapes_never_raise(update: dict[str, Any]) -> None:
    address(update)
    read_update(update, BOT)
