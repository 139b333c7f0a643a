"""Stored settings and role grants: the smallest reads the coordinator features make."""

from __future__ import annotations

from typing import Protocol

from bot.engine.core.events import UserKey


class Settings(Protocol):
    """Deployment settings stored in the database (bot username, secrets)."""

    def setting(self, name: str) -> str | None:
        """A stored setting (e.g. 'bot_username', 'pseudonym_secret')."""
        ...


class Grants(Protocol):
    """Roles granted in the database (coordinator, admin)."""

    def granted_roles(self, user: UserKey) -> frozenset[str]:
        """Roles granted to the user (coordinator, admin); not CCBOT_ADMINS, not manager."""
        ...

    def grants(self) -> list[tuple[str, str, float]]:
        """Every stored grant as (user key, role, granted at), sorted."""
        ...
