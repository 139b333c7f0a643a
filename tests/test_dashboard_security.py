"""The dashboard's defences, as specs: the sign-in limit, headers on every response, login CSRF."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from coordinator_world import World
from dashboard_client import Browser, link_for
from test_team_view import MANAGER, team_world

from bot.dashboard.security import RateLimit, rate_key
from bot.definitions.model import Content
from bot.engine.ports.directory import commit_ops
from bot.engine.ports.directory_ops import GrantRole, LeaveTeam, RevokeRole


@pytest.fixture
def world(content: Content, tmp_path: Path) -> Iterator[World]:
    made = World(content, "sqlite", tmp_path / "security.db")
    yield made
    made.close()


def test_the_sign_in_limit_forgets_the_address_idle_longest_past_its_capacity() -> None:
    limit = RateLimit(limit=2, window=600.0, keys=3)
    assert limit.allow("a", now=0.0) and limit.allow("a", now=1.0)
    for n, key in enumerate(("b", "c", "d"), start=2):
        assert limit.allow(key, now=float(n))
    assert len(limit._events) == 3
    # 'a' was idle longest and went: it starts afresh; 'd' is still remembered.
    assert limit.allow("a", now=5.0)
    assert limit.allow("d", now=6.0) and not limit.allow("d", now=7.0)


def test_a_refused_address_stays_remembered_while_it_keeps_trying() -> None:
    limit = RateLimit(limit=1, window=600.0, keys=2)
    assert limit.allow("x", now=0.0)
    for n in range(1, 5):
        assert not limit.allow("x", now=float(n))
        assert limit.allow(f"other{n}", now=float(n) + 0.5)
    assert not limit.allow("x", now=10.0)


def test_ipv6_addresses_are_limited_per_64() -> None:
    assert rate_key("2001:db8::1") == rate_key("2001:db8::ffff:1") == "2001:db8::/64"
    assert rate_key("2001:db8:0:1::1") != rate_key("2001:db8::1")
    assert rate_key("203.0.113.7") == "203.0.113.7"


def test_sign_in_is_refused_from_a_form_on_another_site(world: World, browser: Browser) -> None:
    boss = team_world(world, respondents=6)
    token = link_for(boss).rsplit("/", 1)[1]
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"},
                    {"Sec-Fetch-Site": "same-site"},
                    {"Origin": "null", "Sec-Fetch-Site": "cross-site"}):
        refused = browser.post("/login", {"token": token}, headers=headers)
        assert refused.status == 403 and "This form has expired" in refused.text, headers
    # The link was not used up by the refusals: a form from the dashboard itself signs in.
    # (Under the page's Referrer-Policy: no-referrer, Chromium sends Origin: null.)
    own = str(browser.client.make_url("/")).rstrip("/")
    for headers in ({"Origin": own, "Sec-Fetch-Site": "same-origin"},
                    {"Origin": "null", "Sec-Fetch-Site": "same-origin"}):
        signed = browser.post("/login", {"token": link_for(boss).rsplit("/", 1)[1]},
                              headers=headers)
        assert signed.status == 200 and "/logout" in signed.text, headers


def _sessions(world: World) -> int:
    return int(world.store.query("SELECT COUNT(*) FROM dashboard_sessions")[0][0])  # type: ignore[attr-defined]


def test_leaving_the_team_ends_a_managers_sessions(world: World, browser: Browser) -> None:
    boss = team_world(world, respondents=6)
    browser.sign_in(link_for(boss))
    team = world.directory.team_named("riverside")
    assert team is not None and _sessions(world) == 1
    commit_ops(world.store, [LeaveTeam(team.id, f"telegram:{MANAGER}")])
    assert _sessions(world) == 0


def test_a_revoked_coordinator_role_ends_the_sessions(world: World, browser: Browser) -> None:
    boss = team_world(world, respondents=6)
    commit_ops(world.store, [GrantRole(f"telegram:{MANAGER}", "coordinator", None, 0.0)])
    browser.sign_in(link_for(boss))
    assert _sessions(world) == 1
    commit_ops(world.store, [RevokeRole(f"telegram:{MANAGER}", "coordinator")])
    assert _sessions(world) == 0
    assert browser.get("/").status == 401


def test_a_page_view_is_logged_with_numbers_only_never_what_was_typed(
        world: World, browser: Browser) -> None:
    boss = team_world(world, respondents=6)
    browser.sign_in(link_for(boss))
    team = world.directory.team_named("riverside")
    assert team is not None
    browser.get(f"/teams/{team.id}")
    browser.get("/teams/Ann%20is%20leaving")
    browser.get("/teams/" + "9" * 40)
    pages = [v.page for v in world.dashboard.views(f"telegram:{MANAGER}")]
    assert pages[-3:] == [f"team:{team.id}", "team:?", "team:?"]


def test_the_team_pages_round_dates_are_in_the_viewers_language(world: World,
                                                                  browser: Browser) -> None:
    boss = team_world(world, respondents=6)
    boss.send("/language fr")
    team = world.directory.team_named("riverside")
    assert team is not None
    browser.sign_in(link_for(boss))
    text = browser.get(f"/teams/{team.id}").text
    closed = text[text.index("clos le"):].split("</p>")[0]
    assert "UTC" not in closed and " à " in closed, closed
