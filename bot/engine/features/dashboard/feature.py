"""/dashboard: managers, coordinators and admins get a one-time link to the web dashboard.

The link carries a random token; only its SHA-256 is stored (a database copy holds no usable
link). It works once, for LINK_SECONDS, and the dashboard checks the role again at every
request (bot/dashboard/login.py).
"""

from __future__ import annotations

import hashlib
import secrets

from bot.engine.core.commands import Command
from bot.engine.core.feature_api import Feature, TurnApi
from bot.engine.ports.dashboard import IssueLogin

URL_ENV = "CCBOT_DASHBOARD_URL"
LINK_SECONDS = 600.0
DASHBOARD_MESSAGES = ("dash.link", "dash.no_url")


def token_hash(token: str) -> str:
    """What is stored of a sign-in token: its SHA-256, in hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class DashboardFeature(Feature):
    """/dashboard in a private chat; the dashboard's address is `url` ($CCBOT_DASHBOARD_URL)."""

    prefix = "dash"

    def __init__(self, url: str | None) -> None:
        self.url = (url or "").rstrip("/")

    def cmd_dashboard(self, turn: TurnApi, arg: str) -> None:
        if not self.url:
            turn.say(turn.t("dash.no_url", env=URL_ENV))
            return
        token = secrets.token_urlsafe(32)
        turn.ops.append(IssueLogin(token_hash(token), str(turn.user.key), turn.now,
                                   turn.now + LINK_SECONDS))
        turn.say(turn.t("dash.link", url=f"{self.url}/login/{token}",
                        minutes=int(LINK_SECONDS // 60)))

    COMMANDS = (Command("dashboard", cmd_dashboard, "command.dashboard", requires="manager"),)
