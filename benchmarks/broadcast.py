"""Benchmark: broadcasts by the real `ccbot run` process against the fake Bot API.

Run: .venv/bin/python benchmarks/broadcast.py [--scenario 2000:200 --scenario 300:25]

Each scenario (recipients:configured rate) gets a fresh database with that many consented users
in one team. The bot is started and left to settle (menus set, first schedule tick); then a
typed-text broadcast to the team is written to the database, as `ccbot broadcast` does, and the
running bot picks it up. The fake answers at once (0 ms latency) and lives in this process.

- achieved rate: (copies - 1) / (last copy's arrival - first copy's arrival), from the fake's
  call times, as a share of the configured rate (target >= 90 %);
- most in any 1 s: the pacing check (configured rate + 1 at most);
- CPU per message: the bot's user + system CPU (/proc/<pid>/stat) from just before the
  broadcast is written until it is done, divided by the copies;
- database bytes per recipient: growth of the file from before the broadcast to after it is
  done, both after a WAL checkpoint (TRUNCATE), divided by the recipients.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(PROJECT / "tests"))

from broadcast_seed import Seeded, most_in_a_second  # noqa: E402
from fake_bot_api import FakeBotAPI  # noqa: E402

CLOCK_TICK = os.sysconf("SC_CLK_TCK")
FIRST_ID = 900_000_000


@dataclass
class Result:
    recipients: int
    rate: float
    seconds: float
    achieved: float
    most_in_a_second: int
    cpu_ms: float
    db_bytes: float

    @property
    def share(self) -> float:
        return self.achieved / self.rate


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICK


def checkpointed_size(db: Path) -> int:
    conn = sqlite3.connect(db, timeout=30)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return db.stat().st_size


def scenario(recipients: int, rate: float) -> Result:
    with tempfile.TemporaryDirectory() as tmp, FakeBotAPI() as fake:
        db = Path(tmp) / "bench.db"
        people = [FIRST_ID + i for i in range(recipients)]
        seed = Seeded(db)
        seed.users(people)
        seed.team("bench", people)
        seed.close()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "CCBOT_"))}
        env.update({"TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_API_BASE_URL": fake.base_url,
                    "CCBOT_DB": str(db)})
        bot = subprocess.Popen([sys.executable, "-m", "bot.cli", "run", "--broadcast-rate",
                                str(rate), "--log-level", "WARNING"], env=env, cwd=PROJECT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            if not fake.wait_for(lambda: bool(fake.calls_to("getUpdates")), 60):
                raise RuntimeError("the bot did not start")
            time.sleep(1.0)  # the first schedule tick and menu sweep are over
            before = checkpointed_size(db)
            cpu_before = cpu_seconds(bot.pid)
            seed = Seeded(db)
            bid = seed.broadcast("bench", "A benchmark message to the whole team.")
            seed.close()

            def finished() -> bool:
                conn = sqlite3.connect(db, timeout=30)
                try:
                    row = conn.execute("SELECT status FROM broadcasts WHERE id = ?",
                                       (bid,)).fetchone()
                finally:
                    conn.close()
                return bool(row and row[0] == "done")

            if not fake.wait_for(finished, recipients / rate * 3 + 60):
                raise RuntimeError("the broadcast did not finish")
            cpu = cpu_seconds(bot.pid) - cpu_before
        finally:
            bot.terminate()
            bot.wait(30)
        times = sorted(at for method, _, at in fake.calls if method == "sendMessage")
        after = checkpointed_size(db)
        delivered = sum(1 for p in people if fake.messages(p))
        if delivered != recipients or len(times) != recipients:
            raise RuntimeError(f"{delivered} of {recipients} delivered in {len(times)} calls")
        seconds = times[-1] - times[0]
        return Result(recipients, rate, seconds, (len(times) - 1) / seconds,
                      most_in_a_second(times), cpu / recipients * 1000,
                      (after - before) / recipients)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", action="append", metavar="RECIPIENTS:RATE",
                        help="recipients and configured messages/s (default 2000:200 and "
                        "300:25)")
    args = parser.parse_args()
    scenarios = [tuple(map(float, s.split(":"))) for s in args.scenario or ["2000:200", "300:25"]]
    print("| recipients | configured msg/s | achieved msg/s | share | most in any 1 s | "
          "s | CPU ms/msg | DB bytes/recipient |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for recipients, rate in scenarios:
        r = scenario(int(recipients), rate)
        print(f"| {r.recipients:,} | {r.rate:g} | {r.achieved:.1f} | {r.share:.1%} | "
              f"{r.most_in_a_second} | {r.seconds:.1f} | {r.cpu_ms:.2f} | {r.db_bytes:.0f} |",
              flush=True)


if __name__ == "__main__":
    main()
