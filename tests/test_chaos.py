"""Chaos: the real `ccbot run` under steady traffic and a broadcast, SIGKILLed again and again.

Thirty people walk onboarding and a whole cycle on the fake Bot API while the bot is killed
with SIGKILL at random moments (after a random number of handled updates, then a random
pause) and restarted at once, at least ten times. A broadcast to everyone is queued part way
through, with `ccbot broadcast`, so it is delivered while the kills go on: to the walkers and
to 150 people who agreed earlier and are quiet now (a copy to someone in the middle of a
conversation waits for a gap in it, so without them few copies would be confirmed between
kills). At the end:

- no update lost: every update the fake delivered is in `processed_updates`, the inbox is empty;
- none handled twice: one answer per person, cycle and question, and each typed note once;
- no broadcast recipient whose copy was confirmed sent got a second copy;
- the database passes `PRAGMA integrity_check`.

The seed is printed with the table; CHAOS_SEED=<n> replays a run's choices.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from fake_bot_api import FakeBotAPI
from test_telegram_process import (
    PhoneUser,
    check_order,
    collapse,
    conversation,
    db_rows,
    env_for,
    handled_count,
    stop_bot,
)

from bot.channels.telegram.config import RATE_ENV
from bot.storage.directory_store import install
from bot.storage.sqlite_store import SQLiteStore

pytestmark = pytest.mark.slow  # kills a real bot process with SIGKILL at random moments

PROJECT = Path(__file__).resolve().parent.parent
USERS = 30
QUIET = 150
KILLS = 12
BROADCAST_AFTER_KILL = 3
BROADCAST = "Chaos check: what helped you work with citizens this week?"


class Walker(PhoneUser):
    """A PhoneUser who reads a broadcast and carries on with the cycle.

    The copy's buttons are passed over wherever the copy lands: after a restart it may come
    just after the next question, and skipping past the copy's id would skip the question too.
    """

    def passes_over(self, message: dict[str, Any]) -> bool:
        return BROADCAST in (message["text"] or "") or super().passes_over(message)


def start(fake: FakeBotAPI, db: Path, log: Path) -> subprocess.Popen[bytes]:
    """`ccbot run`; the fake has no flood limit, so the bot's own pacing is lifted."""
    with log.open("ab") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run", "--poll-timeout", "1", "--read-timeout",
             "3", "--log-level", "INFO"],
            env={**env_for(fake, db), RATE_ENV: "500"}, cwd=PROJECT,
            stdout=subprocess.DEVNULL, stderr=stderr)


