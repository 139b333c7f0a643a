"""Pseudonyms: an HMAC of the user's key and their salt, under a key kept outside the database."""

from __future__ import annotations

import hashlib
import hmac

from bot.engine.core.events import UserKey
from bot.engine.ports.pseudonyms import PseudonymKeys

# Where the key was kept before issue 12: in the database, beside the data it protects. The
# storage moves it to the key file at start-up and deletes it (bot/storage/pseudonym_keys.py).
SECRET_SETTING = "pseudonym_secret"
# 10 hex digits (40 bits): the chance that two of 10,000 people share a pseudonym is ~5e-5,
# where the 8 digits of the example in the issue would give ~1%.
_EXPORT_DIGITS = 10
_MEMBER_DIGITS = 8


def secret_of(keys: PseudonymKeys) -> bytes:
    """The pseudonym key."""
    return keys.pseudonym_key()


def _digest(secret: bytes, purpose: str, user: UserKey | str, salt: str) -> str:
    # An empty salt (people known before salts existed) keeps the codes they already had.
    message = f"{purpose}|{user}" + (f"|{salt}" if salt else "")
    return hmac.new(secret, message.encode(), hashlib.sha256).hexdigest()


def pseudonym(secret: bytes, user: UserKey | str, salt: str = "") -> str:
    """The export pseudonym, e.g. 'p-3f9a1c2e7b': the same until the person uses /forget."""
    return "p-" + _digest(secret, "export", user, salt)[:_EXPORT_DIGITS]


def member_code(secret: bytes, user: UserKey | str, salt: str = "") -> str:
    """The code a member tells their coordinator, e.g. 'm-1a2b3c4d'; not the export pseudonym.

    A different HMAC purpose keeps member codes (seen in /members) unlinkable to export rows.
    """
    return "m-" + _digest(secret, "member", user, salt)[:_MEMBER_DIGITS]


def pseudonym_of(keys: PseudonymKeys, user: UserKey) -> str:
    """The person's current export pseudonym."""
    return pseudonym(keys.pseudonym_key(), user, keys.pseudonym_salt(user))


def member_code_of(keys: PseudonymKeys, user: UserKey) -> str:
    """The person's current member code."""
    return member_code(keys.pseudonym_key(), user, keys.pseudonym_salt(user))
