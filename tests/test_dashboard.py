"""The web dashboard's handlers: signing in from the bot, rights at every request, the pages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from coordinator_world import ADMIN, World
from dashboard_client import Browser, link_for, site_of
from test_team_view import MANAGER, team_world

from bot.dashboard.messages import PAGE_MESSAGES
from bot.dashboard.render import TEMPLATES
from bot.definitions.model import Content
from bot.engine.core.events import Event
from bot.engine.ports.directory import commit_ops
from bot.engine.ports.directory_ops import SetMemberRole

PROJECT = Path(__file__).resolve().parent.parent


@pytest.fixture
def world(content: Content, tmp_path: Path) -> Iterator[World]:
    made = World(content, "sqlite", tmp_path / "dash.db")
    yield made
    made.close()


def test_dashboard_gives_a_manager_a_one_time_link(world: World) -> None:
    boss = team_world(world, respondents=6)
    assert link_for(boss).startswith("/login/")
    assert "10 minutes" in boss.text()


def test_dashboard_is_refused_to_a_plain_member(world: World) -> None:
    member = world.member("500")
    member.send("/dashboard")
    assert "/login/" not in member.text()


def test_dashboard_without_an_address_says_how_to_set_it(content: Content,
                                                          tmp_path: Path) -> None:
    from bot.engine.features.dashboard.feature import DashboardFeature

    world = World(content, "memory")
    for feature in world.engine.features:
        if isinstance(feature, DashboardFeature):
            feature.url = ""
    admin = world.member(ADMIN.id)
    admin.send("/dashboard")
    assert "CCBOT_DASHBOARD_URL" in admin.text()


def test_only_a_hash_of_the_token_is_stored(world: World) -> None:
    boss = team_world(world, respondents=6)
    token = link_for(boss).rsplit("/", 1)[1]
    assert world.store.query("SELECT COUNT(*) FROM dashboard_links")[0][0] == 1  # type: ignore[attr-defined]
    dump = "\n".join(world.store.db.conn.iterdump())  # type: ignore[attr-defined]
    assert token not in dump


def test_a_manager_signs_in_and_sees_their_team(world: World, browser: Browser) -> None:
    boss = team_world(world, respondents=6)
    page = browser.sign_in(link_for(boss))
    assert page.status == 200 and "riverside" in page.text  # managers land on their teams
    team = world.directory.team_named("riverside")
    assert team is not None
    shown = browser.get(f"/teams/{team.id}")
    assert shown.status == 200
    assert "Rounds side by side" in shown.text and "n=6" in shown.text


def test_a_link_works_once(world: World, browser: Browser) -> None:
    boss = team_world(world, respondents=6)
    link = link_for(boss)
    assert browser.sign_in(link).status == 200
    other = Browser(site_of(world))
    try:
        again = other.sign_in(link)
        assert again.status == 403 and "already used" in again.text
    finally:
        other.close()


def test_opening_the_link_alone_does_not_use_it(world: World, browser: Browser) -> None:
    """Chat apps fetch links for a preview: only the button press signs in."""
    boss = team_world(world, respondents=6)
    link = link_for(boss)
    browser.get(link)
    browser.get(link)
    assert browser.sign_in(link).status == 200


def test_an_expired_link_is_refused(world: World, browser: Browser) -> None:
    boss = team_world(world, respondents=6)
    link = link_for(boss)
    world.clock.now += 601
    assert browser.sign_in(link).status == 403


def test_a_made_up_token_is_refused(world: World, browser: Browser) -> None:
    assert browser.post("/login", {"token": "x" * 43}).status == 403
    assert browser.get("/login/" + "y" * 200).status == 404


def test_sign_in_attempts_are_rate_limited(world: World, browser: Browser) -> None:
    statuses = [browser.post("/login", {"token": f"guess{n}"}).status for n in range(12)]
    assert statuses[:10] == [403] * 10 and statuses[10:] == [429, 429]


def test_a_manager_is_refused_another_team(world: World, browser: Browser) -> None:
    boss = team_world(world, respondents=6)
    team_world(world, respondents=6, name="hillside", manager="77", first=40)
    browser.sign_in(link_for(boss))
    other = world.directory.team_named("hillside")
    assert other is not None
    refused = browser.get(f"/teams/{other.id}")
    assert refused.status == 403 and "hillside" not in refused.text
    assert browser.get("/teams/99999").status == 403  # the same answer as for no such team
    listed = browser.get("/teams")
    assert "hillside" not in listed.text


def test_managers_are_refused_the_coordinators_pages(world: World, browser: Browser) -> None:
    boss = team_world(world, respondents=6)
    browser.sign_in(link_for(boss))
    assert browser.get("/broadcasts").status == 403
    assert browser.get("/export").status == 403


def test_losing_the_role_ends_the_session(world: World, browser: Browser) -> None:
    boss = team_world(world, respondents=6)
    browser.sign_in(link_for(boss))
    team = world.directory.team_named("riverside")
    assert team is not None
    commit_ops(world.store, [SetMemberRole(team.id, f"telegram:{MANAGER}", "member")])
    # Ended with the role itself, before any page is opened.
    assert world.store.query("SELECT COUNT(*) FROM dashboard_sessions")[0][0] == 0  # type: ignore[attr-defined]
    assert browser.get("/teams").status == 401


def test_forget_ends_the_session_and_deletes_links_and_views(world: World,
                                                             browser: Browser) -> None:
    boss = team_world(world, respondents=6)
    browser.sign_in(link_for(boss))
    browser.get("/teams")
    link_for(boss)  # an unused link too
    boss.send("/forget")
    boss.tap(boss.labels()[0])
    for table in ("dashboard_links", "dashboard_sessions", "dashboard_views"):
        assert world.store.query(f"SELECT COUNT(*) FROM {table}")[0][0] == 0, table  # type: ignore[attr-defined]
    assert browser.get("/teams").status == 401


def test_logout_needs_the_pages_form_token(world: World, browser: Browser) -> None:
    boss = team_world(world, respondents=6)
    page = browser.sign_in(link_for(boss))
    assert browser.post("/logout", {"csrf": "forged"}).status == 403
    assert browser.get("/teams").status == 200
    assert browser.post("/logout", {"csrf": browser.csrf(page)}).status == 200
    assert browser.get("/teams").status == 401


def test_every_page_carries_the_security_headers(world: World, browser: Browser) -> None:
    boss = team_world(world, respondents=6)
    page = browser.sign_in(link_for(boss))
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "script-src" not in csp  # no script at all
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "http://" not in re.sub(r'http://www\.w3\.org[^"]*', "", page.text)


def test_the_session_cookie_is_httponly_and_strict(world: World, browser: Browser) -> None:
    boss = team_world(world, respondents=6)
    link = link_for(boss)
    browser.get(link)
    token = link.rsplit("/", 1)[1]

    async def raw() -> str:
        async with browser.client.post("/login", data={"token": token},
                                       allow_redirects=False) as response:
            return response.headers.get("Set-Cookie", "")
    cookie = browser.loop.run_until_complete(raw())
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Max-Age=28800" in cookie
    assert "Secure" not in cookie  # plain http in the test; behind an https proxy it is set


def test_a_coordinator_sees_the_overview_with_the_funnel(world: World,
                                                         browser: Browser) -> None:
    team_world(world, respondents=6)
    world.clock.now += 8 * 86_400  # the week they answered in is closed
    admin = world.member(ADMIN.id)
    page = browser.sign_in(link_for(admin))
    assert page.status == 200
    assert "The cycle, step by step" in page.text and "data:image/svg+xml;base64," in page.text
    assert "Taking part, week by week" in page.text


def test_overview_counts_are_frozen_once_shown(world: World, browser: Browser) -> None:
    team_world(world, respondents=6)
    world.clock.now += 8 * 86_400
    admin = world.member(ADMIN.id)
    first = browser.sign_in(link_for(admin)).text
    member = world.chat("10")
    member.send("/forget")
    member.tap(member.labels()[0])
    assert world.store.load_user(member.user) is None
    again = browser.get("/").text
    table = re.compile(r"<table>.*?</table>", re.S)
    assert table.findall(first) == table.findall(again)


def test_a_team_name_is_escaped(world: World, browser: Browser) -> None:
    admin = world.member(ADMIN.id)
    admin.send("/newteam evil")
    world.store.db.execute("UPDATE teams SET name = '<script>x</script>'")  # type: ignore[attr-defined]
    browser.sign_in(link_for(admin))
    page = browser.get("/teams")
    assert "<script>" not in page.text and "&lt;script&gt;" in page.text


def test_the_broadcasts_page_shows_delivery_and_schedules(world: World,
                                                          browser: Browser) -> None:
    team_world(world, respondents=6)
    admin = world.member(ADMIN.id)
    admin.send("/broadcast")
    admin.tap("team riverside")
    admin.tap("Type a message")
    admin.send("Stand-up <b>moved</b>.")
    admin.tap("Send now")
    browser.sign_in(link_for(admin))
    page = browser.get("/broadcasts")
    assert page.status == 200
    assert "Stand-up &lt;b&gt;moved&lt;/b&gt;." in page.text
    assert "Recipients" in page.text and "Schedules" in page.text


def test_the_export_is_a_download_and_is_logged(world: World, browser: Browser) -> None:
    admin = world.member(ADMIN.id)
    page = browser.sign_in(link_for(admin))
    shown = browser.get("/export")
    download = browser.post("/export", {"csrf": browser.csrf(shown), "format": "csv"})
    assert download.status == 200 and download.body.startswith("\ufeff".encode())
    assert "attachment" in download.headers["Content-Disposition"]
    pages = [v.page for v in world.dashboard.views(str(ADMIN))]
    assert "export:csv" in pages and "overview" in pages
    assert browser.post("/export", {"csrf": "nope"}).status == 403
    assert page.status == 200


def test_page_views_are_in_mydata(world: World, browser: Browser) -> None:
    admin = world.member(ADMIN.id)
    browser.sign_in(link_for(admin))
    data = world.store.export_user(ADMIN)
    assert [v["page"] for v in data["dashboard_views"]] == ["overview"]
    assert data["dashboard_sessions"] and data["dashboard_links"]


def test_pages_follow_the_viewers_language(world: World, browser: Browser) -> None:
    admin = world.member(ADMIN.id)
    world.engine.handle(Event(ADMIN, text="/language fr", update_id=next(world.ids)))
    page = browser.sign_in(link_for(admin))
    assert '<html lang="fr">' in page.text and "Se déconnecter" in page.text


def test_every_message_a_page_says_is_declared() -> None:
    used = set()
    for path in [*TEMPLATES.glob("*.html"), *(PROJECT / "bot" / "dashboard").glob("*.py")]:
        used |= set(re.findall(r"""["'](dash\.[a-z_]+(?:\.[a-z_]+)?)["']""",
                               path.read_text("utf-8")))
    why = {f"dash.why.{r}" for r in ("too_few", "spread_too_few", "differencing",
                                     "parts_hidden")}
    assert used - {"dash.why."} <= set(PAGE_MESSAGES)
    assert why <= set(PAGE_MESSAGES)


