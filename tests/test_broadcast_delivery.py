"""Broadcast delivery by the real `ccbot run` process against the fake Bot API.

Exactly one copy per recipient under injected 429s, 5xx, timeouts and 403s; kill -9 at about
40 % and a restart; the configured pacing measured from the fake's call times; replies to a
user not starved by a broadcast; schedules across restarts; role menus.
"""

from __future__ import annotations

import gc
import re
import sqlite3
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from broadcast_seed import Seeded, most_in_a_second
from coordinator_world import ccbot
from fake_bot_api import FakeBotAPI
from test_telegram_process import env_for, stop_bot

# Real processes, kill -9, and hundreds of recipients against the fake Bot API.
pytestmark = pytest.mark.slow

PROJECT = Path(__file__).resolve().parent.parent
COORDINATOR = 42


# A call slower than the read timeout is sent again, and the fake would then hold two copies:
# READ_TIMEOUT leaves room for a loaded machine (the fake's injected timeouts are longer).
READ_TIMEOUT = 5


def start_bot(fake: FakeBotAPI, db: Path, log: Path, *flags: str,
              env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    with log.open("ab") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run", "--poll-timeout", "1", "--read-timeout",
             str(READ_TIMEOUT), "--log-level", "INFO", *flags],
            env={**env_for(fake, db), **(env or {})}, cwd=PROJECT, stdout=subprocess.DEVNULL,
            stderr=stderr)


def rows(db: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db, timeout=10)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def one(db: Path, sql: str, params: tuple[Any, ...] = ()) -> Any:
    return rows(db, sql, params)[0][0]


