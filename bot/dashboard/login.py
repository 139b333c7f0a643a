"""Signing in with a one-time link from the bot, the session cookie, and signing out.

GET /login/<token> only shows a button: chat apps fetch links to preview them, and a GET
that used the link up would sign the preview in. POST /login uses the link (once, within
its 10 minutes, compared in constant time by its hash), checks the role and starts an
8-hour session. Every other page loads the session and the person's rights again at each
request (`signed_in`): a lost role or a /forget ends the session there.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from bot.dashboard.render import Words, page
from bot.dashboard.security import (
    client_address,
    csrf_ok,
    csrf_token,
    is_https,
    rate_key,
    same_origin,
    secure_headers,
)
from bot.dashboard.site import Site, Viewer, load_viewer
from bot.definitions.model import DEFAULT_LOCALE
from bot.engine.features.dashboard.feature import token_hash
from bot.engine.ports.dashboard import Session, View

log = logging.getLogger(__name__)

COOKIE = "ccbot_dashboard"
SESSION_SECONDS = 8 * 3600.0
TOKEN_CHARS = 64  # token_urlsafe(32) is 43; anything much longer is not ours
Page = Callable[[web.Request, Site, Viewer], Awaitable[web.StreamResponse]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def anonymous_words(site: Site, request: web.Request) -> Words:
    """Words for someone not signed in: the browser's first language we have, else English."""
    content = site.content()
    wanted = request.headers.get("Accept-Language", "")
    for part in wanted.split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in content.locales:
            return Words(content, code, None)
    return Words(content, DEFAULT_LOCALE, None)


def message(site: Site, request: web.Request, status: int, title: str, body: str,
            words: Words | None = None, viewer: Viewer | None = None) -> web.Response:
    """A page that only says something (refusals, expired links, signed out); with `viewer`,
    under the signed-in menu."""
    words = words or anonymous_words(site, request)
    return page("message.html", words, status, title=words.t(title), body=words.t(body),
                viewer=viewer, csrf=csrf_token(viewer.session_id) if viewer else "")


def routes(site: Site) -> list[web.RouteDef]:
    """GET /login/<token>, POST /login and POST /logout."""

    async def login_page(request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        if len(token) > TOKEN_CHARS:
            return message(site, request, 404, "dash.link_bad_title", "dash.link_bad")
        return page("login.html", anonymous_words(site, request), token=token, viewer=None,
                    csrf="")

    async def login(request: web.Request) -> web.StreamResponse:
        if not site.logins.allow(rate_key(client_address(request))):
            log.warning("dashboard sign-in attempts from %s over the limit: refused",
                        client_address(request))
            return message(site, request, 429, "dash.slow_down_title", "dash.slow_down")
        if not same_origin(request):
            return message(site, request, 403, "dash.form_bad_title", "dash.form_bad")
        form = await request.post()
        token = str(form.get("token", ""))[:TOKEN_CHARS]
        user = site.book.redeem(token_hash(token), site.clock()) if token else None
        if user is None:
            return message(site, request, 403, "dash.link_bad_title", "dash.link_bad")
        viewer = load_viewer(site, user)
        if viewer is None:
            return message(site, request, 403, "dash.no_role_title", "dash.no_role")
        session_id = secrets.token_urlsafe(32)
        now = site.clock()
        site.book.start_session(Session(_hash(session_id), user, now, now + SESSION_SECONDS))
        response = web.Response(status=303, headers={"Location": "/"})
        response.set_cookie(COOKIE, session_id, max_age=int(SESSION_SECONDS), path="/",
                            httponly=True, samesite="Strict", secure=is_https(request))
        secure_headers(response)
        return response

    async def logout(request: web.Request) -> web.StreamResponse:
        session_id = request.cookies.get(COOKIE, "")
        form = await request.post()
        if session_id and csrf_ok(session_id, str(form.get("csrf", ""))):
            site.book.end_session(_hash(session_id))
        elif session_id:
            return message(site, request, 403, "dash.form_bad_title", "dash.form_bad")
        response = message(site, request, 200, "dash.signed_out_title", "dash.signed_out")
        response.del_cookie(COOKIE, path="/")
        return response

    return [web.get("/login/{token}", login_page), web.post("/login", login),
            web.post("/logout", logout)]


def signed_in(site: Site, name: str, handler: Page) -> Handler:
    """`handler` for signed-in people with a dashboard role now; a GET is logged as a view of
    page `name` (with the path's team or broadcast number, never anything typed)."""

    async def run(request: web.Request) -> web.StreamResponse:
        session_id = request.cookies.get(COOKIE, "")
        session = site.book.session(_hash(session_id), site.clock()) if session_id else None
        if session is None:
            return message(site, request, 401, "dash.signed_out_title", "dash.sign_in")
        viewer = load_viewer(site, session.user, session_id)
        if viewer is None:
            # The role was lost (or the person forgotten): this session ends now.
            site.book.end_sessions_of(session.user)
            return message(site, request, 403, "dash.no_role_title", "dash.no_role")
        if request.method == "GET":
            site.book.record_view(View(viewer.user, page_name(name, request.match_info),
                                          site.clock()))
        return await handler(request, site, viewer)

    return run


def page_name(name: str, path: Mapping[str, str]) -> str:
    """The page's name as logged: the path's numbers in it, anything else as '?', so that
    nothing typed in the address bar (or a link made to be logged) reaches dashboard_views."""
    return name.format(**{key: value if value.isdigit() and len(value) <= 12 else "?"
                          for key, value in path.items()})


def form_token(viewer: Viewer) -> str:
    """The CSRF token the viewer's forms carry."""
    return csrf_token(viewer.session_id)


def form_ok(viewer: Viewer, given: str) -> bool:
    """True when a posted form came from one of the viewer's own pages."""
    return csrf_ok(viewer.session_id, given)