def test_the_funnel_counts_who_reached_each_step(world: World, browser: Browser) -> None:
    team_world(world, respondents=6)
    world.member("60")  # onboarded, answered nothing
    world.clock.now += 8 * 86_400
    admin = world.member(ADMIN.id)
    page = browser.sign_in(link_for(admin)).text
    funnel = page[page.index("People who reached each step"):]
    rows = re.findall(r'<th scope="row">(\d+)\. [^<]+</th>\s*<td>(\d+)</td>', funnel)
    assert [(int(n), int(c)) for n, c in rows] == [(n, 6) for n in range(1, 13)]


def test_the_webhook_serves_the_dashboard_beside_it_when_its_address_is_set(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio
    from typing import cast

    import aiohttp

    from bot.channels import http_server
    from bot.channels.telegram import app, webhook
    from bot.channels.telegram.channel import TelegramChannel
    from bot.channels.telegram.config import WebhookConfig
    from bot.storage.sqlite_store import SQLiteStore
    from bot.wiring import engine_parts

    store = world.store
    assert isinstance(store, SQLiteStore)
    monkeypatch.delenv("CCBOT_DASHBOARD_URL", raising=False)
    assert app.dashboard_routes(world.engine, store, engine_parts(store)) == []
    monkeypatch.setenv("CCBOT_DASHBOARD_URL", "https://bot.example.org")
    beside = app.dashboard_routes(world.engine, store, engine_parts(store))
    config = WebhookConfig("127.0.0.1", 0, "https://bot.example.org/tg", "s3cret")
    served = webhook.application(cast(TelegramChannel, object()), config, store, beside)

    async def scenario() -> tuple[int, int, int]:
        async with http_server.running(served, "127.0.0.1", 0) as port, \
                aiohttp.ClientSession() as client:
            base = f"http://127.0.0.1:{port}"
            async with client.get(f"{base}/teams") as teams, \
                    client.get(f"{base}/healthz") as health, \
                    client.post(f"{base}/tg") as hook:
                return teams.status, health.status, hook.status
    assert asyncio.run(scenario()) == (401, 200, 403)


def test_no_log_line_holds_a_sign_in_token(world: World, caplog: pytest.LogCaptureFixture) -> None:
    import asyncio
    import logging

    import aiohttp

    from bot.channels import http_server
    from bot.dashboard.app import routes

    boss = team_world(world, respondents=6)
    link = link_for(boss)
    served = http_server.application(routes(site_of(world)))

    async def scenario() -> None:
        async with http_server.running(served, "127.0.0.1", 0) as port, \
                aiohttp.ClientSession() as client:
            async with client.get(f"http://127.0.0.1:{port}{link}") as shown:
                assert shown.status == 200
            async with client.post(f"http://127.0.0.1:{port}/login",
                                   data={"token": link.rsplit("/", 1)[1]},
                                   allow_redirects=False) as used:
                assert used.status == 303
    with caplog.at_level(logging.DEBUG):
        asyncio.run(scenario())
    assert "/login/redacted" in caplog.text
    assert link.rsplit("/", 1)[1] not in caplog.text


def prompt_answered_by(world: World, people: int) -> int:
    """A prompt broadcast to riverside's team, answered by `people` of its members (with a
    note each, which no page may show); returns its id."""
    from bot.engine.features.broadcasts.actions import plan_broadcast

    team = world.directory.team_named("riverside")
    assert team is not None
    op, _ = plan_broadcast(world.directory, f"team:{team.id}", "riverside", "prompt",
                           "outcomes.insight", None, ADMIN, world.clock.now, ("telegram",))
    commit_ops(world.store, [op])
    broadcast = world.directory.broadcasts(1)[0]
    for n in range(people):
        world.store.db.execute(  # type: ignore[attr-defined]
            "INSERT INTO broadcast_answers (broadcast_id, user_key, level, note, answered_at) "
            "VALUES (?, ?, ?, ?, ?)", (broadcast.id, f"telegram:{10 + n}", 1 + n % 4,
                                       f"secret reflection {n}", world.clock.now))
    return broadcast.id


def test_a_prompts_distribution_is_shown_from_eight_answers(world: World,
                                                            browser: Browser) -> None:
    team_world(world, respondents=6, members=9)
    prompt_answered_by(world, 8)
    browser.sign_in(link_for(world.member(ADMIN.id)))
    page = browser.get("/broadcasts").text
    assert "People per level" in page and "secret reflection" not in page


def test_a_prompts_distribution_from_seven_is_withheld(world: World, browser: Browser) -> None:
    team_world(world, respondents=6, members=9)
    prompt_answered_by(world, 7)
    browser.sign_in(link_for(world.member(ADMIN.id)))
    page = browser.get("/broadcasts").text
    assert "People per level" not in page and "too few people" in page


def test_what_a_page_shows_is_in_the_viewers_ledger_like_the_chats(world: World,
                                                                   browser: Browser) -> None:
    boss = team_world(world, respondents=6)
    team = world.directory.team_named("riverside")
    assert team is not None
    browser.sign_in(link_for(boss))
    browser.get(f"/teams/{team.id}")
    released = world.directory.released(f"telegram:{MANAGER}")
    assert {r.source for r in released} == {f"team:{team.id} round:1"}
    assert len({r.quantity for r in released}) >= 12


def test_dates_are_in_the_viewers_language_and_zone(content: Content) -> None:
    from bot.dashboard.render import Words

    moment = 1_750_000_000.0  # Sun 15 Jun 2025 15:06:40 UTC
    assert Words(content, "fr", "Europe/Paris").when(moment) == "15 juin 2025 à 17:06"
    assert Words(content, "es", None).when(moment) == "15 jun 2025, 15:06"
    assert Words(content, "en", None).zone_note().startswith("Times are in UTC")
    assert Words(content, "fr", None).number(3.5) == "3,5"


def test_a_page_whose_figures_met_another_processs_release_is_decided_again(
        world: World, browser: Browser, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.dashboard import pages
    from bot.engine.ports.releases import ReleaseConflict

    boss = team_world(world, respondents=6)
    browser.sign_in(link_for(boss))
    real, calls = commit_ops, []

    def first_conflicts(store: object, ops: object) -> None:
        calls.append(ops)
        if len(calls) == 1:
            raise ReleaseConflict("the chat released to this viewer meanwhile")
        real(store, ops)  # type: ignore[arg-type]
    monkeypatch.setattr(pages, "commit_ops", first_conflicts)
    page = browser.get("/teams")
    assert page.status == 200 and len(calls) == 2
