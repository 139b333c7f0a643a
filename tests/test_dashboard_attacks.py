"""Attacks on the web dashboard (issue 15): each test is a review finding, failing before its fix.

Run: .venv/bin/python -m pytest -q tests/test_dashboard_attacks.py
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from coordinator_world import ADMIN, World
from dashboard_client import Browser, Page, link_for
from test_team_view import answer_all, team_world

from bot.dashboard.security import RateLimit
from bot.definitions.model import Content
from bot.engine.core.events import UserKey
from bot.engine.core.records import Answer, Commit

DAY = 86_400
FUNNEL_ROW = re.compile(r'<th scope="row">(\d+)\. [^<]+</th>\s*<td>(\d+)</td>')
WEEK_ROW = re.compile(r'<th scope="row">([^<]+)</th>\s*<td>([^<]*)</td><td>([^<]*)</td>'
                      r'<td>([^<]*)</td><td>([^<]*)</td>')


@pytest.fixture
def world(content: Content, tmp_path: Path) -> Iterator[World]:
    made = World(content, "sqlite", tmp_path / "attack.db")
    yield made
    made.close()


def funnel(page: Page) -> dict[int, int]:
    """Step -> people who reached it, as the overview's funnel table shows (shown rows only)."""
    text = page.text[page.text.index("People who reached each step"):]
    return {int(n): int(c) for n, c in FUNNEL_ROW.findall(text)}


def weekly(page: Page) -> list[tuple[str, ...]]:
    """(week, onboarded, active, reflected, tried) rows of the weekly table, newest first."""
    text = page.text[page.text.index("Taking part, week by week"):
                     page.text.index("People who reached each step")]
    return WEEK_ROW.findall(text)


def forget(world: World, ident: str) -> None:
    chat = world.chat(ident)
    chat.send("/forget")
    chat.tap(chat.labels()[0])
    assert world.store.load_user(UserKey("telegram", ident)) is None


# ----------------------------------------------------------------------------- privacy
def test_funnel_before_and_after_a_forget_gives_away_how_far_that_person_got(
        world: World, browser: Browser) -> None:
    """Each week's funnel is frozen, but the *next* week's funnel is a new sum over the same
    monotone facts ("has reached step n by then") minus whoever left. Someone can only gain
    steps, so a drop between two consecutive weeks is exactly the leaver's steps: a
    coordinator who looks before and after Ann's /forget learns how far Ann got."""
    team_world(world, respondents=6, members=12)  # 6 did the whole cycle, 6 did nothing
    world.clock.now += 8 * DAY  # the week they answered in, and the next, are closed
    admin = world.member(ADMIN.id)
    before = funnel(browser.sign_in(link_for(admin)))
    assert before and all(n == 6 for n in before.values())
    forget(world, "10")  # Ann (a respondent) leaves; the coordinator knows she did
    world.clock.now += 7 * DAY  # one more week closes: a new funnel is frozen without her
    after = funnel(browser.sign_in(link_for(admin)))  # the 8-hour session has ended
    leaked = {step: before[step] - after[step] for step in before
              if step in after and 0 < before[step] - after[step] < 5}
    assert not leaked, f"funnel dropped by <5 after one /forget: Ann reached steps {sorted(leaked)}"


def test_week_rollover_funnel_difference_is_one_persons_progress(
        world: World, browser: Browser) -> None:
    """No /forget needed: the funnel of week W+1 minus that of week W is how many people first
    reached each step during W+1. With one person active that week (the weekly table says
    'active: 1'), the difference is that one person's progress, step by step. Counts of 1
    over a population of 5+ are shown; the open round's own count needs the minimum."""
    team_world(world, respondents=6, members=12)
    world.clock.now += 8 * DAY
    admin = world.member(ADMIN.id)
    before = funnel(browser.sign_in(link_for(admin)))
    # During the next week, one member (a non-respondent, "16") does the first 3 steps only.
    world.clock.now += 1 * DAY
    answer_all(world, "16", 0, only=3)
    world.clock.now += 6 * DAY
    page = browser.sign_in(link_for(admin))
    after = funnel(page)
    newest = weekly(page)[0]
    deltas = {s: after[s] - before[s] for s in before if s in after}
    one_person = newest[2] == "1" and sorted(s for s, d in deltas.items() if d == 1) == [1, 2, 3]
    assert not one_person, (f"active=1 in the week and the funnel rose by 1 at steps 1-3 only:"
                            f" that one person's progress is on the page ({newest})")


