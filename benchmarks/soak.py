"""Soak: 100,000 updates from 5,000 users through the durable path, watching memory and backlog.

Run: .venv/bin/python benchmarks/soak.py [--users 5000] [--updates 100000] [--every 10000]

Each update takes the path the Telegram channel gives it, in one process and without HTTP:
Telegram's JSON into the inbox (its own transaction, as before acknowledging it), read by
bot/channels/telegram/translate.py, handled by the Engine with the coordinator features over
SQLite with the reply outbox (the turn's transaction deletes the inbox row and queues the
replies), then every queued reply is read from the outbox and settled as sent (one transaction
each, as the sender does once Telegram confirms). Only the Bot API calls are left out: at
~170 updates/s through the real channel (benchmarks/README.md) 100,000 updates would take
10 minutes of HTTP on 2 cores; the HTTP side holds no per-user state.

Users take turns in rounds, so every update loads its user from the database. One user in five
is a regular who acts six times a round, the others once: of 5,000 users and 100,000 updates,
1,000 walk 60 updates (more than two whole cycles) and 4,000 walk 10. Each does onboarding (3
button taps), then answers (tapped, typed as a digit or as a word, one per step), a typed note
before about half of them, the summary's "next cycle" button, and now and then /where, /help or
/progress.
RSS is read from /proc/self/statm after the first round's first pass (every user's /start:
the start figure), then every --every updates; the backlog is counted from the inbox and
outbox tables at the end.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
from array import array
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bot.channels.telegram.commands import TELEGRAM_MESSAGES  # noqa: E402
from bot.channels.telegram.translate import CHANNEL, inbox_items, read_update  # noqa: E402
from bot.definitions.checked import load_content  # noqa: E402
from bot.engine.engine import Engine  # noqa: E402
from bot.engine.messages import REQUIRED_MESSAGES  # noqa: E402
from bot.storage.inbox import SQLiteInbox  # noqa: E402
from bot.storage.reply_outbox import SQLiteReplyOutbox, queue_each_turn  # noqa: E402
from bot.storage.sqlite_store import SQLiteStore  # noqa: E402
from bot.wiring import engine_parts  # noqa: E402

USERNAME = "ccbot_soak_bot"
WORDS = {1: "not yet", 2: "developing", 3: "established", 4: "embedded"}
LABELS = {1: "Not yet", 2: "Developing", 3: "Established", 4: "Embedded"}
ASIDES = ("/where", "/help", "/progress")
REGULAR_EVERY = 5  # one user in five is a regular
REGULAR_TURNS = 6  # and acts this many times a round


def rss_mb() -> float:
    """Current resident set size in MB (Linux)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


class Person:
    """One simulated user: what they see last, and what they do next."""

    __slots__ = ("buttons", "chat", "noted", "step")

    def __init__(self, chat: int) -> None:
        self.chat = chat
        self.step = 0
        self.noted = False
        # Sized like a question's keyboard from the start: the simulation's own memory per
        # person then does not grow as people reach their first question (measured: it did,
        # by about 3 MB over 5,000 people, which is not the bot's).
        self.buttons: dict[str, str] = {f"{i} placeholder": f"t{10 ** 12 + i}:level.{i}"
                                        for i in range(5)}

    def next_update(self, update_id: int) -> dict[str, Any]:
        """The update this person sends now, as Telegram would deliver it."""
        self.step += 1
        if self.step == 1:
            return self.text(update_id, "/start")
        for label in self.buttons:
            if label in ("Yes, I agree", "Frontline staff") or label.startswith("Next cycle"):
                return self.tap(update_id, label)
        if self.step % 17 == 0:
            return self.text(update_id, ASIDES[self.step % len(ASIDES)])
        if "Developing" in self.buttons:
            if self.step > 4 and (self.chat + self.step) % 4 == 1 and not self.noted:
                # The note the last prompt offered; the question comes back after it.
                self.noted = True
                return self.text(update_id, f"note {self.step} from {self.chat}: what I'll "
                                            "try next")
            self.noted = False
            level = (self.chat + self.step) % 4 + 1
            how = (self.chat + self.step) % 3
            if how == 0:
                return self.tap(update_id, LABELS[level])
            return self.text(update_id, str(level) if how == 1 else WORDS[level])
        # Anything else (e.g. a summary offering other strands): carry on with the cycle.
        return self.text(update_id, "/cycle")

    def sender(self) -> dict[str, Any]:
        return {"id": self.chat, "is_bot": False, "first_name": "Soak", "language_code": "en"}

    def text(self, update_id: int, text: str) -> dict[str, Any]:
        return {"update_id": update_id, "message": {
            "message_id": update_id, "date": 0, "text": text, "from": self.sender(),
            "chat": {"id": self.chat, "type": "private"}}}

    def tap(self, update_id: int, label: str) -> dict[str, Any]:
        return {"update_id": update_id, "callback_query": {
            "id": str(update_id), "from": self.sender(), "data": self.buttons[label],
            "chat_instance": "soak", "message": {
                "message_id": update_id, "date": 0, "text": "the question",
                "chat": {"id": self.chat, "type": "private"}}}}


