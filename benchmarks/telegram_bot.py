"""Benchmark: `ccbot run` against the fake Bot API with 200 users, beside a minimal PTB echo bot.

Run: .venv/bin/python benchmarks/telegram_bot.py [--users 200] [--cap 60]

Every bot is a real subprocess; the fake Bot API and the simulated users live in this process.
Each user walks onboarding and one full cycle (21 updates: taps, typed answers, notes) and acts
the moment the bot's question arrives (no thinking time: the bot is saturated, so latencies are
mostly queueing). Scenarios: ccbot at concurrency 16 with 0 and 50 ms added to every API call;
the echo bot (each user sends 27 texts, echoed) at 0 and 50 ms; ccbot on PTB's default HTTP
client (httpx, swapped in by this benchmark only) instead of aiohttp, at 0 ms; ccbot one
update at a time (concurrency 1) at 50 ms with 10 users; one user alone at 50 ms (unloaded
latency); and ccbot killed with SIGKILL at 40 % of the traffic and restarted.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT / "tests"))

from fake_bot_api import FakeBotAPI  # noqa: E402

CLOCK_TICK = os.sysconf("SC_CLK_TCK")
STEP = re.compile(r"step (\d+) of 12")
CHOSEN = re.compile(r"\n\n✓ .*$", re.DOTALL)
LABELS = {1: "Not yet", 2: "Developing", 3: "Established", 4: "Embedded"}
WORDS = {1: "not yet", 2: "developing", 3: "established", 4: "embedded"}
# Echo users send this many texts; ccbot users send 3 onboarding, 12 answers and 6 notes.
UPDATES_PER_USER = 27
CCBOT_UPDATES_PER_USER = 21


class BenchFake(FakeBotAPI):
    """The fake Bot API, telling the users the moment a bot message is recorded."""

    listener: Callable[[int, dict[str, Any], float], None] | None = None

    def _store_message(self, method: str, chat_id: Any, params: Any, **extra: Any) -> Any:
        rendered = super()._store_message(method, chat_id, params, **extra)
        if self.listener is not None:
            self.listener(int(chat_id), rendered, time.monotonic())
        return rendered


@dataclass
class User:
    """One simulated person: acts when the bot's question arrives, and times each answer."""

    fake: FakeBotAPI
    uid: int
    echo: bool
    sent_at: float = 0.0
    waiting_first: bool = False
    first: list[float] = field(default_factory=list)
    full: list[float] = field(default_factory=list)
    turn: int = 0
    done: bool = False
    last: tuple[str, Any] = ("", None)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def act(self, do: Callable[[], object]) -> None:
        self.sent_at = time.monotonic()
        self.waiting_first = True
        do()

    def start(self) -> None:
        with self.lock:
            self.act(lambda: self.fake.send_text(self.uid, "/start" if not self.echo else "0"))

    def on_message(self, message: dict[str, Any], at: float) -> None:
        with self.lock:
            if self.waiting_first:
                self.first.append(at - self.sent_at)
                self.waiting_first = False
            if self.echo:
                self.full.append(at - self.sent_at)
                self.turn += 1
                if self.turn >= UPDATES_PER_USER:
                    self.done = True
                else:
                    self.act(lambda: self.fake.send_text(self.uid, f"message {self.turn}"))
                return
            buttons = FakeBotAPI.buttons(message)
            if not buttons or {label for label, _ in buttons} <= {"About this evidence",
                                                                    "I'll try this"}:
                return  # not a question: a prompt's own buttons come before the next question
            seen = (message.get("text") or "", buttons)
            if seen == self.last:
                return  # the same question twice (after a kill): a person ignores it
            self.last = seen
            self.full.append(at - self.sent_at)
            self.next_step(message, dict(buttons))

    def next_step(self, message: dict[str, Any], data: dict[str, str | None]) -> None:
        text, uid, mid = message.get("text") or "", self.uid, message["message_id"]
        if "Cycle 1 done" in text:
            self.done = True
            return
        self.turn += 1
        turn = self.turn

        def tap(label: str) -> Callable[[], object]:
            return lambda: self.fake.press_button(uid, mid, str(data[label]))

        if "Yes, I agree" in data:
            self.act(tap("Yes, I agree"))
        elif "Frontline staff" in data:
            self.act(tap("Frontline staff"))
        else:
            if turn > 3 and (uid + turn) % 2:
                # The note the last prompt offered, then the answer (one chat, in order).
                self.fake.send_text(uid, f"note {turn}: <ok> & fine")
            level, how = (uid + turn) % 4 + 1, (uid + turn) % 3
            if how == 0:
                self.act(tap(LABELS[level]))
            else:
                words = str(level) if how == 1 else WORDS[level]
                self.act(lambda: self.fake.send_text(uid, words))