def test_small_weekly_counts_are_shown(world: World, browser: Browser) -> None:
    """A weekly count of 1 ('one person reflected / tried / was active') is shown as long as
    the *population* is 5+. The chat withholds the open round's count of respondents until it
    reaches the minimum (PRIVACY.md, Rounds); the overview has no such floor on the count."""
    team_world(world, respondents=6, members=12)
    world.clock.now += 8 * DAY
    world.clock.now += 1 * DAY
    answer_all(world, "17", 0, only=1)  # the only person active that week
    world.clock.now += 6 * DAY
    admin = world.member(ADMIN.id)
    page = browser.sign_in(link_for(admin))
    shown = [row for row in weekly(page) if row[2] == "1"]
    assert not shown, f"a week's 'active' count of 1 is shown: {shown}"


# ----------------------------------------------------------------------------- security
def test_rate_limit_is_bypassed_with_a_made_up_x_real_ip(world: World,
                                                         browser: Browser) -> None:
    """Behind the documented Caddy config (`reverse_proxy 127.0.0.1:8080`) the client's own
    X-Real-Ip passes through untouched (Caddy sets X-Forwarded-For, not X-Real-Ip), and
    client_address prefers X-Real-Ip over X-Forwarded-For: every guess gets a fresh budget.
    The test client's peer is 127.0.0.1, i.e. exactly 'a local proxy'."""
    statuses = [browser.post("/login", {"token": f"guess{n}"},
                             headers={"X-Real-Ip": f"203.0.113.{n}",
                                      "X-Forwarded-For": "198.51.100.7"}).status
                for n in range(15)]
    assert 429 in statuses, f"15 sign-in guesses from one client, none limited: {statuses}"


def test_rate_limit_memory_is_not_bounded() -> None:
    """RateLimit 'forgets idle addresses, keeps memory bounded' only drops keys whose deque is
    empty, which never happens within the window: with >10,000 addresses (spoofed X-Real-Ip,
    or IPv6) the dict keeps growing and is rebuilt in O(n) on *every* attempt."""
    limit = RateLimit()
    for n in range(12_000):
        limit.allow(f"2001:db8::{n:x}", now=float(n) / 100)
    assert len(limit._events) <= 10_000, f"{len(limit._events)} addresses kept"


def test_error_responses_lack_the_security_headers(world: World, browser: Browser) -> None:
    """aiohttp's own 404/405 pages, and the HTTPSeeOther a manager gets at '/', are sent
    without CSP, nosniff, Referrer-Policy, Cache-Control: no-store (DASHBOARD.md: 'Every
    response carries ...')."""
    missing = browser.get("/static/../../etc/passwd")
    wrong = browser.get("/logout")  # 405
    for response in (missing, wrong):
        assert "Content-Security-Policy" in response.headers, response.status

    async def raw() -> tuple[int, dict[str, str]]:
        async with browser.client.get("/", allow_redirects=False) as response:
            return response.status, dict(response.headers)
    boss = team_world(world, respondents=6)
    browser.sign_in(link_for(boss))
    status, headers = browser.loop.run_until_complete(raw())
    assert status == 303 and "Content-Security-Policy" in headers, headers


def test_sign_in_accepts_a_cross_site_form_post(world: World, browser: Browser) -> None:
    """Login CSRF: POST /login checks neither Origin nor a form token, so evil.example can
    sign a coordinator's browser into the attacker's (a manager's) session: the victim then
    works in, and their page views are logged under, the attacker's account."""
    boss = team_world(world, respondents=6)
    token = link_for(boss).rsplit("/", 1)[1]

    async def raw() -> int:
        async with browser.client.post("/login", data={"token": token},
                                       headers={"Origin": "https://evil.example",
                                                "Sec-Fetch-Site": "cross-site"},
                                       allow_redirects=False) as response:
            return response.status
    assert browser.loop.run_until_complete(raw()) == 403, "cross-site sign-in accepted"


