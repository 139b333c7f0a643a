"""What every dashboard response carries and checks: headers, the client, HTTPS, rate limits.

The headers forbid everything a page does not need: no script at all, styles and images from
this server only (and charts as data: URIs), no framing, no referrer. A proxy's
X-Forwarded-For (its last entry) and X-Forwarded-Proto are believed only from a proxy on this
machine (a loopback peer); anyone else could set them.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import threading
import time
from collections import deque
from urllib.parse import urlsplit

from aiohttp import web

from bot.channels.http_server import SECURITY_HEADERS, forwarded_for

# The headers every response of the stack carries (bot/channels/http_server.py); the
# dashboard's own responses set them too, so that a page is safe on any application.
HEADERS = SECURITY_HEADERS
# Sign-in attempts from one address: this many per window, then 429 until the window moves.
LOGIN_ATTEMPTS = 10
LOGIN_WINDOW = 600.0
LOGIN_KEYS = 10_000  # addresses remembered at most (the least recently seen go first)


def secure_headers(response: web.StreamResponse) -> web.StreamResponse:
    """Add the security headers to a response; returns it."""
    for name, value in HEADERS.items():
        response.headers[name] = value
    return response


def _peer(request: web.Request) -> str:
    peer = request.transport.get_extra_info("peername") if request.transport else None
    return str(peer[0]) if peer else ""


def _from_local_proxy(request: web.Request) -> bool:
    try:
        return ipaddress.ip_address(_peer(request)).is_loopback
    except ValueError:
        return False


def client_address(request: web.Request) -> str:
    """The browser's address: the last X-Forwarded-For entry a local proxy added, else the peer.

    Only the last entry is the proxy's own: anything before it (and X-Real-Ip, which Caddy
    passes through from the browser untouched) is whatever the browser sent.
    """
    if _from_local_proxy(request):
        forwarded = forwarded_for("", request.headers.get("X-Forwarded-For", ""))
        if forwarded is not None:
            return forwarded
    return _peer(request) or "unknown"


def rate_key(address: str) -> str:
    """What the sign-in limit counts by: an IPv4 address, or an IPv6 address's /64 (one
    machine is usually given a whole /64, so counting single IPv6 addresses limits nothing)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def is_https(request: web.Request) -> bool:
    """True when the browser reached us over HTTPS (directly, or through a local proxy)."""
    if request.transport is not None and \
            request.transport.get_extra_info("sslcontext") is not None:
        return True
    return _from_local_proxy(request) and \
        request.headers.get("X-Forwarded-Proto", "").lower() == "https"


def same_origin(request: web.Request) -> bool:
    """False when the browser says a form comes from another site (login CSRF: a page
    elsewhere posting someone else's sign-in link, so that the victim works in the
    attacker's session). Browsers send Sec-Fetch-Site and Origin with every form POST; a
    client that sends neither is no browser another site could drive."""
    fetch_site = request.headers.get("Sec-Fetch-Site", "").lower()
    if fetch_site and fetch_site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("Origin", "null")
    if origin == "null":
        # What a browser sends under our own Referrer-Policy: no-referrer (and an attacker's
        # page can choose it too): it says nothing, so Sec-Fetch-Site above decides.
        return True
    return urlsplit(origin).netloc.lower() == request.host.lower()


def csrf_token(session_id: str) -> str:
    """The form token of a session: derived from the session id, useless without it."""
    return hmac.new(session_id.encode(), b"dashboard-form", hashlib.sha256).hexdigest()


def csrf_ok(session_id: str, given: str) -> bool:
    """True when a form's token belongs to this session (compared in constant time)."""
    return hmac.compare_digest(csrf_token(session_id).encode(), given.encode("utf-8",
                                                                             "surrogateescape"))


class RateLimit:
    """At most `limit` events per `window` seconds per key (a sliding window), for at most
    `keys` keys: past that, the key idle longest is forgotten (it starts afresh if it comes
    back, which costs an attacker a fresh address per `limit` guesses, as before)."""

    def __init__(self, limit: int = LOGIN_ATTEMPTS, window: float = LOGIN_WINDOW,
                 keys: int = LOGIN_KEYS) -> None:
        self.limit, self.window, self.keys = limit, window, keys
        # Least recently used first: a dict keeps insertion order, and a key is moved to the
        # end at each event, so eviction takes the first keys in O(1) each.
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, now: float | None = None) -> bool:
        """Count one event for `key`; False when it is over the limit."""
        now = time.monotonic() if now is None else now
        with self._lock:
            events = self._events.pop(key, None) or deque()
            self._events[key] = events
            while events and events[0] <= now - self.window:
                events.popleft()
            if len(events) >= self.limit:
                return False
            events.append(now)
            while len(self._events) > self.keys:
                del self._events[next(iter(self._events))]
            return True
