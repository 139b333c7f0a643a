"""Stable pseudonyms: an HMAC of the user's key under a secret generated once per database."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from bot.engine.core.events import UserKey
from bot.engine.ports.directory import Directory
from bot.engine.ports.directory_ops import SetSetting

SECRET_SETTING = "pseudonym_secret"
# 10 hex digits (40 bits): the chance that two of 10,000 people share a pseudonym is ~5e-5,
# where the 8 digits of the example in the issue would give ~1%.
_EXPORT_DIGITS = 10
_MEMBER_DIGITS = 8


class SecretMissing(RuntimeError):
    """The pseudonym secret is not in the database; install the directory first."""


def new_secret_op() -> SetSetting:
    """An op storing a fresh secret unless one exists (install() commits it at start-up)."""
    return SetSetting(SECRET_SETTING, secrets.token_hex(32), keep=True)


def secret_of(directory: Directory) -> bytes:
    """The database's pseudonym secret."""
    value = directory.setting(SECRET_SETTING)
    if not value:
        raise SecretMissing("no pseudonym secret stored; the directory was not installed")
    return value.encode("ascii")


def _digest(secret: bytes, purpose: str, user: UserKey | str) -> str:
    message = f"{purpose}|{user}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def pseudonym(secret: bytes, user: UserKey | str) -> str:
    """The export pseudonym, e.g. 'p-3f9a1c2e7b': the same person always gets the same one."""
    return "p-" + _digest(secret, "export", user)[:_EXPORT_DIGITS]


def member_code(secret: bytes, user: UserKey | str) -> str:
    """The code a member tells their coordinator, e.g. 'm-1a2b3c4d'; not the export pseudonym.

    A different HMAC purpose keeps member codes (seen in /members) unlinkable to export rows.
    """
    return "m-" + _digest(secret, "member", user)[:_MEMBER_DIGITS]
