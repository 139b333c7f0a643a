"""Broadcasts: the wizard, previews, recipients' answers, reports, and the outbox semantics."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from coordinator_world import ADMIN, Chat, World, ccbot, invite_code

from bot.definitions.model import Content
from bot.engine.core.events import UserKey
from bot.engine.features.broadcasts.views import progress_text, render_broadcast, report_text
from bot.engine.ports.broadcasts import Broadcast
from bot.engine.ports.directory import Directory, commit_ops
from bot.engine.ports.directory_ops import LeaveTeam
from bot.storage.directory_store import install
from bot.storage.sqlite_store import SQLiteStore


@pytest.fixture(params=["memory", "sqlite"])
def world(request: pytest.FixtureRequest, content: Content, tmp_path: Path) -> Iterator[World]:
    made = World(content, request.param, tmp_path / "world.db")
    yield made
    made.close()


def team_with(world: World, members: list[str], name: str = "riverside") -> list[Chat]:
    admin = world.member(ADMIN.id)
    admin.send(f"/newteam {name}")
    code = invite_code(admin.text())
    chats = []
    for ident in members:
        chat = world.member(ident)
        chat.send(f"/start {code}")
        chats.append(chat)
    return chats


def latest(directory: Directory) -> Broadcast:
    (found,) = directory.broadcasts(1)
    return found


def send_prompt(admin: Chat, audience: str = "team riverside", strand: str = "Outcomes",
                sub: str = "Insight") -> None:
    admin.send("/broadcast")
    admin.tap(audience)
    admin.tap(strand)
    admin.tap(sub)
    admin.tap("Send now")


def deliver_all(world: World) -> None:
    """Stand in for the sender: every due copy is accepted by Telegram."""
    for copy in world.outbox.claim_due("telegram", world.clock.now, 1000):
        world.outbox.mark_sent(copy.id, 1000 + copy.id, world.clock.now)


# ---------------------------------------------------------------------- the wizard
def test_the_preview_is_exactly_what_recipients_get(world: World) -> None:
    team_with(world, ["2", "3"])
    admin = world.chat(ADMIN.id)
    admin.send("/broadcast")
    assert admin.labels() == ["team riverside", "everyone", "Cancel"]
    admin.tap("team riverside")
    admin.tap("Delivery")
    admin.tap("Agility")
    preview = admin.last.replies[-2]
    assert "recipients: 2" in admin.last.replies[-3].text
    admin.tap("Send now")
    assert "Sending to team riverside (recipients: 2)" in admin.text()
    broadcast = latest(world.directory)
    text, choices = render_broadcast(world.content, broadcast, "en")
    assert preview.text == text
    assert [c.label for c in preview.choices] == [c.label for c in choices]
    assert [c.id for c in choices] == [f"bc:{broadcast.id}:{n}" for n in (1, 2, 3, 4)]
    assert broadcast.question == "delivery.agility" and broadcast.progress_chat_id == ADMIN.id
    assert world.outbox.progress(broadcast.id).pending == 2


def test_a_typed_message_is_previewed_and_sent(world: World) -> None:
    team_with(world, ["2"])
    admin = world.chat(ADMIN.id)
    admin.send("/broadcast")
    admin.tap("team riverside")
    admin.tap("Type a message")
    admin.send("x" * 1001)
    assert "at most 1000 characters" in admin.text() and world.directory.broadcasts(5) == []
    admin.send("Team meeting moved to Thursday. What should we cover?")
    assert admin.last.replies[-2].text.endswith("What should we cover?")
    assert [c.label for c in admin.last.replies[-2].choices] == ["Write a reflection"]
    admin.tap("Send now")
    broadcast = latest(world.directory)
    assert (broadcast.kind, broadcast.body) == (
        "text", "Team meeting moved to Thursday. What should we cover?")


def test_cancel_leaves_nothing_behind(world: World) -> None:
    team_with(world, ["2"])
    admin = world.chat(ADMIN.id)
    admin.send("/broadcast")
    admin.tap("team riverside")
    admin.tap("Outcomes")
    admin.tap("Cancel")
    assert "nothing changed" in admin.text()
    assert admin.awaiting() is None and world.directory.broadcasts(5) == []


def test_an_empty_audience_is_refused_without_a_change(world: World) -> None:
    team_with(world, [])
    admin = world.chat(ADMIN.id)
    admin.send("/broadcast")
    before = admin.awaiting()
    admin.tap("team riverside")
    assert "Nobody in team riverside can receive a broadcast yet" in admin.text()
    assert admin.awaiting() == before and world.directory.broadcasts(5) == []
    assert "Who should get it?" in admin.text()


def test_an_audience_that_empties_before_sending_sends_nothing(world: World) -> None:
    (ann,) = team_with(world, ["2"])
    admin = world.chat(ADMIN.id)
    admin.send("/broadcast")
    admin.tap("team riverside")
    admin.tap("Outcomes")
    admin.tap("Insight")
    team = world.directory.team_named("riverside")
    assert team is not None
    commit_ops(world.store, [LeaveTeam(team.id, str(ann.user))])
    admin.tap("Send now")
    assert "Nothing was sent" in admin.text() and world.directory.broadcasts(5) == []


def test_cohorts_and_everyone_reach_each_person_once(world: World) -> None:
    team_with(world, ["2", "3"], "riverside")
    chats = team_with(world, ["3", "4"], "hillside")
    world.member("5", channel="console")  # the console cannot receive broadcasts
    world.chat("6").send("/start")  # not consented
    admin = world.chat(ADMIN.id)
    admin.send("/cohort new north")
    admin.send("/cohort add north riverside")
    admin.send("/cohort add north hillside")
    send_prompt(admin, "cohort north")
    first = latest(world.directory)
    assert world.outbox.progress(first.id).total == 3
    send_prompt(admin, "everyone")
    # Everyone who consented on Telegram: the admin too.
    assert world.outbox.progress(latest(world.directory).id).total == 4
    assert chats[1].user == UserKey("telegram", "4")


# ---------------------------------------------------------------------- recipients' answers
def test_recipients_answer_and_the_first_answer_counts(world: World) -> None:
    ann, ben = team_with(world, ["2", "3"])
    send_prompt(world.chat(ADMIN.id))
    broadcast = latest(world.directory)
    deliver_all(world)
    ann.press(f"bc:{broadcast.id}:2")
    assert ann.last.chosen == "Developing"
    assert "Keep what people tell you in one place" in ann.text()
    assert ann.labels() == ["Write a reflection", "I'll try this"]
    ann.press(f"bc:{broadcast.id}:4")
    assert "your first answer counts" in ann.text() and "Developing" in ann.text()
    answer = world.directory.answer_of(broadcast.id, ann.user)
    assert answer is not None and answer.level == 2
    ann.press(f"bc:{broadcast.id}:n")
    assert "What has a service user told you recently" in ann.text()
    ann.send("The tenants' panel said the forms are too long.")
    assert "your reflection is saved" in ann.text()
    answer = world.directory.answer_of(broadcast.id, ann.user)
    assert answer is not None and answer.note == "The tenants' panel said the forms are too long."
    # Answering a broadcast does not touch the user's own cycle answers.
    assert world.store.answers(ann.user) == []
    assert world.directory.answer_of(broadcast.id, ben.user) is None


def test_a_reflection_can_be_skipped(world: World) -> None:
    (ann,) = team_with(world, ["2"])
    send_prompt(world.chat(ADMIN.id))
    broadcast = latest(world.directory)
    ann.press(f"bc:{broadcast.id}:n")
    ann.tap("Skip")
    assert "no reflection" in ann.text() and ann.awaiting() is None
    assert world.directory.answer_of(broadcast.id, ann.user) is None


def test_a_text_broadcast_takes_a_reflection(world: World) -> None:
    (ann,) = team_with(world, ["2"])
    admin = world.chat(ADMIN.id)
    admin.send("/broadcast")
    admin.tap("team riverside")
    admin.tap("Type a message")
    admin.send("What got in the way of joint work this month?")
    admin.tap("Send now")
    broadcast = latest(world.directory)
    text, choices = render_broadcast(world.content, broadcast, "en")
    assert text.endswith("this month?") and [c.id for c in choices] == [f"bc:{broadcast.id}:n"]
    ann.press(choices[0].id)
    assert "without your name" in ann.text()
    ann.send("Budgets were not pooled.")
    report = world.directory.report(broadcast.id)
    assert report is not None and report.notes == 1 and report.answered == 0


@pytest.mark.parametrize("data", ["bc:999:2", "bc:{id}:9", "bc:{id}:0", "bc:{id}:x",
                                  "bc:x:1", "bc:{id}", "bc:{id}:2:3", "bc::", "bc:-1:2"])
def test_forged_broadcast_buttons_change_nothing(world: World, data: str) -> None:
    (ann,) = team_with(world, ["2"])
    send_prompt(world.chat(ADMIN.id))
    broadcast = latest(world.directory)
    before = world.store.load_user(ann.user)
    response = ann.press(data.format(id=broadcast.id))
    assert response.stale_choice
    assert world.directory.answer_of(broadcast.id, ann.user) is None
    after = world.store.load_user(ann.user)
    assert before is not None and after is not None
    assert (before.awaiting, before.positions) == (after.awaiting, after.positions)


def test_someone_who_did_not_get_a_broadcast_cannot_answer_it(world: World) -> None:
    team_with(world, ["2"])
    outsider = world.member("9")
    send_prompt(world.chat(ADMIN.id))
    broadcast = latest(world.directory)
    response = outsider.press(f"bc:{broadcast.id}:3")
    assert response.stale_choice and "not for you" in outsider.text()
    assert world.directory.report(broadcast.id).answered == 0  # type: ignore[union-attr]
    outsider.press(f"bc:{broadcast.id}:n")
    assert outsider.awaiting() is None


def test_tapping_the_preview_explains_itself(world: World) -> None:
    team_with(world, ["2"])
    admin = world.chat(ADMIN.id)
    admin.send("/broadcast")
    admin.tap("team riverside")
    admin.tap("Outcomes")
    admin.tap("Insight")
    awaiting = admin.awaiting()
    admin.tap("Developing")  # on the preview
    assert "This is a preview" in admin.text() and admin.last.stale_choice
    assert admin.awaiting() == awaiting and world.directory.broadcasts(5) == []


# ---------------------------------------------------------------------- reports
def test_report_counts_outcomes_and_hides_small_distributions(world: World) -> None:
    chats = team_with(world, ["2", "3", "4", "5", "6"])
    admin = world.chat(ADMIN.id)
    send_prompt(admin)
    broadcast = latest(world.directory)
    copies = world.outbox.claim_due("telegram", world.clock.now, 10)
    world.outbox.mark_sent(copies[0].id, 1, world.clock.now)
    world.outbox.mark_sent(copies[1].id, 2, world.clock.now)
    world.outbox.mark_sent(copies[2].id, 3, world.clock.now)
    world.outbox.mark_failed(copies[3].id, "Bad Request: chat not found", world.clock.now)
    world.outbox.mark_blocked(copies[4].id, "Forbidden: bot was blocked by the user",
                              world.clock.now)
    chats[0].press(f"bc:{broadcast.id}:3")
    chats[1].press(f"bc:{broadcast.id}:3")
    admin.send(f"/report {broadcast.id}")
    text = admin.text()
    assert "Delivered: 3 of 5. Failed: 1. Blocked the bot: 1. Still to send: 0." in text
    assert "Why sending failed: Bad Request: chat not found (1)." in text
    assert "Answered: 2." in text and "Fewer than 8 people have answered" in text
    assert "Established" not in text
    # Issue 11: a distribution needs 8 answers besides the viewer's (was 3).
    chats[2].press(f"bc:{broadcast.id}:1")
    admin.send(f"/report #{broadcast.id}")
    assert "Fewer than 8 people have answered" in admin.text()
    assert "Established" not in admin.text()


def test_report_without_a_number_offers_recent_broadcasts(world: World) -> None:
    team_with(world, ["2"])
    admin = world.chat(ADMIN.id)
    admin.send("/report")
    assert "no broadcasts to report on yet" in admin.text()
    send_prompt(admin)
    send_prompt(admin, sub="Designing services")
    admin.send("/report")
    assert admin.labels()[0].startswith("#2 ") and admin.labels()[-1] == "Cancel"
    admin.tap(admin.labels()[1])
    assert "Broadcast #1 to team riverside" in admin.text()
    admin.send("/report 42")
    assert "There is no broadcast #42" in admin.text()


def test_managers_send_to_their_teams_and_see_their_own_reports(world: World) -> None:
    (ann,) = team_with(world, ["2"])
    team_with(world, ["3"], "hillside")
    admin = world.chat(ADMIN.id)
    admin.send("/members riverside")
    admin.tap(admin.labels()[0])  # make Ann a manager
    send_prompt(admin, "team hillside")
    theirs = latest(world.directory)
    ann.send("/broadcast")
    assert ann.labels() == ["team riverside", "Cancel"]
    ann.tap("team riverside")
    ann.tap("Type a message")
    ann.send("Stand-up moved to 10:00.")
    ann.tap("Send now")
    mine = latest(world.directory)
    assert mine.created_by == str(ann.user) and mine.audience_label == "riverside"
    ann.send(f"/report {theirs.id}")
    assert "only available to coordinators or managers" in ann.text()
    ann.send(f"/report {mine.id}")
    assert f"Broadcast #{mine.id} to team riverside" in ann.text()
    ann.send("/report")
    assert [label.split()[0] for label in ann.labels()[:-1]] == [f"#{mine.id}"]


def test_progress_text_is_what_the_sender_edits(world: World) -> None:
    team_with(world, ["2", "3"])
    send_prompt(world.chat(ADMIN.id))
    broadcast = latest(world.directory)
    first, _ = world.outbox.claim_due("telegram", world.clock.now, 10)
    world.outbox.mark_sent(first.id, 1, world.clock.now)
    text = progress_text(world.content, broadcast, world.outbox.progress(broadcast.id), "en")
    assert text == (f"Broadcast #{broadcast.id} to team riverside: 1 sent, 0 failed, 0 blocked, "
                    "1 of 2 still to send.")


# ---------------------------------------------------------------------- privacy
def test_forgetting_a_recipient_removes_their_copy_and_answer(world: World) -> None:
    ann, ben = team_with(world, ["2", "3"])
    send_prompt(world.chat(ADMIN.id))
    broadcast = latest(world.directory)
    deliver_all(world)
    ann.press(f"bc:{broadcast.id}:2")
    ann.send("/forget")
    ann.tap("Yes")
    assert world.directory.delivery_of(broadcast.id, ann.user) is None
    assert world.directory.answer_of(broadcast.id, ann.user) is None
    assert world.outbox.progress(broadcast.id).total == 1
    assert world.directory.memberships(ann.user) == []
    assert world.directory.delivery_of(broadcast.id, ben.user) is not None


# ---------------------------------------------------------------------- restarts (SQLite)
def test_after_a_crash_nothing_confirmed_sent_is_sent_again(content: Content,
                                                            tmp_path: Path) -> None:
    path = tmp_path / "crash.db"
    world = World(content, "sqlite", path)
    team_with(world, [str(100 + i) for i in range(10)])
    send_prompt(world.chat(ADMIN.id))
    bid = latest(world.directory).id
    batch = world.outbox.claim_due("telegram", world.clock.now, 6)
    confirmed = {d.user for d in batch[:4]}
    for copy in batch[:4]:
        world.outbox.mark_sent(copy.id, copy.id, world.clock.now)
    world.close()  # two copies were in flight

    store = SQLiteStore(path)
    directory = install(store)
    assert directory.recover_in_flight(world.clock.now + 5) == {bid: 2}
    resent = []
    while batch := directory.claim_due("telegram", world.clock.now + 5, 3):
        for copy in batch:
            assert copy.user not in confirmed
            resent.append(copy)
            directory.mark_sent(copy.id, copy.id, world.clock.now + 6)
    assert len(resent) == 6 and sum(c.resent_after_restart for c in resent) == 2
    report = directory.report(bid)
    assert report is not None and report.progress.sent == 10 and report.broadcast.status == "done"
    assert "2 message(s) were being sent when the bot stopped" in report_text(content, report,
                                                                              "en")
    store.close()


# ---------------------------------------------------------------------- the CLI
def test_cli_broadcast_creates_the_same_rows(content: Content, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cli.db"
    world = World(content, "sqlite", path)
    team_with(world, ["2", "3"])
    world.close()
    db = ["--db", str(path)]
    assert ccbot(["broadcast", "--audience", "team:riverside", "--prompt", "alignment.risk",
                 *db]) == 0
    assert "Broadcast #1 queued for team riverside (recipients: 2)" in capsys.readouterr().out
    assert ccbot(["broadcast", "--audience", "team:nowhere", "--text", "hi", *db]) == 2
    assert ccbot(["broadcast", "--audience", "everyone", "--prompt", "alignment.nope", *db]) == 2
    assert ccbot(["broadcast", "--audience", "everyone", "--text", " ", *db]) == 2
    err = capsys.readouterr().err
    assert "No audience \"team:nowhere\"" in err and "There is no prompt \"alignment.nope\"" in err
    assert "must have some text" in err
    store = SQLiteStore(path)
    directory = install(store)
    (broadcast,) = directory.broadcasts(5)
    assert (broadcast.question, broadcast.created_by, directory.progress(1).pending) == (
        "alignment.risk", "cli", 2)
    store.close()


def test_a_long_reflection_is_kept_up_to_the_note_limit(world: World) -> None:
    (ann,) = team_with(world, ["2"])
    send_prompt(world.chat(ADMIN.id))
    broadcast = latest(world.directory)
    ann.press(f"bc:{broadcast.id}:n")
    ann.send("w" * 5000)
    assert "kept the first 2000 characters" in ann.text()
    answer = world.directory.answer_of(broadcast.id, ann.user)
    assert answer is not None and answer.note == "w" * 2000