def queue_broadcast(db: Path, fake: FakeBotAPI) -> str:
    """`ccbot broadcast` to everyone, from another process, while the bot runs (or is down)."""
    result = subprocess.run([sys.executable, "-m", "bot.cli", "broadcast", "--audience",
                             "everyone", "--text", BROADCAST], cwd=PROJECT,
                            env=env_for(fake, db), capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode().strip()


def quiet_people(db: Path) -> list[int]:
    """People who went through onboarding some time ago (bulk rows, as onboarding leaves them)."""
    ids = [761_000_001 + i for i in range(QUIET)]
    store = SQLiteStore(db)
    install(store)
    with store.transaction() as conn:
        conn.executemany("INSERT INTO users (key, channel, external_id, locale, consent, status,"
                         " created_at, last_seen) VALUES (?, 'telegram', ?, 'en', 1, 'active',"
                         " 0, 0)", [(f"telegram:{i}", str(i)) for i in ids])
    store.close()
    return ids


def broadcast_copies(fake: FakeBotAPI, chat: int) -> int:
    return sum(BROADCAST in (m["text"] or "") for m in fake.messages(chat))


def wait_handled(db: Path, target: int, users: list[Walker], timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if handled_count(db) >= target:
            return True
        if all(u.done or u.error for u in users):
            return False
        time.sleep(0.01)
    return False


@pytest.mark.timeout(200)
def test_sigkill_at_random_moments_loses_and_doubles_nothing(
        bot_api: FakeBotAPI, tmp_path: Path, processes: list[subprocess.Popen[bytes]]) -> None:
    seed = int(os.environ.get("CHAOS_SEED") or random.randrange(1_000_000))
    rng = random.Random(seed)
    fake, db, log = bot_api, tmp_path / "bot.db", tmp_path / "bot.log"
    fake.latency = 0.002
    quiet = quiet_people(db)
    processes.append(start(fake, db, log))
    users = [Walker(fake, 760_000_001 + i, timeout=90) for i in range(USERS)]
    for user in users:
        user.start()
    kills, queued, killed_at = 0, "", []
    # Copies each recipient had when the database first showed theirs confirmed sent (read
    # while the bot is down after a kill): no copy may arrive after that.
    at_confirmation: dict[int, int] = {}
    started = time.monotonic()
    while kills < KILLS:
        if not wait_handled(db, handled_count(db) + rng.randint(5, 45), users):
            break  # everyone finished first: the traffic was too short for more kills
        time.sleep(rng.uniform(0, 0.15))
        processes[-1].kill()  # SIGKILL: no clean-up of any kind
        processes[-1].wait()
        kills += 1
        killed_at.append(handled_count(db))
        if queued:
            for (chat,) in db_rows(db, "SELECT chat_id FROM broadcast_outbox WHERE status ="
                                       " 'sent'"):
                at_confirmation.setdefault(int(chat), broadcast_copies(fake, int(chat)))
        if kills == BROADCAST_AFTER_KILL:
            queued = queue_broadcast(db, fake)
        processes.append(start(fake, db, log))
    for user in users:
        user.join(120)
        assert user.error is None and user.done, (user.user_id, user.error)
    # Let the broadcast finish (everyone has it, or is recorded otherwise), then stop cleanly.
    assert fake.wait_for(lambda: db_rows(db, "SELECT COUNT(*) FROM broadcast_outbox WHERE"
                                             " status IN ('pending', 'sending')")[0][0] == 0, 60)
    code, _ = stop_bot(processes[-1])
    took = time.monotonic() - started

    delivered = {u["update_id"] for u in fake.sent_updates}
    handled = {r[0] for r in db_rows(db, "SELECT update_id FROM processed_updates")}
    lost = delivered - handled
    twice = db_rows(db, "SELECT user_key, cycle, question, COUNT(*) FROM answers"
                        " GROUP BY user_key, cycle, question HAVING COUNT(*) > 1")
    notes = Counter(r[0] for r in db_rows(db, "SELECT note FROM answers WHERE note IS NOT NULL"))
    typed = Counter(n for u in users for n in u.typed_notes)
    replies_twice = 0
    for user in users:
        said = [text for text in conversation(fake, user.user_id) if BROADCAST not in text]
        kept, repeats = collapse(said)
        check_order(kept)  # every question, prompt and note answer, in order, nothing lost
        replies_twice += repeats
    copies = Counter({chat: broadcast_copies(fake, chat)
                      for chat in [u.user_id for u in users] + quiet})
    outbox = db_rows(db, "SELECT chat_id, status, resent_after_restart FROM broadcast_outbox")
    # A copy confirmed only after the last kill may have been in flight at an earlier one:
    # those may arrive twice (and are counted as in flight); the check is on the others.
    confirmed_twice = [chat for chat, seen in at_confirmation.items() if copies[chat] > seen]
    integrity = db_rows(db, "PRAGMA integrity_check")[0][0]

    print(f"\nchaos seed {seed}: {USERS} users, {took:.0f} s, kills after "
          f"{killed_at} handled updates; {queued} Copies confirmed sent when a kill came: "
          f"{len(at_confirmation)}.")
    resent = db_rows(db, "SELECT COALESCE(SUM(in_flight_at_restart), 0) FROM broadcasts")[0][0]
    print("| kills | updates sent | handled | lost | doubled | replies sent twice "
          "| broadcast copies / recipients | in flight at a kill | sent twice though confirmed "
          "| integrity |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    print(f"| {kills} | {len(delivered)} | {len(handled & delivered)} | {len(lost)} "
          f"| {len(twice)} | {replies_twice} | {sum(copies.values())} / {len(outbox)} "
          f"| {resent} | {len(confirmed_twice)} | {integrity} |")

    assert code == 0
    assert kills >= 10, f"only {kills} kills before the traffic ended"
    assert lost == set()
    assert twice == []
    assert notes == typed
    assert db_rows(db, "SELECT COUNT(*) FROM answers")[0][0] == 12 * USERS
    assert db_rows(db, "SELECT COUNT(*) FROM inbox")[0][0] == 0
    assert db_rows(db, "SELECT COUNT(*) FROM reply_outbox")[0][0] == 0
    assert integrity == "ok"
    # The recipients are the people who had agreed to take part when it was queued.
    assert queued and len(outbox) == int(queued.split("recipients: ")[1].split(")")[0]) > 0
    assert {status for _, status, _ in outbox} == {"sent"}
    assert all(copies[int(chat)] >= 1 for chat, _, _ in outbox)
    assert confirmed_twice == []
    # Only a copy in flight at a kill may arrive twice, and the report counts those.
    assert sum(copies.values()) - len(outbox) <= resent
