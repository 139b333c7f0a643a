"""The dashboard's defences, as specs: the sign-in limit, headers on every response, login CSRF."""

from __future__ import annotations

from bot.dashboard.security import RateLimit, rate_key


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