@dataclass
class Result:
    """One scenario's figures."""

    name: str
    updates: int
    seconds: float
    cpu: float
    first: list[float]
    full: list[float]
    users_done: int
    users: int
    out_of_order: int = 0
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.updates / self.seconds if self.seconds else 0.0

    @property
    def cpu_per_update_ms(self) -> float:
        return 1000 * self.cpu / self.updates if self.updates else 0.0


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICK


def handled(db: Path) -> int:
    try:
        conn = sqlite3.connect(db)
        try:
            return int(conn.execute("SELECT COUNT(*) FROM processed_updates").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def start_ccbot(fake: FakeBotAPI, db: Path, concurrency: int,
                client: str = "aiohttp") -> subprocess.Popen[bytes]:
    # Pacing is lifted (overall and per chat): at Telegram's 25 messages/s, and 1/s per chat
    # past a turn's burst, the bot would idle, and this measures work.
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": fake.token,
           "TELEGRAM_API_BASE_URL": fake.base_url, "CCBOT_DB": str(db),
           "CCBOT_BROADCAST_RATE": "100000", "CCBOT_CHAT_RATE": "100000"}
    command = ([sys.executable, "-m", "bot.cli"] if client == "aiohttp"
               else [sys.executable, __file__, "--ccbot-on-httpx"])
    return subprocess.Popen([*command, "run", "--concurrency", str(concurrency),
                             "--poll-timeout", "10"],
                            env=env, cwd=PROJECT, stderr=subprocess.DEVNULL)


def ccbot_on_httpx(argv: list[str]) -> int:
    """`ccbot` with PTB's default HTTP client in place of ours, to show what the client costs."""
    from telegram.request import BaseRequest, HTTPXRequest

    from bot.channels.telegram import app
    from bot.cli import main

    def httpx_request(pool_size: int, read_timeout: float, write_timeout: float,
                      connect_timeout: float, pool_timeout: float) -> BaseRequest:
        return HTTPXRequest(connection_pool_size=pool_size, read_timeout=read_timeout,
                            write_timeout=write_timeout, connect_timeout=connect_timeout,
                            pool_timeout=pool_timeout)

    # app.py imported make_request by name, so that name is the one to replace.
    setattr(app, "make_request", httpx_request)  # noqa: B010
    return main(argv)


def start_echo(fake: FakeBotAPI) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, __file__, "--echo-bot", fake.token, fake.base_url],
                            cwd=PROJECT, stderr=subprocess.DEVNULL)


def wait_ready(fake: FakeBotAPI, process: subprocess.Popen[bytes], echo: bool) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if fake.calls_to("getUpdates") and (echo or fake.commands_for()):
            time.sleep(0.3)
            return
        if process.poll() is not None:
            raise RuntimeError("the bot exited during start-up")
        time.sleep(0.02)
    raise RuntimeError("the bot did not start within 60 s")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def conversation(fake: FakeBotAPI, uid: int) -> list[str]:
    return [CHOSEN.sub("", m["text"] or m["caption"] or "") for m in fake.messages(uid)]


def in_order(said: list[str]) -> bool:
    """Onboarding, then each question followed by its prompt (offering the note), in order."""
    try:
        assert "Is that OK with you?" in said[0] and "Which best describes" in said[1]
        said, _ = collapse([text for text in said if text != "Note saved."])
        questions = [i for i, text in enumerate(said) if STEP.search(text)]
        assert [int(STEP.findall(said[i])[0]) for i in questions] == list(range(1, 13))
        for n, index in enumerate(questions):
            end = questions[n + 1] if n + 1 < len(questions) else len(said) - 1
            between = said[index + 1:end]
            assert len(between) == 1
            assert "Evidence:" in between[0] and "Type a note if you like" in between[0]
        assert said[-1].startswith("Cycle 1 done")
    except (AssertionError, IndexError):
        return False
    return True


