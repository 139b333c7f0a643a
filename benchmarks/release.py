"""Benchmark: one /team release with the differencing check against a long ledger.

Run: .venv/bin/python benchmarks/release.py [--repeats 20] [--members 1000] [--rounds 24]
     [--groups 5]
Target (issue 11): a release checked against 24 earlier rounds of 5 overlapping groups, with
1,000 members, under 50 ms. Two answer patterns: everyone answers the whole cycle (the same
respondents for every sub-component, the usual case), and each answer is skipped with
probability 0.2 independently (a different respondent set for every sub-component: twelve
separate audits, the worst case for the check).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bot.definitions.checked import load_content  # noqa: E402
from bot.definitions.model import Content  # noqa: E402
from bot.engine.messages import REQUIRED_MESSAGES  # noqa: E402
from bot.engine.ports.releases import Released, RoundAnswer  # noqa: E402
from bot.engine.release import audit  # noqa: E402
from bot.engine.release.rules import Rules  # noqa: E402
from bot.engine.release.team import TeamRequest, release_team  # noqa: E402

TARGET_MS = 50.0
VIEWER = "telegram:coordinator"


def groups_of(members: int, count: int) -> list[list[str]]:
    """`count` overlapping groups over the members: the whole team, then halves and slices."""
    people = [f"telegram:{n}" for n in range(members)]
    found = [people]
    for g in range(1, count):
        start = (g - 1) * members // (2 * count)
        found.append(people[start:start + members // 2 + g * 7])
    return found[:count]


def round_answers(content: Content, group: list[str], rng: random.Random,
                  skip: float) -> tuple[RoundAnswer, ...]:
    """One round of a group: who answers (80 %), and what; with `skip`, per sub-component."""
    found = []
    for person in group:
        if rng.random() > 0.8:
            continue
        for sub in content.sub_components:
            if skip and rng.random() < skip:
                continue
            found.append(RoundAnswer(person, sub.id, rng.randint(1, 4)))
    return tuple(found)


def ledger_of(content: Content, groups: list[list[str]], rounds: int, rng: random.Random,
              skip: float) -> list[Released]:
    """What the viewer was shown over `rounds` rounds of every group, released for real."""
    ledger: list[Released] = []
    for number in range(rounds):
        for g, group in enumerate(groups):
            release = release_team(content, TeamRequest(
                VIEWER, f"group:{g} round:{number}", number, 0.0,
                round_answers(content, group, rng, skip), len(group), 0, tuple(ledger),
                Rules(), 0.0))
            ledger.extend(release.recorded)
    return ledger


def measure(content: Content, members: int, rounds: int, groups: int, repeats: int,
            skip: float, cold: bool) -> tuple[float, float, int, int, int]:
    """Median and max ms of one release of the whole team; ledger rows; shown; withheld."""
    rng = random.Random(11)
    sets = groups_of(members, groups)
    ledger = ledger_of(content, sets, rounds, rng, skip)
    answers = round_answers(content, sets[0], rng, skip)
    times, release = [], None
    for _ in range(repeats):
        if cold:
            audit.forget_cache()  # a process that has checked nothing yet
        else:
            # A running bot: the ledger's sets were seen before, this round's are new.
            answers = round_answers(content, sets[0], rng, skip)
        start = time.perf_counter()
        release = release_team(content, TeamRequest(
            VIEWER, f"group:0 round:{rounds}", rounds, 0.0, answers, members, 0,
            tuple(ledger), Rules(), 0.0))
        times.append((time.perf_counter() - start) * 1000)
    assert release is not None
    shown = sum(f.shown for f in release.subs)
    return (statistics.median(times), max(times), len(ledger), shown,
            len(release.subs) - shown)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=24)
    parser.add_argument("--groups", type=int, default=5)
    args = parser.parse_args()
    content = load_content(PROJECT / "content", PROJECT / "dialogues", REQUIRED_MESSAGES)
    print(f"one /team release, {args.members} members, checked against {args.rounds} earlier "
          f"rounds of {args.groups} overlapping groups (median of {args.repeats}; target "
          f"< {TARGET_MS:.0f} ms)")
    print(f"{'answers':<34} {'ledger rows':>11} {'shown':>6} {'withheld':>8} "
          f"{'median ms':>10} {'max ms':>8}")
    for label, skip, cold in (("whole cycles, running bot", 0.0, False),
                              ("20 % skipped, running bot", 0.2, False),
                              ("whole cycles, first after start", 0.0, True),
                              ("20 % skipped, first after start", 0.2, True)):
        median, worst, rows, shown, withheld = measure(content, args.members, args.rounds,
                                                       args.groups, args.repeats, skip, cold)
        print(f"{label:<34} {rows:>11} {shown:>6} {withheld:>8} {median:>10.1f} {worst:>8.1f}")


if __name__ == "__main__":
    main()