# ----------------------------------------------------------------------------- export
def test_export_gives_the_levels_the_broadcasts_page_withholds(world: World,
                                                               browser: Browser) -> None:
    """/broadcasts withholds a distribution under 8 people, and the export blanks the audience
    of a broadcast answered by fewer than 5; but the export keeps `broadcast_id`, which the
    /broadcasts page (same coordinator, next tab) shows next to 'team tiny'. So the withheld
    distribution of team tiny's 3 people is read off the export, person by person."""
    from coordinator_world import invite_code

    admin = world.member(ADMIN.id)
    admin.send("/newteam tiny")
    code = invite_code(admin.text())
    people = [world.member(ident) for ident in ("301", "302", "303")]
    for chat in people:
        chat.send(f"/start {code}")
    admin.send("/broadcast")
    admin.tap("team tiny")
    admin.tap("Outcomes")
    admin.tap("Insight")
    admin.tap("Send now")
    (broadcast,) = world.directory.broadcasts(1)
    for copy in world.outbox.claim_due("telegram", world.clock.now, 1000):
        world.outbox.mark_sent(copy.id, 1000 + copy.id, world.clock.now)
    for chat, level in zip(people, (1, 2, 4)):
        chat.press(f"bc:{broadcast.id}:{level}")
    browser.sign_in(link_for(admin))
    shown = browser.get("/broadcasts").text
    assert "· team tiny" in shown and "too few people (a distribution needs 8" in shown
    page = browser.get("/export")
    data = browser.post("/export", {"csrf": browser.csrf(page), "format": "csv"}).text
    rows = [line.split(",") for line in data.splitlines()[1:]]
    levels = sorted(r[8] for r in rows if r[2] == str(broadcast.id))
    assert levels != ["1", "2", "4"], (
        "distribution withheld on /broadcasts (3 < 8) but the export, joined on broadcast_id "
        f"with the page's 'team tiny', gives each person's level: {levels}")


# ----------------------------------------------------------------------------- correctness
def test_the_viewer_is_subtracted_from_a_count_they_were_never_frozen_into(
        world: World, browser: Browser) -> None:
    """The frozen count and the viewer's own part ('mine') are computed over different
    windows: a week frozen alone looks back one week for a reflection's answers, 'mine'
    looks back eight. A coordinator whose reflection spans three weeks is subtracted from a
    count that never held them: the page shows 'reflected: -1' (and, with others in it, one
    person too few)."""
    team_world(world, respondents=6, members=12)
    world.clock.now += 8 * DAY  # Mon 23 Jun
    admin = world.member(ADMIN.id)
    browser.sign_in(link_for(admin))  # freezes every week up to 16 Jun

    def reflect(question: str) -> None:
        world.store.commit(Commit(ADMIN, None, None, answers=(
            Answer(ADMIN, "reflect", 1, question, 3, None, world.clock.now),)))
    world.clock.now += 1 * DAY  # Tue 24 Jun: the first question
    reflect("reflect.q1")
    world.clock.now += 20 * DAY  # Mon 14 Jul
    browser.sign_in(link_for(admin))  # freezes 23 Jun, 30 Jun, 7 Jul
    world.clock.now += 1 * DAY  # Tue 15 Jul: the other three
    for q in ("reflect.q2", "reflect.q3", "reflect.q4"):
        reflect(q)
    world.clock.now += 6 * DAY  # Mon 21 Jul: 14 Jul is frozen alone
    page = browser.sign_in(link_for(admin))
    reflected = [row[3] for row in weekly(page)]
    assert all(not r.startswith("-") for r in reflected), f"reflected column: {reflected}"


# ----------------------------------------------------------------------------- races
def _two_overlapping_teams(world: World) -> None:
    """riverside = 10..15, hillside = 10..16 (one more), both managed by MANAGER, both closed."""
    from coordinator_world import invite_code
    from test_team_view import MANAGER, close_round

    from bot.engine.ports.directory import commit_ops
    from bot.engine.ports.directory_ops import SetMemberRole

    admin = world.member(ADMIN.id)
    codes = {}
    for name in ("riverside", "hillside"):
        admin.send(f"/newteam {name}")
        codes[name] = invite_code(admin.text())
    boss = world.member(MANAGER)
    for name, code in codes.items():
        boss.send(f"/start {code}")
        team = world.directory.team_named(name)
        assert team is not None
        commit_ops(world.store, [SetMemberRole(team.id, f"telegram:{MANAGER}", "manager")])
    for n in range(7):
        ident = str(10 + n)
        chat = world.member(ident)
        for name in (("riverside", "hillside") if n < 6 else ("hillside",)):
            chat.send(f"/start {codes[name]}")
    for n in range(7):
        answer_all(world, str(10 + n), n)
    close_round(world, "riverside")
    close_round(world, "hillside")