def collapse(said: list[str]) -> tuple[list[str], int]:
    kept: list[str] = []
    for text in said:
        if not kept or kept[-1] != text:
            kept.append(text)
    return kept, len(said) - len(kept)


def scenario(name: str, users: int, latency: float, cap: float, echo: bool = False,
             concurrency: int = 16, kill_at: float | None = None,
             client: str = "aiohttp") -> Result:
    """Run one bot with `users` simulated users; stop at completion or after `cap` seconds."""
    fake = BenchFake()
    with tempfile.TemporaryDirectory() as tmp, fake:
        # A killed bot's connections reset; the fake's server would print each one.
        setattr(fake._server, "handle_error", lambda request, address: None)  # noqa: B010
        db = Path(tmp) / "bench.db"
        process = start_echo(fake) if echo else start_ccbot(fake, db, concurrency, client)
        wait_ready(fake, process, echo)
        fake.latency = latency
        people = {900_000_001 + i: User(fake, 900_000_001 + i, echo) for i in range(users)}

        def deliver(chat: int, message: dict[str, Any], at: float) -> None:
            person = people.get(chat)
            if person is not None:
                person.on_message(message, at)

        fake.listener = deliver
        cpu_before, started = cpu_seconds(process.pid), time.monotonic()
        cpu_spent = 0.0
        for person in people.values():
            person.start()
        killed = kill_at is not None
        deadline = started + cap
        while time.monotonic() < deadline and not all(p.done for p in people.values()):
            # `killed` is only True with a kill_at.
            if killed and handled(db) >= (kill_at or 0) * users * CCBOT_UPDATES_PER_USER:
                cpu_spent += cpu_seconds(process.pid) - cpu_before
                process.kill()
                process.wait()
                process = start_ccbot(fake, db, concurrency, client)
                cpu_before = cpu_seconds(process.pid)
                killed = False
            time.sleep(0.02)
        finished = time.monotonic()
        cpu_spent += cpu_seconds(process.pid) - cpu_before
        count = (sum(len(p.full) for p in people.values()) if echo else handled(db))
        stop(process)
        fake.listener = None
        result = Result(name, count, finished - started, cpu_spent,
                        [x for p in people.values() for x in p.first],
                        [x for p in people.values() for x in p.full],
                        sum(p.done for p in people.values()), users)
        if not echo:
            calls = sum(1 for c in fake.calls if c[0] not in ("getUpdates", "setMyCommands",
                                                                "deleteWebhook", "getMe"))
            result.notes["calls_per_update"] = calls / count if count else 0.0
            doubled = {}
            out = 0
            for uid, person in people.items():
                if not person.done:
                    continue
                said, repeats = collapse(conversation(fake, uid))
                doubled[uid] = repeats
                out += not in_order(said)
            result.out_of_order = out
            if kill_at is not None:
                delivered = {u["update_id"] for u in fake.sent_updates}
                processed = {r[0] for r in query(db, "SELECT update_id FROM processed_updates")}
                twice = query(db, "SELECT COUNT(*) FROM (SELECT 1 FROM answers GROUP BY user_key,"
                                  " cycle, question HAVING COUNT(*) > 1)")[0][0]
                result.notes.update({"lost": len(delivered - processed), "twice": twice,
                                     "doubled": sum(doubled.values()),
                                     "max_doubled_per_chat": max(doubled.values(), default=0)})
        return result


def echo_bot(token: str, base_url: str) -> None:
    """The floor: PTB's own polling and a handler that echoes every text."""
    from telegram import Update
    from telegram.ext import Application, ContextTypes, MessageHandler, filters

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await update.message.reply_text(update.message.text)

    # 16 updates at a time, like ccbot; with PTB's default of one at a time, the 50 ms run
    # would measure latency, not work.
    app = (Application.builder().token(token).base_url(base_url).concurrent_updates(16)
           .build())
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.run_polling(timeout=10)


