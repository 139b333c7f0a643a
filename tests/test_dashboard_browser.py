"""The dashboard in a real headless Chromium, signed in with a link from the real bot.

`ccbot run` talks to the fake Bot API; `ccbot dashboard` serves the same database. A manager
and an admin ask the bot for /dashboard, open the link in Chromium (Debian's `chromium` and
`chromium-driver`, installed by .ci/run), and look around. Screenshots of every page are
saved under tests/artifacts/ (not committed) to be looked at.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from coordinator_world import ADMIN, World, invite_code
from fake_bot_api import FakeBotAPI
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from test_practice_process import wait_for
from test_team_view import MANAGER, answer_all

from bot.definitions.model import Content
from bot.engine.ports.directory import commit_ops
from bot.engine.ports.directory_ops import SetMemberRole
from bot.engine.release.counts import WEEK, closed_weeks
from bot.engine.release.rounds import settle
from bot.engine.release.rules import Rules

PROJECT = Path(__file__).resolve().parent.parent
ARTIFACTS = PROJECT / "tests" / "artifacts"
CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which(CHROMIUM) is None or shutil.which(DRIVER) is None,
                                 reason="needs chromium and chromium-driver (apt-get install "
                                        "chromium chromium-driver)")]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def seeded(content: Content, db: Path) -> None:
    """Two teams with six respondents each in a closed round, in the last closed week."""
    world = World(content, "sqlite", db)
    this_week = closed_weeks(time.time(), 1)[0] + WEEK
    world.clock.now = this_week - 2 * 3600  # last week: its counts can be shown
    admin = world.member(ADMIN.id)
    for name, manager, first in (("riverside", MANAGER, 10), ("hillside", "77", 40)):
        admin.send(f"/newteam {name}")
        code = invite_code(admin.text())
        world.member(manager).send(f"/start {code}")
        team = world.directory.team_named(name)
        assert team is not None
        commit_ops(world.store, [SetMemberRole(team.id, f"telegram:{manager}", "manager")])
        for n in range(7):
            world.member(str(first + n)).send(f"/start {code}")
            if n < 6:
                answer_all(world, str(first + n), n)
    admin.send("/broadcast")
    admin.tap("team riverside")
    admin.tap("Type a message")
    admin.send("Stand-up moved to <b>10:00</b>.")
    admin.tap("Send now")
    world.clock.now = time.time() - 60
    for name in ("riverside", "hillside"):
        team = world.directory.team_named(name)
        assert team is not None
        # A month boundary since the answers closes their round by itself; else close it now.
        state = settle(world.directory, team.id, team.created_at, world.clock.now, Rules())
        if state.last is None:
            state = settle(world.directory, team.id, team.created_at, world.clock.now, Rules(),
                           close_now_by="test")
        commit_ops(world.store, state.ops)
    # The seeding turns' update ids would be taken for the fake Bot API's, and skipped.
    world.store.db.execute("DELETE FROM processed_updates")  # type: ignore[attr-defined]
    world.close()


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                 "--window-size=1280,1000", "--disable-gpu"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


def link_from_bot(fake: FakeBotAPI, user: int) -> str:
    before = len(fake.texts(user))
    fake.send_text(user, "/dashboard")

    def found() -> str | None:
        for text in fake.texts(user)[before:]:
            match = re.search(r"http://127\.0\.0\.1:\d+/login/[A-Za-z0-9_-]+", text)
            if match:
                return match.group(0)
        return None
    try:
        return str(wait_for(found, "the dashboard link"))
    except AssertionError:
        raise AssertionError(f"no link in {fake.texts(user)}") from None


def shot(driver: WebDriver, name: str, width: int = 1280) -> None:
    """Save a full-page screenshot under tests/artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    height = driver.execute_script(
        "return document.documentElement.scrollHeight")
    driver.set_window_size(width, min(max(int(height) + 140, 600), 6000))
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))
    driver.set_window_size(1280, 1000)


