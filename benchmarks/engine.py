"""Benchmark: the engine with the SQLite store handling full cycles, at 1k and 100k stored users.

Run: .venv/bin/python benchmarks/engine.py [--users 1000 100000] [--active 300]
Each population runs in its own subprocess so RSS figures are not mixed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bot.definitions.checked import load_content  # noqa: E402
from bot.engine.core.events import Event, UserKey  # noqa: E402
from bot.engine.engine import Engine  # noqa: E402
from bot.engine.messages import REQUIRED_MESSAGES  # noqa: E402
from bot.storage.sqlite_store import SQLiteStore  # noqa: E402


def rss_mb() -> float:
    """Current resident set size in MB (Linux)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def populate(store: SQLiteStore, users: int) -> None:
    """Stored users mid-cycle, each with one finished cycle of 12 answers, in one transaction."""
    subs = ["outcomes.insight", "outcomes.relationships", "outcomes.design", "alignment.risk",
            "alignment.incentives", "alignment.resources", "delivery.innovation",
            "delivery.agility", "delivery.leadership", "accountability.evidence",
            "accountability.engagement", "accountability.transparency"]
    now = time.time()
    with store.transaction() as conn:
        conn.executemany(
            "INSERT INTO users (key, channel, external_id, locale, consent, persona, active, turn,"
            " created_at, last_seen) VALUES (?, 'bench', ?, 'en', 1, 'frontline', 'cycle', 30,"
            " ?, ?)", ((f"bench:stored{i}", f"stored{i}", now, now) for i in range(users)))
        conn.executemany(
            "INSERT INTO dialogue_states (user_key, dialogue, state, cycle, pass_start,"
            " updated_at) VALUES (?, 'cycle', ?, 2, 'outcomes.insight', ?)",
            ((f"bench:stored{i}", subs[i % 12], now) for i in range(users)))
        conn.executemany(
            "INSERT INTO answers (user_key, dialogue, cycle, question, level, note, at)"
            " VALUES (?, 'cycle', 1, ?, ?, NULL, ?)",
            ((f"bench:stored{i}", sub, 1 + (i + j) % 4, now - 1000 + j)
             for i in range(users) for j, sub in enumerate(subs)))


def script() -> list[str]:
    """One user's events: onboarding, twelve answers (one tap per step), a note after every
    third, then the summary's button."""
    events = ["/start", "@agree", "@frontline"]
    for step in range(12):
        events.append(str(1 + step % 4))
        if step % 3 == 0:
            events.append("a short private note")
    events.append("@next")
    return events


def run_population(users: int, active: int) -> dict[str, float]:
    """Measure one population in this process."""
    content = load_content(PROJECT / "content", PROJECT / "dialogues", REQUIRED_MESSAGES)
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(Path(tmp) / "bench.db")
        populate(store, users)
        engine = Engine(content, store)
        # Warm up caches and code paths with a few users not measured.
        for i in range(5):
            drive(engine, UserKey("bench", f"warm{i}"), [], 10_000_000 * (i + 1))
        rss_before = rss_mb()
        latencies: list[float] = []
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for i in range(active):
            drive(engine, UserKey("bench", f"active{i}"), latencies, 1 + i * 1000)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        rss_after = rss_mb()
        store.close()
    latencies.sort()
    n = len(latencies)
    return {
        "stored_users": users, "updates": n, "updates_per_s": n / wall,
        "p50_ms": latencies[n // 2] * 1e3, "p99_ms": latencies[int(n * 0.99)] * 1e3,
        "mean_ms": statistics.fmean(latencies) * 1e3, "cpu_us_per_update": cpu / n * 1e6,
        "rss_mb": rss_after, "rss_growth_during_run_mb": rss_after - rss_before,
    }


def drive(engine: Engine, user: UserKey, latencies: list[float], first_id: int) -> None:
    """Play the script for one user, timing each handled update."""
    update_id = first_id
    last_choices: dict[str, str] = {}
    for item in script():
        if item.startswith("@"):
            wanted = item[1:]
            choice = next(cid for cid in last_choices.values() if cid.endswith(":" + wanted))
            event = Event(user, choice=choice, update_id=update_id)
        else:
            event = Event(user, text=item, update_id=update_id)
        update_id += 1
        start = time.perf_counter()
        response = engine.handle(event)
        latencies.append(time.perf_counter() - start)
        for reply in response.replies:
            if reply.choices:
                last_choices = {c.label: c.id for c in reply.choices}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--active", type=int, default=300, help="users doing a full cycle")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(run_population(args.child, args.active)))
        return
    results = []
    for users in args.users:
        out = subprocess.run([sys.executable, __file__, "--child", str(users), "--active",
                              str(args.active)], capture_output=True, text=True, check=True)
        results.append(json.loads(out.stdout))
    cols = ["stored_users", "updates", "updates_per_s", "p50_ms", "p99_ms", "cpu_us_per_update",
            "rss_mb"]
    print(" | ".join(f"{c:>17}" for c in cols))
    for r in results:
        print(" | ".join(f"{r[c]:>17.3f}" if isinstance(r[c], float) else f"{r[c]:>17}"
                         for c in cols))
    if len(results) >= 2:
        small, big = results[0], results[-1]
        print(f"\np99 at {big['stored_users']:,} users: {big['p99_ms']:.3f} ms (target < 1 ms)")
        print(f"CPU per update, {big['stored_users']:,} vs {small['stored_users']:,}: "
              f"{big['cpu_us_per_update'] / small['cpu_us_per_update']:.2f}x (target <= 1.5x)")
        print(f"RSS growth between them: {big['rss_mb'] - small['rss_mb']:.1f} MB "
              "(target < 30 MB)")


if __name__ == "__main__":
    main()