def row(result: Result) -> str:
    ms = 1000
    return (f"| {result.name} | {result.users_done}/{result.users} | {result.updates:,} | "
            f"{result.seconds:.1f} | {result.rate:,.0f} | {percentile(result.first, .5) * ms:.0f}"
            f" | {percentile(result.first, .95) * ms:.0f} | {percentile(result.full, .5) * ms:.0f}"
            f" | {percentile(result.full, .95) * ms:.0f} | {result.cpu_per_update_ms:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--cap", type=float, default=120.0,
                        help="seconds after which a scenario stops, finished or not")
    parser.add_argument("--echo-bot", nargs=2, metavar=("TOKEN", "BASE_URL"),
                        help=argparse.SUPPRESS)
    if sys.argv[1:2] == ["--ccbot-on-httpx"]:
        sys.exit(ccbot_on_httpx(sys.argv[2:]))
    args = parser.parse_args()
    if args.echo_bot:
        echo_bot(*args.echo_bot)
        return
    users, cap = args.users, args.cap
    print(f"{users} users, about {CCBOT_UPDATES_PER_USER} updates each to ccbot and "
          f"{UPDATES_PER_USER} to the echo bot; cap {cap:.0f} s per scenario",
          flush=True)
    results = []
    few = min(users, 10)
    for spec in (
        dict(name="ccbot, concurrency 16, 0 ms", latency=0.0),
        dict(name="echo bot, 0 ms", latency=0.0, echo=True),
        # The same bot on PTB's default HTTP client, to show what the client costs.
        dict(name="ccbot with httpx, concurrency 16, 0 ms", latency=0.0, client="httpx"),
        dict(name="ccbot, concurrency 16, 50 ms", latency=0.05),
        dict(name="echo bot, 50 ms", latency=0.05, echo=True),
        # One at a time is slow: fewer users, each doing the whole cycle, so the mix of
        # updates (taps, typed answers, notes) is the same as above.
        dict(name="ccbot, concurrency 1, 50 ms", latency=0.05, concurrency=1, users=few),
        dict(name="ccbot, 1 user, 50 ms (unloaded)", latency=0.05, users=1),
        dict(name="echo bot, 1 user, 50 ms (unloaded)", latency=0.05, echo=True, users=1),
        dict(name="ccbot, kill -9 at 40 %, 0 ms", latency=0.0, kill_at=0.4),
    ):
        options: dict[str, Any] = {"cap": cap, "users": users, **spec}
        result = scenario(**options)
        results.append(result)
        print(row(result), flush=True)
    by = {r.name: r for r in results}
    print("\n| scenario | users done | updates | s | updates/s | first reply p50 ms | p95 |"
          " full answer p50 ms | p95 | CPU ms/update |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for result in results:
        print(row(result))
    c0, e0 = by["ccbot, concurrency 16, 0 ms"], by["echo bot, 0 ms"]
    c50, e50 = by["ccbot, concurrency 16, 50 ms"], by["echo bot, 50 ms"]
    one = by["ccbot, concurrency 1, 50 ms"]
    kill = by["ccbot, kill -9 at 40 %, 0 ms"]
    httpx = by["ccbot with httpx, concurrency 16, 0 ms"]
    calls = c0.notes.get("calls_per_update")
    print()
    print(f"- CPU per update vs echo: {c0.cpu_per_update_ms / e0.cpu_per_update_ms:.2f}x at 0 ms,"
          f" {c50.cpu_per_update_ms / e50.cpu_per_update_ms:.2f}x at 50 ms (target <= 1.5x)")
    print(f"- the same with PTB's default client (httpx): "
          f"{httpx.cpu_per_update_ms / e0.cpu_per_update_ms:.2f}x at 0 ms")
    if calls:
        per_call = c0.cpu / (c0.updates * calls) / (e0.cpu / e0.updates)
        print(f"- Bot API calls per update: {calls:.2f} (echo: 1); CPU per API call vs echo:"
              f" {per_call:.2f}x")
    print(f"- throughput at 50 ms, concurrency 16 vs 1: {c50.rate / one.rate:.1f}x"
          " (target >= 10x)")
    print(f"- chats with replies out of order: {sum(r.out_of_order for r in results)} of "
          f"{sum(r.users_done for r in results if not r.name.startswith('echo'))} (target 0)")
    notes = kill.notes
    print(f"- kill -9: updates lost {notes.get('lost')}, handled twice {notes.get('twice')},"
          f" replies doubled {notes.get('doubled')} (at most {notes.get('max_doubled_per_chat')}"
          " per chat)")


if __name__ == "__main__":
    main()