def sign_in(driver: WebDriver, link: str) -> None:
    driver.get(link)
    driver.find_element(By.CSS_SELECTOR, "form[action='/login'] button").click()


def text_of(driver: WebDriver) -> str:
    """The page's visible text ('' while a new page replaces it)."""
    try:
        return str(driver.find_element(By.TAG_NAME, "body").text)
    except WebDriverException:
        return ""


def test_sign_in_from_the_bot_and_look_around_in_chromium(
        content: Content, bot_api: FakeBotAPI, tmp_path: Path, browser: webdriver.Chrome,
        processes: list[subprocess.Popen[bytes]]) -> None:
    from test_telegram_process import READ_TIMEOUT, env_for

    db, log = tmp_path / "bot.db", tmp_path / "bot.log"
    seeded(content, db)
    port = free_port()
    env = env_for(bot_api, db)
    env.update({"CCBOT_DASHBOARD_URL": f"http://127.0.0.1:{port}", "CCBOT_ADMINS": ADMIN.id})
    with log.open("ab") as stderr:
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run", "--poll-timeout", "1", "--read-timeout",
             str(READ_TIMEOUT), "--log-level", "INFO"], env=env, cwd=PROJECT,
            stdout=subprocess.DEVNULL, stderr=stderr))
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "dashboard", "--port", str(port)], env=env,
            cwd=PROJECT, stdout=subprocess.PIPE, stderr=stderr))
    assert processes[1].stdout is not None
    assert "dashboard listening" in processes[1].stdout.readline().decode()
    driver = browser

    # A manager signs in with the bot's link and sees their team's figures.
    link = link_from_bot(bot_api, int(MANAGER))
    sign_in(driver, link)
    wait_for(lambda: "riverside" in text_of(driver), "the manager's teams")
    assert "hillside" not in text_of(driver)
    shot(driver, "teams")
    driver.find_element(By.LINK_TEXT, "riverside").click()
    wait_for(lambda: "Rounds side by side" in text_of(driver), "the team page")
    page = text_of(driver)
    assert "n=6" in page and "Outcomes" in page
    assert driver.find_elements(By.CSS_SELECTOR, "figure img")
    shot(driver, "team")
    shot(driver, "team-phone", width=390)

    # Another team's page is refused.
    other = re.search(r"/teams/(\d+)", driver.current_url)
    assert other is not None
    for candidate in range(1, 4):
        if str(candidate) != other.group(1):
            driver.get(f"http://127.0.0.1:{port}/teams/{candidate}")
            break
    assert "only" in text_of(driver) and "hillside" not in text_of(driver)
    shot(driver, "refused")

    # Logging out ends the session.
    driver.get(f"http://127.0.0.1:{port}/teams")
    driver.find_element(By.CSS_SELECTOR, "form.logout button").click()
    wait_for(lambda: "signed out" in text_of(driver), "signed out")
    shot(driver, "signed-out")
    driver.get(f"http://127.0.0.1:{port}/teams")
    assert "Sign in with a link" in text_of(driver)

    # The same link a second time is refused.
    sign_in(driver, link)
    wait_for(lambda: "already used" in text_of(driver), "the used link refused")
    shot(driver, "link-used")

    # An admin sees the programme overview with the funnel, and the broadcasts.
    sign_in(driver, link_from_bot(bot_api, int(ADMIN.id)))
    wait_for(lambda: "The cycle, step by step" in text_of(driver), "the overview")
    page = text_of(driver)
    assert "Taking part, week by week" in page and "Reached it" in page
    shot(driver, "overview")
    shot(driver, "overview-phone", width=390)
    driver.get(f"http://127.0.0.1:{port}/broadcasts")
    wait_for(lambda: "Schedules" in text_of(driver), "the broadcasts page")
    shot(driver, "broadcasts")
    driver.get(f"http://127.0.0.1:{port}/export")
    shot(driver, "export")
    # No page asked for anything the Content-Security-Policy refused.
    logs = driver.get_log("browser")  # type: ignore[no-untyped-call]
    assert not [entry for entry in logs if "Content Security Policy" in str(entry)]
