"""Benchmark: finding the follow-ups due, among 100,000 users with 50,000 open commitments.

Run: .venv/bin/python benchmarks/practice.py [--users 100000] [--open 50000] [--ticks 50]
Target (issue 14): under 50 ms per tick, and no growth of the bot's memory with the number of
commitments: a tick reads the due rows through the partial index on `due_at`, never the table.
Each tick is what Periodic.followups runs: the due query, then claiming and queueing each
follow-up with its message in one commit (about 20 fall due per tick, a minute's worth).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bot.definitions.checked import load_content  # noqa: E402
from bot.engine.features.practice.followups import BATCH, send_due  # noqa: E402
from bot.engine.messages import REQUIRED_MESSAGES  # noqa: E402
from bot.storage.practice_store import SQLitePractice, install_practice  # noqa: E402
from bot.storage.reply_outbox import queue_each_turn  # noqa: E402
from bot.storage.sqlite_store import SQLiteStore  # noqa: E402

TARGET_MS = 50.0
NOW = 1_750_000_000.0
TICK = 60.0
WEEK = 7 * 86400.0


def seeded(path: Path, users: int, open_ones: int, answered: int,
           rng: random.Random) -> tuple[SQLiteStore, SQLitePractice]:
    """A database with `users` consenting users, `open_ones` open commitments due over the
    next week and `answered` old ones (no longer due)."""
    store = SQLiteStore(path)
    practice = install_practice(store)
    queue_each_turn(store)
    with store.transaction() as conn:
        conn.executemany(
            "INSERT INTO users (key, channel, external_id, locale, consent, turn, created_at,"
            " last_seen) VALUES (?, 'telegram', ?, 'en', 1, 1, ?, ?)",
            ((f"telegram:{n}", str(n), NOW, NOW) for n in range(users)))
        rows = []
        for n in range(open_ones + answered):
            user = f"telegram:{rng.randrange(users)}"
            due = NOW + rng.uniform(0, WEEK) if n < open_ones else None
            status = "open" if n < open_ones else "helped"
            rows.append((user, "outcomes.insight", "outcomes", 2, "frontline", NOW - WEEK,
                         due, status))
        conn.executemany("INSERT INTO commitments (user_key, question, strand, level, persona,"
                         " made_at, due_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    store.db.execute("ANALYZE")
    return store, practice


def measure(users: int, open_ones: int, ticks: int) -> dict[str, float]:
    """Median and max ms per tick, follow-ups sent, and peak Python memory of a tick."""
    content = load_content(PROJECT / "content", PROJECT / "dialogues", REQUIRED_MESSAGES)
    with tempfile.TemporaryDirectory() as folder:
        store, practice = seeded(Path(folder) / "bench.db", users, open_ones, open_ones,
                                 random.Random(14))
        times, sent, peak = [], 0, 0
        for tick in range(1, ticks + 1):
            now = NOW + tick * TICK
            tracemalloc.start()
            start = time.perf_counter()
            sent += len(send_due(practice, store, content, now))
            times.append((time.perf_counter() - start) * 1000)
            peak = max(peak, tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()
        start = time.perf_counter()
        practice.due_followups(NOW + ticks * TICK, BATCH)  # nothing left due: the query alone
        empty = (time.perf_counter() - start) * 1000
        plan = " ".join(str(r[3]) for r in store.query(
            "EXPLAIN QUERY PLAN SELECT id FROM commitments INDEXED BY commitments_due"
            " WHERE due_at IS NOT NULL AND due_at <= ? ORDER BY due_at LIMIT 500", (NOW,)))
        store.close()
    return {"median": statistics.median(times), "max": max(times), "sent": sent,
            "peak_kib": peak / 1024, "empty_ms": empty, "plan": plan}  # type: ignore[dict-item]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--open", type=int, default=50_000)
    parser.add_argument("--ticks", type=int, default=50)
    args = parser.parse_args()
    ok = True
    for open_ones in (args.open // 10, args.open):
        found = measure(args.users, open_ones, args.ticks)
        print(f"{args.users:,} users, {open_ones:,} open (+{open_ones:,} answered): "
              f"median {found['median']:.2f} ms, max {found['max']:.2f} ms per tick, "
              f"{found['sent']:.0f} follow-ups sent in {args.ticks} ticks, "
              f"peak Python memory of a tick {found['peak_kib']:.0f} KiB, "
              f"query with nothing due {found['empty_ms']:.3f} ms; plan: {found['plan']}")
        ok = ok and found["median"] < TARGET_MS
    print("OK" if ok else f"SLOWER than {TARGET_MS} ms")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
