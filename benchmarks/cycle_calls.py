"""Benchmark: Bot API calls, turns and bot CPU per completed cycle, ccbot beside a plain PTB bot.

Run: .venv/bin/python benchmarks/cycle_calls.py [--users 40] [--think 5]

Both bots are real subprocesses against the in-repo fake Bot API (tests/fake_bot_api.py), in
the same run. The anchor is a plain python-telegram-bot bot: one `ConversationHandler` with a
state per step, the same twelve questions (our content's words) with four level buttons; a tap
is answered, the question edited to show the choice, the prompt sent and the next question
sent (no notes, no storage). ccbot runs as `ccbot run` with its SQLite store.

Every user taps (no typed answers, no notes, so both do the same work): ccbot's onboarding
(consent and role) and twelve levels; the anchor's /start and twelve levels. Two scenarios:

- work: every user taps the moment the next question arrives; pacing lifted in ccbot, overall
  and per chat (as in benchmarks/telegram_bot.py), so the figures are the work, not the
  pacer. API calls (all but getUpdates) and bot CPU are counted over the traffic only, and
  divided by completed cycles.
- latency: every user thinks `--think` seconds before each tap; ccbot with its pacing on
  (25 messages/s overall, a burst of 3 replies per chat, then 1/s). Tap-to-next-question is
  the time from the tap reaching the fake to the next question's message arriving.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT / "tests"))
sys.path.insert(0, str(PROJECT))

from benchmarks.telegram_bot import (  # noqa: E402
    BenchFake,
    cpu_seconds,
    percentile,
    stop,
    wait_ready,
)

LEVELS = ("Not yet", "Developing", "Established", "Embedded")
STEP = re.compile(r"step (\d+) of 12")


@dataclass
class Person:
    """One simulated user: taps a level `think` seconds after each question arrives."""

    fake: BenchFake
    uid: int
    think: float
    turns: int = 0
    done: bool = False
    tapped_at: float = 0.0
    waits: list[float] = field(default_factory=list)
    step: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        with self.lock:
            self.turns += 1
            self.fake.send_text(self.uid, "/start")

    def on_message(self, message: dict[str, Any], at: float) -> None:
        text = message.get("text") or ""
        buttons = dict(BenchFake.buttons(message))
        with self.lock:
            if "Cycle 1 done" in text or "Cycle done" in text:
                self.done = True
                return
            if "Yes, I agree" in buttons:
                self.later(message, "Yes, I agree", buttons)
            elif "Frontline staff" in buttons:
                self.later(message, "Frontline staff", buttons)
            elif "Developing" in buttons:
                found = STEP.search(text)
                step = int(found.group(1)) if found else 0
                if step == self.step:
                    return  # the same question again: a person does not answer it twice
                if self.tapped_at:
                    self.waits.append(at - self.tapped_at)
                self.step = step
                self.later(message, LEVELS[(self.uid + step) % 4], buttons)

    def later(self, message: dict[str, Any], label: str, buttons: dict[str, str | None]) -> None:
        def tap() -> None:
            with self.lock:
                self.turns += 1
                self.tapped_at = time.monotonic()
                self.fake.press_button(self.uid, message["message_id"], str(buttons[label]))

        if self.think:
            threading.Timer(self.think, tap).start()
        else:
            threading.Thread(target=tap).start()


@dataclass
class Outcome:
    """One bot's figures in one scenario."""

    bot: str
    scenario: str
    users: int
    completed: int
    calls: dict[str, int]
    turns: float
    cpu_ms: float
    waits: list[float]

    def row(self) -> str:
        per = sum(self.calls.values()) / max(1, self.completed)
        by = ", ".join(f"{m} {n / max(1, self.completed):.1f}" for m, n in
                       sorted(self.calls.items()))
        p50, p90 = percentile(self.waits, 0.5), percentile(self.waits, 0.9)
        return (f"| {self.bot} | {self.scenario} | {self.completed}/{self.users} | {per:.1f} "
                f"({by}) | {self.turns:.1f} | {self.cpu_ms:.0f} ms | "
                f"{p50 * 1000:.0f} ms | {p90 * 1000:.0f} ms |")


def start_bot(bot: str, fake: BenchFake, db: Path, paced: bool) -> subprocess.Popen[bytes]:
    if bot == "anchor":
        return subprocess.Popen([sys.executable, __file__, "--anchor", fake.token,
                                 fake.base_url], cwd=PROJECT, stderr=subprocess.DEVNULL)
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": fake.token,
           "TELEGRAM_API_BASE_URL": fake.base_url, "CCBOT_DB": str(db)}
    if not paced:
        env["CCBOT_BROADCAST_RATE"] = env["CCBOT_CHAT_RATE"] = "100000"
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "run", "--concurrency", "16",
                             "--poll-timeout", "10"], env=env, cwd=PROJECT,
                            stderr=subprocess.DEVNULL)