def _ledger_pairs_one_apart(world: World, viewer: str) -> list[tuple[str, int, int]]:
    import json
    rows = world.store.query("SELECT quantity, people FROM release_ledger WHERE viewer = ?",  # type: ignore[attr-defined]
                             (viewer,))
    sets: dict[str, list[frozenset[str]]] = {}
    for quantity, people in rows:
        sets.setdefault(quantity, []).append(frozenset(json.loads(people)))
    found = []
    for quantity, seen in sets.items():
        for a in seen:
            for b in seen:
                if 0 < len(a ^ b) < 5:
                    found.append((quantity, len(a), len(b)))
    return found


def test_chat_and_dashboard_processes_race_past_the_differencing_check(
        world: World, browser: Browser, monkeypatch: pytest.MonkeyPatch) -> None:
    """The dashboard reads the viewer's ledger, decides, and records later (pages.team:
    view_history ... commit_ops); the ledger insert does not re-check. `ccbot run` and
    `ccbot dashboard` are two processes: if the manager's /team riverside (chat) commits in
    between, hillside (riverside + 1 person) is released too, and the two averages differ by
    exactly person 16's answers. Sequentially the second one is withheld (checked below)."""
    from test_team_view import MANAGER

    import bot.dashboard.pages as pages

    _two_overlapping_teams(world)
    boss = world.chat(MANAGER)
    hillside = world.directory.team_named("hillside")
    assert hillside is not None
    browser.sign_in(link_for(boss))
    real_commit = pages.commit_ops  # type: ignore[attr-defined]

    def other_process_first(store: object, ops: list[object]) -> None:
        boss.send("/team riverside")  # the chat process's turn lands here
        real_commit(store, ops)  # type: ignore[arg-type]
    monkeypatch.setattr(pages, "commit_ops", other_process_first)
    page = browser.get(f"/teams/{hillside.id}")
    assert page.status == 200
    leaked = _ledger_pairs_one_apart(world, f"telegram:{MANAGER}")
    assert not leaked, f"both released to one viewer, sets one person apart: {leaked[:3]}"


def test_sequential_control_hillside_after_riverside_is_withheld(
        world: World, browser: Browser) -> None:
    """Control for the race above (passes): one after the other, the check holds."""
    from test_team_view import MANAGER

    _two_overlapping_teams(world)
    boss = world.chat(MANAGER)
    hillside = world.directory.team_named("hillside")
    assert hillside is not None
    boss.send("/team riverside")
    browser.sign_in(link_for(boss))
    assert browser.get(f"/teams/{hillside.id}").status == 200
    assert not _ledger_pairs_one_apart(world, f"telegram:{MANAGER}")


def test_a_session_survives_losing_the_role_if_no_page_was_opened_meanwhile(
        world: World, browser: Browser) -> None:
    """'Sessions end when the person loses the role' is done lazily, at the next request
    (login.signed_in). A manager removed and later re-appointed (say to another team) finds
    the old browser session (a shared PC, a lost phone) still signed in."""
    from test_team_view import MANAGER

    from bot.engine.ports.directory import commit_ops
    from bot.engine.ports.directory_ops import SetMemberRole

    boss = team_world(world, respondents=6)
    browser.sign_in(link_for(boss))
    team = world.directory.team_named("riverside")
    assert team is not None
    commit_ops(world.store, [SetMemberRole(team.id, f"telegram:{MANAGER}", "member")])
    # ... days later, re-appointed; the old browser was never closed
    world.clock.now += 3600
    commit_ops(world.store, [SetMemberRole(team.id, f"telegram:{MANAGER}", "manager")])
    assert browser.get("/teams").status == 401, "the session from before the role was lost works"
