"""Pages as HTML: Jinja2 templates (autoescaped), content/ words, dates in the viewer's zone."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from bot.dashboard.security import secure_headers
from bot.definitions.model import DEFAULT_LOCALE, Content
from bot.engine.core.local_time import zone_of

TEMPLATES = Path(__file__).resolve().parent / "templates"
# Every template is HTML: everything put into one is escaped unless marked safe, and
# nothing is (team names, broadcast texts and schedule labels are user-supplied).
_ENV = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                   undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


class Words:
    """The dashboard's words and dates in one language and time zone."""

    def __init__(self, content: Content, locale: str, zone: str | None) -> None:
        self.content = content
        self.locale = locale if locale in content.locales else DEFAULT_LOCALE
        self.zone = zone

    def t(self, message_id: str, **values: object) -> str:
        """A message in the viewer's language."""
        return self.content.text(message_id, self.locale, **values)

    def _moment(self, ts: float) -> datetime:
        try:
            return datetime.fromtimestamp(ts, zone_of(self.zone) if self.zone else timezone.utc)
        except Exception:  # a zone name the system no longer knows: UTC, as the footer says
            return datetime.fromtimestamp(ts, timezone.utc)

    def date(self, ts: float) -> str:
        """'3 Jun 2025' in the viewer's language and zone."""
        moment = self._moment(ts)
        months = self.t("dash.months").split()
        month = months[moment.month - 1] if len(months) == 12 else f"{moment.month:02}"
        return self.t("dash.date", day=moment.day, month=month, year=moment.year)

    def when(self, ts: float | None) -> str:
        """'3 Jun 2025, 09:00' in the viewer's language and zone ('-' for none)."""
        if ts is None:
            return "–"
        return self.t("dash.datetime", date=self.date(ts), time=f"{self._moment(ts):%H:%M}")

    def number(self, value: float | None) -> str:
        """An average with one decimal, in the language's decimal mark."""
        if value is None:
            return "–"
        text = f"{value:.1f}"
        return text.replace(".", ",") if self.locale in ("fr", "es") else text

    def zone_note(self) -> str:
        """Which zone the page's times are in."""
        return self.t("dash.zone", zone=self.zone) if self.zone else self.t("dash.zone_utc")


def page(template: str, words: Words, status: int = 200, **values: Any) -> web.Response:
    """A rendered page with the security headers."""
    html = _ENV.get_template(template).render(t=words.t, w=words, lang=words.locale, **values)
    return secure_headers(web.Response(text=html, status=status,
                                       content_type="text/html", charset="utf-8"))  # type: ignore[return-value]
