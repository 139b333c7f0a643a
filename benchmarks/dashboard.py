"""Benchmark: the dashboard's overview and a team page for 10,000 users x 10 cycles, 200 teams.

Run: .venv/bin/python benchmarks/dashboard.py [--users 10000] [--cycles 10] [--teams 200]
     [--repeats 10]
Target (issue 15): server time under 300 ms for each page.

Each request goes through the real aiohttp application (routes, session check, rights,
release module, Jinja2, SVG charts) with an in-process client on the same loop; the time is
from sending the request to the last byte of the answer.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from aiohttp.test_utils import TestClient, TestServer  # noqa: E402

from bot.channels import http_server  # noqa: E402
from bot.dashboard.app import routes, site_of  # noqa: E402
from bot.definitions.checked import load_content  # noqa: E402
from bot.engine.core.events import UserKey  # noqa: E402
from bot.engine.core.records import Commit  # noqa: E402
from bot.engine.features.dashboard.feature import token_hash  # noqa: E402
from bot.engine.messages import REQUIRED_MESSAGES  # noqa: E402
from bot.engine.ports.dashboard import IssueLogin  # noqa: E402
from bot.engine.ports.directory import commit_ops  # noqa: E402
from bot.engine.ports.directory_ops import CreateTeam, NewInvite  # noqa: E402
from bot.engine.release.rounds import settle  # noqa: E402
from bot.engine.release.rules import Rules  # noqa: E402
from bot.storage.directory_store import SQLiteDirectory  # noqa: E402
from bot.storage.sqlite_store import SQLiteStore  # noqa: E402

DAY = 86_400.0
TARGET_MS = 300.0
ADMIN = "telegram:1"


def populate(store: SQLiteStore, users: int, cycles: int, teams: int, now: float) -> None:
    """Users onboarded over 20 weeks, `cycles` full cycles each (the last one left part-way by
    some), reflections and tried actions, in `teams` teams of equal size; rounds closed."""
    content = load_content(PROJECT / "content", PROJECT / "dialogues", REQUIRED_MESSAGES)
    subs = [s.id for s in content.sub_components]
    quick = [q for q in content.questions if q.startswith("quick.")]
    keys = [f"telegram:{100_000 + i}" for i in range(users)]
    start = now - 140 * DAY
    commit_ops(store, [CreateTeam(f"team-{t:03}", None, start - DAY,
                                  NewInvite(f"in-{t}", "team", None, None, None, start - DAY))
                       for t in range(teams)])
    ids = [r[0] for r in store.query("SELECT id FROM teams ORDER BY id")]
    with store.transaction() as conn:
        conn.execute("INSERT INTO users (key, channel, external_id, locale, consent, created_at,"
                     " last_seen) VALUES (?, 'telegram', '1', 'en', 1, ?, ?)",
                     (ADMIN, start - DAY, now))
        conn.executemany(
            "INSERT INTO users (key, channel, external_id, locale, consent, persona, active, turn,"
            " created_at, last_seen) VALUES (?, 'telegram', ?, 'en', 1, 'frontline', 'cycle',"
            " 30, ?, ?)", ((key, key.split(":")[1], start + (i % 100) * DAY, now - (i % 30) * DAY)
                           for i, key in enumerate(keys)))
        conn.executemany(
            "INSERT INTO team_members (team_id, user_key, role, joined_at) VALUES (?, ?, ?, ?)",
            ((ids[i % teams], key, "manager" if i < teams else "member", start)
             for i, key in enumerate(keys)))

        def answers() -> Iterator[tuple[object, ...]]:
            for i, key in enumerate(keys):
                joined = start + (i % 100) * DAY
                span = (now - joined) / (cycles + 1)
                for cycle in range(1, cycles + 1):
                    steps = subs if cycle < cycles else subs[:1 + i % len(subs)]
                    for j, sub in enumerate(steps):
                        yield (key, "cycle", cycle, sub, 1 + (i + j + cycle) % 4,
                               f"private note {i}", joined + cycle * span + j * 60)
                if i % 3 == 0:
                    for j, q in enumerate(quick):
                        yield (key, "reflect", 1, q, 1 + (i + j) % 4, None,
                               joined + span / 2 + j * 60)
        conn.executemany("INSERT INTO answers (user_key, dialogue, cycle, question, level, note,"
                         " at) VALUES (?, ?, ?, ?, ?, ?, ?)", answers())
        conn.executemany(
            "INSERT INTO commitments (user_key, question, strand, level, made_at, status,"
            " answered_at) VALUES (?, ?, ?, 2, ?, ?, ?)",
            ((key, subs[i % 12], subs[i % 12].split(".")[0], now - (i % 90) * DAY - 3 * DAY,
              "helped" if i % 2 else "mixed", now - (i % 90) * DAY)
             for i, key in enumerate(keys) if i % 4 == 0))
    directory = site_directory(store)
    for team_id in ids:
        team = directory.team(team_id)
        assert team is not None
        commit_ops(store, settle(directory, team.id, team.created_at, now, Rules()).ops)


def site_directory(store: SQLiteStore) -> SQLiteDirectory:
    from bot.storage.directory_store import install

    return install(store)


async def measure(store: SQLiteStore, repeats: int, now: float) -> list[tuple[str, list[float]]]:
    from bot.wiring import engine_parts

    content = load_content(PROJECT / "content", PROJECT / "dialogues", REQUIRED_MESSAGES)
    site = site_of(lambda: content, store, engine_parts(store))
    client = TestClient(TestServer(http_server.application(routes(site))))
    await client.start_server()
    try:
        results = []

        async def timed(path: str) -> float:
            began = time.perf_counter()
            async with client.get(path) as response:
                body = await response.text()
                assert response.status == 200, (path, response.status)
                assert "Log out" in body, (path, body[:300])
                if os.environ.get("BENCH_SHOW"):
                    print(path, len(body), body[body.find("<main"):][:3000])
            return (time.perf_counter() - began) * 1000

        async def sign_in(user: str) -> None:
            client.session.cookie_jar.clear()
            token = f"bench-{user}-{time.time()}"
            store.commit(Commit(UserKey("telegram", "x"), None, None,
                                ops=(IssueLogin(token_hash(token), user, now, now + 600),)))
            # Not following the redirect: the first view of each page is measured below.
            async with client.post("/login", data={"token": token},
                                   allow_redirects=False) as response:
                assert response.status == 303

        async def series(name: str, path: str) -> None:
            cold = await timed(path)
            warm = [await timed(path) for _ in range(repeats)]
            results.append((f"{name}, first view", [cold]))
            results.append((f"{name}, again", warm))

        await sign_in(ADMIN)
        team_ids = [r[0] for r in store.query("SELECT id FROM teams ORDER BY id")]
        # A new process pays once for imports, matplotlib's font cache and compiling the
        # templates; measured apart, on a team page nobody else looks at below.
        results.append(("process warm-up: its first page (team page)",
                        [await timed(f"/teams/{team_ids[-1]}")]))
        await series("overview (coordinator)", "/")
        await series("team page (coordinator)", f"/teams/{team_ids[0]}")
        await series("teams list, 20 teams (coordinator)", "/teams")
        manager = store.query("SELECT user_key FROM team_members WHERE team_id = ? AND "
                              "role = 'manager'", (team_ids[1],))[0][0]
        await sign_in(manager)
        await series("team page (its manager)", f"/teams/{team_ids[1]}")
        return results
    finally:
        await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--cycles", type=int, default=10)
    parser.add_argument("--teams", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--keep", metavar="FILE", help="seed FILE once and reuse it (the "
                        "overview's first view is then only the first on a fresh copy)")
    args = parser.parse_args()
    os.environ["CCBOT_ADMINS"] = ADMIN.split(":")[1]
    now = time.time()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(args.keep) if args.keep else Path(folder) / "bench.db"
        seeded = path.exists()
        store = SQLiteStore(path)
        from bot.wiring import engine_parts

        engine_parts(store)  # every migration set, before the bulk insert
        began = time.perf_counter()
        if not seeded:
            populate(store, args.users, args.cycles, args.teams, now)
        answers = store.query("SELECT COUNT(*) FROM answers")[0][0]
        print(f"seeded {args.users:,} users, {answers:,} answers, {args.teams} teams in "
              f"{time.perf_counter() - began:.1f} s")
        results = asyncio.run(measure(store, args.repeats, now))
        store.close()
    print("\n| page | requests | median | slowest | target |\n|---|---:|---:|---:|---:|")
    for name, times in results:
        ok = "ok" if statistics.median(times) < TARGET_MS else "OVER"
        print(f"| {name} | {len(times)} | {statistics.median(times):.0f} ms | "
              f"{max(times):.0f} ms | < {TARGET_MS:.0f} ms {ok} |")


if __name__ == "__main__":
    main()
