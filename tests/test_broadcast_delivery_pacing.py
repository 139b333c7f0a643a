"""The shared pacer, in-process: spacing, priorities, 429 pauses and per-chat intervals."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from itertools import pairwise
from typing import Any, TypeVar

import pytest

from bot.channels.telegram.pacing import (
    BROADCAST,
    PROGRESS,
    REPLY,
    Limits,
    Pacer,
    Pacing,
    ReplyBursts,
)

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def test_slots_are_evenly_spaced_at_the_rate() -> None:
    async def main() -> list[float]:
        pacer = Pacer(50)
        loop = asyncio.get_running_loop()
        times: list[float] = []

        async def one() -> None:
            await pacer.slot(BROADCAST)
            times.append(loop.time())

        await asyncio.gather(*(one() for _ in range(26)))
        return times

    times = run(main())
    # 26 slots at 50/s take 0.5 s, and never two in less than a slot apart on the grid.
    assert 0.48 <= times[-1] - times[0] <= 0.7
    assert sum(1 for t in times if t - times[0] < 1.0) <= 51


def test_replies_go_before_waiting_broadcast_copies() -> None:
    async def main() -> list[str]:
        pacer = Pacer(20)
        served: list[str] = []

        async def take(kind: int, name: str) -> None:
            await pacer.slot(kind)
            served.append(name)

        copies = [asyncio.create_task(take(BROADCAST, f"copy{i}")) for i in range(6)]
        # One turn of the loop: the copies have run, the first has its slot, the others wait.
        # (Not a timed sleep: on a busy machine the next slot's timer could then be due too,
        # and fire before the reply is even queued.)
        await asyncio.sleep(0)
        assert pacer.granted == 1
        await asyncio.gather(take(REPLY, "reply"), take(PROGRESS, "progress"), *copies)
        return served

    served = run(main())
    assert served[:3] == ["copy0", "reply", "progress"]


def test_a_429_pauses_broadcast_copies_but_not_replies() -> None:
    async def main() -> tuple[float, float]:
        pacer = Pacer(100)
        loop = asyncio.get_running_loop()
        start = loop.time()
        pacer.pause_broadcasts(0.3)
        reply_at: list[float] = []
        copy_at: list[float] = []

        async def reply() -> None:
            # How long the reply waited for its slot (not how long the loop took to start it).
            asked = loop.time()
            await pacer.slot(REPLY)
            reply_at.append(loop.time() - asked)

        async def copy() -> None:
            await pacer.slot(BROADCAST)
            copy_at.append(loop.time() - start)

        await asyncio.gather(copy(), reply())
        return reply_at[0], copy_at[0]

    reply_at, copy_at = run(main())
    assert reply_at < 0.05 and copy_at >= 0.29


def test_a_cancelled_waiter_gives_its_place_away() -> None:
    async def main() -> int:
        pacer = Pacer(10)
        await pacer.slot(BROADCAST)
        waiting = asyncio.create_task(pacer.slot(BROADCAST))
        await asyncio.sleep(0.01)
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)
        await asyncio.wait_for(pacer.slot(REPLY), 10)  # due 0.1 s after the first slot
        return pacer.granted

    assert run(main()) == 2


@pytest.mark.parametrize(("chat", "interval"), [("12345", 1.0), ("-100987", 3.0)])
def test_copies_to_one_chat_keep_its_interval(chat: str, interval: float) -> None:
    limits = Limits(rate=None, chat_rate=1.0, group_per_minute=20.0)
    assert limits.chat_interval(chat) == interval

    async def main() -> list[float]:
        pacing = Pacing(Limits(rate=None, chat_rate=5.0, group_per_minute=120.0))
        loop = asyncio.get_running_loop()
        times: list[float] = []

        async def copy() -> None:
            async with pacing.chats.turn(chat):
                await pacing.broadcast(chat)
                times.append(loop.time())

        await asyncio.gather(copy(), copy(), copy())
        return times

    times = run(main())
    gap = 0.5 if chat.startswith("-") else 0.2
    assert all(b - a >= gap * 0.95 for a, b in pairwise(times))


def test_a_reply_counts_towards_the_chat_interval() -> None:
    async def main() -> float:
        pacing = Pacing(Limits(rate=None, chat_rate=4.0))
        loop = asyncio.get_running_loop()
        await pacing.reply("7")
        replied = loop.time()
        async with pacing.chats.turn("7"):
            await pacing.broadcast("7")
        return loop.time() - replied

    assert run(main()) >= 0.24


def test_a_turns_burst_of_replies_goes_out_together_then_one_per_interval() -> None:
    async def main() -> list[float]:
        pacing = Pacing(Limits(rate=None, chat_rate=10.0, reply_burst=3))
        loop = asyncio.get_running_loop()
        start = loop.time()
        times: list[float] = []
        for _ in range(6):
            await pacing.reply("7")
            times.append(loop.time() - start)
        return times

    times = run(main())
    # The first three at once; then the chat's interval (0.1 s) between each.
    assert times[2] < 0.05
    assert all(b - a >= 0.1 * 0.95 for a, b in pairwise(times[2:]))
    assert times[-1] >= 0.3 * 0.95


def test_the_burst_refills_at_one_per_interval_while_the_user_reads() -> None:
    async def main() -> tuple[float, float, float]:
        limits = Limits(rate=None, chat_rate=1.0, reply_burst=3)
        bursts = ReplyBursts(limits)
        now = asyncio.get_running_loop().time()
        for _ in range(3):
            bursts.take("8")
        empty = bursts.wait_for("8")
        # As if the burst had been sent 2 s ago and 5 s ago (no waiting in the test).
        bursts._left["8"] = (0.0, now - 2.0)
        two = bursts.wait_for("8")
        bursts._left["8"] = (0.0, now - 5.0)
        bursts.take("8")
        return empty, two, bursts._now_left("8", asyncio.get_running_loop().time())

    empty, two, left = run(main())
    assert 0.9 <= empty <= 1.0 and two == 0.0
    assert 1.9 <= left <= 2.01  # full at 3, never more, less the one just taken


def test_other_chats_do_not_wait_for_one_chats_burst() -> None:
    async def main() -> float:
        pacing = Pacing(Limits(rate=None, chat_rate=2.0, reply_burst=1))
        loop = asyncio.get_running_loop()
        await pacing.reply("1")
        asked = loop.time()
        await pacing.reply("2")
        return loop.time() - asked

    assert run(main()) < 0.1


# ---------------------------------------------------------------------- configuration
def test_pacing_settings_come_from_flags_then_variables_then_defaults(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.channels.telegram.config import telegram_config

    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:x")
    for name in ("CCBOT_BROADCAST_RATE", "CCBOT_CHAT_RATE", "CCBOT_GROUP_RATE",
                 "CCBOT_BROADCAST_CONCURRENCY", "CCBOT_SCHEDULE_INTERVAL"):
        monkeypatch.delenv(name, raising=False)
    config = telegram_config()
    assert (config.rate, config.chat_rate, config.group_per_minute,
            config.broadcast_concurrency, config.schedule_interval) == (25, 1, 20, 8, 30)
    monkeypatch.setenv("CCBOT_BROADCAST_RATE", "200")
    monkeypatch.setenv("CCBOT_BROADCAST_CONCURRENCY", "16")
    assert telegram_config().rate == 200 and telegram_config().broadcast_concurrency == 16
    assert telegram_config(rate=10).rate == 10


@pytest.mark.parametrize(("variable", "value"), [("CCBOT_BROADCAST_RATE", "fast"),
                                                 ("CCBOT_CHAT_RATE", "0"),
                                                 ("CCBOT_BROADCAST_CONCURRENCY", "nan")])
def test_a_bad_pacing_setting_names_its_variable(monkeypatch: pytest.MonkeyPatch, variable: str,
                                                 value: str) -> None:
    from bot.channels.telegram.config import ConfigError, telegram_config

    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:x")
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=variable):
        telegram_config()