def wait_until(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def done(db: Path, broadcast_id: int) -> bool:
    return bool(one(db, "SELECT status = 'done' FROM broadcasts WHERE id = ?", (broadcast_id,)))


def statuses(db: Path, broadcast_id: int) -> Counter[str]:
    return Counter(dict(rows(db, "SELECT status, COUNT(*) FROM broadcast_outbox WHERE "
                                 "broadcast_id = ? GROUP BY status", (broadcast_id,))))


def send_times(fake: FakeBotAPI, chat: int | str | None = None) -> list[float]:
    """When each sendMessage reached the fake (refused ones too), for one chat or all."""
    return [at for method, params, at in fake.calls if method == "sendMessage"
            and (chat is None or str(params.get("chat_id")) == str(chat))]


def seeded(db: Path, team: str, idents: list[int]) -> Seeded:
    seed = Seeded(db)
    seed.users([*idents, COORDINATOR])
    seed.grant(COORDINATOR)
    seed.team(team, idents)
    return seed


# ---------------------------------------------------------------------- faults
def test_500_recipients_with_429s_5xx_timeouts_and_403s_each_get_exactly_one(
        bot_api: FakeBotAPI, tmp_path: Path, processes: list[subprocess.Popen[bytes]]) -> None:
    db, log = tmp_path / "bot.db", tmp_path / "bot.log"
    people = [810_000_000 + i for i in range(500)]
    seed = seeded(db, "everyone-here", people)
    bid = seed.broadcast("everyone-here", "Please answer <this> & that", by=COORDINATOR)
    seed.close()
    blocked = people[5::25]  # 20 people who blocked the bot
    for person in blocked:
        bot_api.block(person)
    throttled = [people[i] for i in (60, 200, 350)]
    for person in throttled:
        bot_api.fail_next("sendMessage", "429", chat_id=person, retry_after=1)
    for person in (people[100], people[101], people[300]):
        bot_api.fail_next("sendMessage", "502", chat_id=person)
    bot_api.fail_next("sendMessage", "500", count=6, chat_id=people[400])  # gives up
    bot_api.timeout_delay = READ_TIMEOUT + 5.0  # held past the bot's read timeout
    bot_api.fail_next("sendMessage", "timeout", chat_id=people[250])

    processes.append(start_bot(bot_api, db, log, "--broadcast-rate", "200"))
    wait_until(lambda: done(db, bid), 120, "the broadcast to finish")
    counts = statuses(db, bid)
    assert counts == {"sent": 479, "blocked": 20, "failed": 1}
    for person in people:
        expected = 0 if person in blocked or person == people[400] else 1
        assert len(bot_api.messages(person)) == expected, person
    text = bot_api.messages(people[0])[0]["text"]
    assert "Please answer &lt;this&gt; &amp; that" in text
    assert FakeBotAPI.buttons(bot_api.messages(people[0])[0]) == [
        ("Write a reflection", f"bc:{bid}:n")]
    assert {r[0] for r in rows(db, "SELECT status FROM users WHERE external_id IN "
                               f"({','.join(map(str, blocked))})")} == {"blocked"}
    (reason,) = rows(db, "SELECT last_error FROM broadcast_outbox WHERE chat_id = ?",
                     (str(people[400]),))
    assert "gave up after 5 tries" in reason[0]

    # Each 429 paused every copy for its retry_after (1 s); the copy itself came later. (Copies
    # already past the pacer when the 429 came back may still land in the first moments.)
    sends = [at for method, params, at in bot_api.calls if method == "sendMessage"
             and params.get("chat_id") != COORDINATOR]
    for person in throttled:
        refused, *again = send_times(bot_api, person)
        assert len(again) == 1 and again[0] - refused >= 0.95
        assert not [t for t in sends if refused + 0.3 < t < refused + 0.9]

    # The coordinator's one progress message ends with the report; edits >= 2 s apart.
    def reported() -> bool:
        shown = bot_api.messages(COORDINATOR)
        return bool(shown) and "Delivered: 479 of 500" in (shown[-1]["text"] or "")

    wait_until(reported, 60, "the report")
    (progress,) = bot_api.messages(COORDINATOR)
    assert "Failed: 1" in progress["text"] and "Blocked the bot: 20" in progress["text"]
    edits = [at for method, params, at in bot_api.calls if method == "editMessageText"
             and str(params.get("chat_id")) == str(COORDINATOR)]
    assert edits and all(b - a >= 1.9 for a, b in pairwise(edits))

    # A person who blocked the bot and writes again is reachable again.
    bot_api.unblock(blocked[0])
    bot_api.send_text(blocked[0], "/help")
    wait_until(lambda: one(db, "SELECT status FROM users WHERE external_id = ?",
                           (str(blocked[0]),)) == "active", 30, "the unblock")
    assert stop_bot(processes[0])[0] == 0


# ---------------------------------------------------------------------- kill -9
def test_kill_9_at_40_percent_then_restart_completes_without_resending_confirmed(
        bot_api: FakeBotAPI, tmp_path: Path, processes: list[subprocess.Popen[bytes]]) -> None:
    db, log = tmp_path / "bot.db", tmp_path / "bot.log"
    people = [820_000_000 + i for i in range(500)]
    seed = seeded(db, "crew", people)
    bid = seed.broadcast("crew", "Half-way check", by=COORDINATOR)
    seed.close()
    bot_api.latency = 0.03  # so that copies are in flight when the kill comes
    flags = ("--broadcast-rate", "150", "--broadcast-concurrency", "8")
    processes.append(start_bot(bot_api, db, log, *flags))
    wait_until(lambda: statuses(db, bid)["sent"] >= 200, 120, "40 % of the copies")
    processes[0].kill()
    processes[0].wait()
    confirmed = {int(r[0]) for r in rows(db, "SELECT chat_id FROM broadcast_outbox WHERE "
                                         "broadcast_id = ? AND status = 'sent'", (bid,))}
    in_flight = statuses(db, bid)["sending"]
    progress_id = one(db, "SELECT progress_message_id FROM broadcasts WHERE id = ?", (bid,))
    assert 200 <= len(confirmed) < 500 and in_flight <= 8

    processes.append(start_bot(bot_api, db, log, *flags))
    wait_until(lambda: done(db, bid), 120, "the broadcast to finish after the restart")
    got = {person: len(bot_api.messages(person)) for person in people}
    twice = [person for person, n in got.items() if n > 1]
    print(f"\nkill -9 at {len(confirmed)} of 500 confirmed, {in_flight} in flight; "
          f"{len(twice)} got it twice")
    assert all(n >= 1 for n in got.values())
    assert all(got[person] == 1 for person in confirmed)
    assert len(twice) <= in_flight <= 8
    assert statuses(db, bid) == {"sent": 500}
    assert one(db, "SELECT in_flight_at_restart FROM broadcasts WHERE id = ?",
               (bid,)) == in_flight

    # The same progress message carried on and ends with the report.
    def reported() -> bool:
        shown = bot_api.messages(COORDINATOR)
        return bool(shown) and "Delivered: 500 of 500" in (shown[-1]["text"] or "")

    wait_until(reported, 60, "the report")
    assert [m["message_id"] for m in bot_api.messages(COORDINATOR)] == [progress_id]
    if in_flight:
        assert (f"{in_flight} message(s) were being sent when the bot stopped"
                in bot_api.messages(COORDINATOR)[0]["text"])
    assert stop_bot(processes[1])[0] == 0


# ---------------------------------------------------------------------- pacing
@pytest.fixture
def no_gc_pauses() -> Iterator[None]:
    """No garbage collection pass in this process, which hosts the fake, while it times calls.

    A full pass takes tens of milliseconds on a slow machine, and after the tests before it
    one tends to fall inside the broadcast: the fake then records a call about a slot (50 ms)
    late, on top of the next one, and counts 22 calls in a second the bot paced at 20.
    """
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@pytest.mark.usefixtures("no_gc_pauses")
def test_pacing_holds_the_rates_and_replies_are_not_starved(
        bot_api: FakeBotAPI, tmp_path: Path, processes: list[subprocess.Popen[bytes]]) -> None:
    db, log = tmp_path / "bot.db", tmp_path / "bot.log"
    people = [830_000_000 + i for i in range(200)]
    seed = seeded(db, "paced", people)
    bid = seed.broadcast("paced", "Paced message")
    seed.copies_for_chat(bid, str(people[0]), 2)  # one person, three copies
    group = -1_001_234
    seed.copies_for_chat(bid, str(group), 3)  # a group chat, three copies
    seed.close()
    processes.append(start_bot(bot_api, db, log, "--broadcast-rate", "20"))
    wait_until(lambda: statuses(db, bid)["sent"] >= 20, 60, "the broadcast to start")

    chatter = 839_000_001
    latencies = []
    for _ in range(5):
        before = len(send_times(bot_api, chatter))
        asked = time.monotonic()
        bot_api.send_text(chatter, "/help")
        wait_until(lambda n=before: len(send_times(bot_api, chatter)) > n, 30, "a reply")
        latencies.append(send_times(bot_api, chatter)[before] - asked)
        time.sleep(0.5)
    assert statuses(db, bid)["pending"] > 50  # the replies came while the broadcast went on
    wait_until(lambda: done(db, bid), 120, "the broadcast to finish")
    assert stop_bot(processes[0])[0] == 0
    print(f"\nreply latency during the broadcast: median "
          f"{statistics.median(latencies) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms")
    assert max(latencies) < 1.0 and statistics.median(latencies) < 0.5

    assert statuses(db, bid) == {"sent": 205}
    assert most_in_a_second(send_times(bot_api)) <= 21
    person = send_times(bot_api, people[0])
    assert len(person) == 3 and all(b - a >= 0.9 for a, b in pairwise(person))
    in_group = send_times(bot_api, group)
    # 20 a minute in a group: 3 s apart, so never more than 20 in any minute. (Spacing is
    # measured where the fake receives the calls, so a little network jitter is allowed.)
    assert len(in_group) == 3 and all(b - a >= 2.8 for a, b in pairwise(in_group))


# ---------------------------------------------------------------------- schedules
def test_runs_missed_while_down_are_sent_once_and_not_again_after_a_restart(
        bot_api: FakeBotAPI, tmp_path: Path, processes: list[subprocess.Popen[bytes]]) -> None:
    db, log = tmp_path / "bot.db", tmp_path / "bot.log"
    people = [840_000_000 + i for i in range(20)]
    seed = seeded(db, "weekly", people)
    seed.daily_schedule("weekly", "Daily nudge", COORDINATOR, time.time() - 3 * 86_400)
    seed.weekly_digest("weekly", COORDINATOR, time.time() - 3 * 86_400)
    seed.close()
    flags = ("--schedule-interval", "1", "--broadcast-rate", "100")
    processes.append(start_bot(bot_api, db, log, *flags))
    wait_until(lambda: one(db, "SELECT COUNT(*) FROM broadcasts WHERE status = 'done'") == 1,
               60, "the missed run")
    assert all(len(bot_api.messages(p)) == 1 for p in people)
    (result,) = rows(db, "SELECT last_result FROM schedules")
    assert "sent to 20" in result[0] and "missed while stopped were not repeated" in result[0]
    assert one(db, "SELECT next_run_at FROM schedules") > time.time()
    # The weekly digest missed while down came too, once, in the coordinator's chat.
    def digests() -> int:
        return sum("Your weekly summary of team weekly" in t for t in bot_api.texts(COORDINATOR))

    wait_until(lambda: digests() == 1, 30, "the digest")

    # `ccbot broadcast` while the bot runs: picked up within the sender's poll.
    assert ccbot(["broadcast", "--audience", "team:weekly", "--text", "From the CLI",
                  "--db", str(db)]) == 0
    wait_until(lambda: all(len(bot_api.messages(p)) == 2 for p in people), 30,
               "the CLI broadcast")
    assert stop_bot(processes[0])[0] == 0

    menus = len(bot_api.calls_to("setMyCommands"))
    processes.append(start_bot(bot_api, db, log, *flags))
    # The default menu, then the coordinator's at the first schedule tick.
    wait_until(lambda: len(bot_api.calls_to("setMyCommands")) >= menus + 2, 60,
               "the second start")
    time.sleep(2.5)  # two more ticks
    assert one(db, "SELECT COUNT(*) FROM broadcasts") == 2
    assert all(len(bot_api.messages(p)) == 2 for p in people)
    assert digests() == 1
    assert stop_bot(processes[1])[0] == 0


# ---------------------------------------------------------------------- role menus
def chat_menu(fake: FakeBotAPI, chat: int) -> list[str] | None:
    found = fake.commands_for({"type": "chat", "chat_id": chat})
    return None if found is None else [c["command"] for c in found]


def test_each_role_gets_its_own_chat_menu_and_it_follows_role_changes(
        bot_api: FakeBotAPI, tmp_path: Path, processes: list[subprocess.Popen[bytes]]) -> None:
    db, log = tmp_path / "bot.db", tmp_path / "bot.log"
    admin, member, manager, newcomer = 1, 43, 44, 45
    seed = Seeded(db)
    seed.users([admin, COORDINATOR, member, manager, newcomer])
    seed.grant(COORDINATOR)
    seed.team("crew", [member], managers=[manager])
    seed.close()
    processes.append(start_bot(bot_api, db, log, "--schedule-interval", "1",
                               env={"CCBOT_ADMINS": str(admin)}))
    # The menus are set one chat at a time, so wait for every role's before reading any.
    wait_until(lambda: all(chat_menu(bot_api, chat) is not None
                           for chat in (COORDINATOR, admin, manager)), 60, "the role menus")
    default = [c["command"] for c in bot_api.commands_for() or []]
    assert {"cycle", "help", "myteams", "leave"} <= set(default)
    assert "broadcast" not in default
    coordinator_menu = chat_menu(bot_api, COORDINATOR) or []
    assert {"broadcast", "newteam", "schedule", "cycle"} <= set(coordinator_menu)
    assert "makecoordinator" not in coordinator_menu
    assert "makecoordinator" in (chat_menu(bot_api, admin) or [])
    manager_menu = chat_menu(bot_api, manager) or []
    assert "broadcast" in manager_menu and "newteam" not in manager_menu
    assert chat_menu(bot_api, member) is None  # a member sees the default menu

    # The real username is stored for invite links; a coordinator link changes the menu.
    assert one(db, "SELECT value FROM app_settings WHERE name = 'bot_username'") == \
        "ccbot_test_bot"
    bot_api.send_text(admin, "/makecoordinator")
    wait_until(lambda: any("?start=" in t for t in bot_api.texts(admin)), 30, "the link")
    link = next(t for t in bot_api.texts(admin) if "?start=" in t)
    code = re.search(r"https://t\.me/ccbot_test_bot\?start=(\S+)", link)
    assert code is not None
    bot_api.send_text(newcomer, f"/start {code.group(1)}")
    wait_until(lambda: "broadcast" in (chat_menu(bot_api, newcomer) or []), 30,
               "the new coordinator's menu")

    # A grant revoked from the CLI while the bot runs: the chat falls back to the default.
    assert ccbot(["roles", "revoke", str(COORDINATOR), "coordinator", "--db", str(db)]) == 0
    wait_until(lambda: chat_menu(bot_api, COORDINATOR) is None, 30, "the demotion")

    # Which chats have a menu is written after Telegram answers, so a stop right after the
    # fake saw the change could cut it off: wait for the record itself.
    def remembered() -> str:
        return str(one(db, "SELECT value FROM app_settings WHERE name = 'telegram_menus'"))

    wait_until(lambda: f"telegram:{COORDINATOR}" not in remembered()
               and f"telegram:{newcomer}" in remembered(), 30, "the menus to be remembered")
    assert stop_bot(processes[0])[0] == 0
    assert f"telegram:{COORDINATOR}" not in remembered()
    assert f"telegram:{newcomer}" in remembered()