def schedule(users: int, updates: int) -> list[int]:
    """Who acts for each update, by index: rounds of everyone once, then the regulars."""
    regulars = list(range(0, users, REGULAR_EVERY))
    order: list[int] = []
    while len(order) < updates:
        order.extend(range(users))
        for _ in range(REGULAR_TURNS - 1):
            order.extend(regulars)
    return order[:updates]


def run(users: int, updates: int, every: int, db: Path) -> dict[str, Any]:
    content = load_content(PROJECT / "content", PROJECT / "dialogues",
                           REQUIRED_MESSAGES + TELEGRAM_MESSAGES)
    store = queue_each_turn(SQLiteStore(db))
    parts = engine_parts(store, USERNAME)
    engine = Engine(content, store, features=parts.features, roles=parts.roles)
    inbox, outbox = SQLiteInbox(store), SQLiteReplyOutbox(store, CHANNEL)
    people = [Person(900_000_000 + i) for i in range(users)]
    order = schedule(users, updates)
    replies_sent = 0
    # Allocated in full now, so that keeping the timings does not show as growth in RSS.
    latencies = array("d", bytes(8 * updates))

    def one(person: Person, update_id: int) -> None:
        nonlocal replies_sent
        started = time.perf_counter()
        item, = inbox.add(inbox_items([person.next_update(update_id)]))
        event = read_update(item.update, USERNAME).event
        assert event is not None
        engine.handle(event)
        for queued in outbox.pending(item.chat):
            if queued.reply.choices:
                person.buttons = {c.label: c.id for c in queued.reply.choices}
            outbox.sent(queued.id)
            replies_sent += 1
        latencies[update_id - 1] = time.perf_counter() - started

    # Warm-up: every user's first update (onboarding starts), so the start figure already
    # holds the simulation's own per-user objects and SQLite's page cache is filled.
    update_id = 1
    for person in people:
        one(person, update_id)
        update_id += 1
    gc.collect()
    samples = [(update_id - 1, rss_mb())]
    cpu0, wall0 = time.process_time(), time.perf_counter()
    while update_id <= updates:
        one(people[order[update_id - 1]], update_id)
        if update_id % every == 0:
            samples.append((update_id, rss_mb()))
        update_id += 1
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    handled = updates - users
    backlog = {
        "inbox": store.query("SELECT COUNT(*) FROM inbox")[0][0],
        "outbox": store.query("SELECT COUNT(*) FROM reply_outbox WHERE status = 'pending'")[0][0],
        "outbox_failed": store.query("SELECT COUNT(*) FROM reply_outbox WHERE status != 'pending'"
                                     )[0][0],
    }
    figures = {
        "answers": store.query("SELECT COUNT(*) FROM answers")[0][0],
        "notes": store.query("SELECT COUNT(*) FROM answers WHERE note IS NOT NULL")[0][0],
        "processed": store.query("SELECT COUNT(*) FROM processed_updates")[0][0],
        "cycles": store.query(
            "SELECT COUNT(*) FROM (SELECT 1 FROM answers WHERE dialogue = 'cycle' AND level IS"
            " NOT NULL GROUP BY user_key, cycle HAVING COUNT(DISTINCT question) >= 12)")[0][0],
    }
    store.close()
    timed = sorted(latencies[users:updates])
    return {"samples": samples, "wall": wall, "cpu": cpu, "handled": handled,
            "replies": replies_sent, "backlog": backlog, "figures": figures,
            "p50": timed[len(timed) // 2], "p99": timed[int(len(timed) * 0.99)],
            "mean": statistics.fmean(timed), "db_mb": db.stat().st_size / 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--updates", type=int, default=100_000)
    parser.add_argument("--every", type=int, default=10_000, help="RSS sample interval")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        r = run(args.users, args.updates, args.every, Path(tmp) / "soak.db")
    start, end = r["samples"][0][1], r["samples"][-1][1]
    middle = min(r["samples"], key=lambda s: abs(s[0] - args.updates // 2))[1]
    print("| updates handled | RSS MB |")
    print("|---:|---:|")
    for count, mb in r["samples"]:
        print(f"| {count:,} | {mb:.1f} |")
    print(f"\nRSS start {start:.1f} MB, middle {middle:.1f} MB, end {end:.1f} MB: end vs start "
          f"{(end - start) / start * 100:+.1f} % (target within 10 %)")
    print(f"backlog at the end: inbox {r['backlog']['inbox']}, reply outbox "
          f"{r['backlog']['outbox']} (target 0 and 0); not sent: "
          f"{r['backlog']['outbox_failed']}")
    print(f"{r['handled']:,} updates after the warm-up in {r['wall']:.1f} s: "
          f"{r['handled'] / r['wall']:,.0f} updates/s, {r['replies']:,} replies settled; "
          f"CPU {r['cpu'] / r['handled'] * 1e6:.0f} µs per update; per update p50 "
          f"{r['p50'] * 1e3:.2f} ms, p99 {r['p99'] * 1e3:.2f} ms")
    f = r["figures"]
    print(f"stored: {f['answers']:,} answers ({f['notes']:,} with a note), {f['cycles']:,} "
          f"cycles completed, {f['processed']:,} update ids; database {r['db_mb']:.0f} MB")


if __name__ == "__main__":
    main()