def run(bot: str, scenario: str, users: int, think: float, cap: float) -> Outcome:
    fake = BenchFake()
    with tempfile.TemporaryDirectory() as tmp, fake:
        process = start_bot(bot, fake, Path(tmp) / "bench.db", paced=scenario == "latency")
        wait_ready(fake, process, echo=bot == "anchor")
        people = {800_000_001 + i: Person(fake, 800_000_001 + i, think) for i in range(users)}

        def deliver(chat: int, message: dict[str, Any], at: float) -> None:
            person = people.get(chat)
            if person is not None:
                person.on_message(message, at)

        fake.listener = deliver
        calls_before = len(fake.calls)
        cpu_before = cpu_seconds(process.pid)
        for person in people.values():
            person.start()
        fake.wait_for(lambda: all(p.done for p in people.values()), timeout=cap)
        cpu = cpu_seconds(process.pid) - cpu_before
        calls: dict[str, int] = {}
        for method, _, _ in fake.calls[calls_before:]:
            if method != "getUpdates":
                calls[method] = calls.get(method, 0) + 1
        stop(process)
        completed = sum(p.done for p in people.values())
        return Outcome(bot, scenario, users, completed, calls,
                       sum(p.turns for p in people.values()) / max(1, completed),
                       cpu * 1000 / max(1, completed),
                       [w for p in people.values() for w in p.waits])


def anchor_bot(token: str, base_url: str) -> None:
    """The plain PTB bot: a ConversationHandler with one state per question, nothing stored."""
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
    from telegram.ext import (
        Application,
        CallbackQueryHandler,
        CommandHandler,
        ContextTypes,
        ConversationHandler,
    )

    from bot.definitions.checked import load_content
    from bot.engine.core.texts import action_for, titled_question

    content = load_content(PROJECT / "content", PROJECT / "dialogues")
    steps = [s.ask for s in content.dialogues["cycle"].ask_steps if s.ask]
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=str(n))
                                      for n, label in enumerate(LEVELS[:2], 1)],
                                     [InlineKeyboardButton(label, callback_data=str(n))
                                      for n, label in enumerate(LEVELS[2:], 3)]])

    def question(i: int) -> str:
        q = content.questions[steps[i]]
        return f"step {i + 1} of 12\n\n{titled_question(content, q, 'en')}"

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        """Ask the first question."""
        assert update.effective_chat is not None
        await context.bot.send_message(update.effective_chat.id, question(0),
                                       reply_markup=keyboard)
        return 0

    def step(i: int) -> Any:
        async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
            """Mark the answer, send its prompt and the next question."""
            query = update.callback_query
            assert query is not None and query.data is not None and query.message is not None
            await query.answer()
            level = int(query.data)
            await query.edit_message_text(f"{question(i)}\n\n✓ {LEVELS[level - 1]}")
            q = content.questions[steps[i]]
            chat = query.message.chat.id
            await context.bot.send_message(chat, action_for(content, q, level, None, "en") or "")
            if i + 1 == len(steps):
                await context.bot.send_message(chat, "Cycle done.")
                return ConversationHandler.END
            await context.bot.send_message(chat, question(i + 1), reply_markup=keyboard)
            return i + 1

        return answer

    states: dict[object, list[Any]] = {i: [CallbackQueryHandler(step(i))]
                                       for i in range(len(steps))}
    app = Application.builder().token(token).base_url(base_url).build()
    app.add_handler(ConversationHandler(entry_points=[CommandHandler("start", start)],
                                        states=states, fallbacks=[], per_message=False))
    app.run_polling(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--think", type=float, default=5.0)
    parser.add_argument("--cap", type=float, default=600.0)
    parser.add_argument("--anchor", nargs=2, metavar=("TOKEN", "BASE_URL"))
    args = parser.parse_args()
    if args.anchor:
        anchor_bot(*args.anchor)
        return
    print("| bot | scenario | cycles done | API calls per cycle (by method) | turns per cycle "
          "| bot CPU per cycle | tap to next question p50 | p90 |")
    print("|---|---|---:|---|---:|---:|---:|---:|")
    results = []
    for scenario, think in (("work", 0.0), ("latency", args.think)):
        for bot in ("ccbot", "anchor"):
            result = run(bot, scenario, args.users, think, args.cap)
            results.append(result)
            print(result.row(), flush=True)
    work = {r.bot: r for r in results if r.scenario == "work"}
    if work["anchor"].cpu_ms:
        print(f"\nbot CPU per completed cycle, ccbot / anchor: "
              f"{work['ccbot'].cpu_ms / work['anchor'].cpu_ms:.2f}x")


if __name__ == "__main__":
    main()
