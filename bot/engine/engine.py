"""The engine's front door: an Event in, a Response out, the change stored in one transaction."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Protocol

from bot.definitions.model import DEFAULT_LOCALE, Content
from bot.engine.charts import ChartRenderer
from bot.engine.conversation import Turn
from bot.engine.events import Event, Response, UserKey, without_surrogates
from bot.engine.features import Command, Feature
from bot.engine.machines import DialogueMachine, build_machines
from bot.engine.records import Commit
from bot.engine.store import Store

log = logging.getLogger(__name__)

REQUIRED_DIALOGUES = ("onboarding", "cycle")
# Each role includes the powers of those before it.
ROLE_ORDER = ("member", "manager", "coordinator", "admin")


class RoleBook(Protocol):
    """Who holds which role; the engine asks before every privileged action."""

    def roles(self, key: UserKey) -> frozenset[str]:
        """The roles the user holds (members hold none)."""
        ...


class NoRoles:
    """A RoleBook where nobody holds a role."""

    def roles(self, key: UserKey) -> frozenset[str]:
        return frozenset()


class Roles:
    """Role checks over a RoleBook, with the rank order applied."""

    def __init__(self, book: RoleBook) -> None:
        self.book = book

    def has(self, key: UserKey, role: str) -> bool:
        """True when the user holds `role` or one ranked above it."""
        if role == "member":
            return True
        wanted = ROLE_ORDER.index(role)
        return any(r in ROLE_ORDER and ROLE_ORDER.index(r) >= wanted
                   for r in self.book.roles(key))


class Engine:
    """Handles events for every user with one shared machine per dialogue."""

    def __init__(self, content: Content, store: Store,
                 clock: Callable[[], float] = time.time, features: Iterable[Feature] = (),
                 roles: RoleBook | None = None, charts: ChartRenderer | None = None) -> None:
        self.content, self.machines = self._prepared(content)
        self.store = store
        self.clock = clock
        self.features = tuple(features)
        self.charts = charts
        self.roles = Roles(roles or NoRoles())
        self.commands: dict[str, Command] = {}
        for feature in self.features:
            for command in feature.commands():
                if command.name in self.commands:
                    raise ValueError(f"command /{command.name} is added by two features")
                self.commands[command.name] = command

    @staticmethod
    def _prepared(content: Content) -> tuple[Content, dict[str, DialogueMachine]]:
        missing = [d for d in REQUIRED_DIALOGUES if d not in content.dialogues]
        if missing:
            raise ValueError(f"dialogues missing: {', '.join(missing)}; "
                             "add them under dialogues/ (see docs/CONTENT.md)")
        return content, build_machines(content.dialogues)

    def reload(self, content: Content) -> None:
        """Swap in new, already validated content; users on removed steps are moved next turn."""
        # Both are built before either is replaced, so no turn ever sees a mix of old and new.
        self.content, self.machines = self._prepared(content)

    def feature_for(self, value: str) -> Feature | None:
        """The feature owning an awaiting state or button data, if any."""
        return next((f for f in self.features if f.owns(value)), None)

    def pick_locale(self, hint: str | None) -> str:
        """The user's locale from a channel hint such as Telegram's 'fr-CA', if we have it."""
        if hint:
            code = hint.replace("_", "-").split("-", 1)[0].lower()
            if code in self.content.locales:
                return code
        return DEFAULT_LOCALE

    def handle(self, event: Event) -> Response:
        """Handle one event exactly once; a repeated update id changes and says nothing."""
        if event.update_id is not None and self.store.seen(event.user.channel, event.update_id):
            return Response(duplicate=True)
        event = without_surrogates(event)
        record = self.store.load_user(event.user)
        turn = Turn(self, event, record, self.clock())
        response = turn.run()
        change = Commit(
            user=event.user,
            update_id=event.update_id,
            record=None if turn.forget else turn.record,
            answers=() if turn.forget else tuple(turn.answers),
            forget=turn.forget,
            ops=() if turn.forget else tuple(turn.ops),
            replies=response.replies,
        )
        if not self.store.commit(change):
            return Response(duplicate=True)
        for what in turn.refused:
            log.warning("refused %s for %s (update %s): role does not allow it", what,
                        event.user, event.update_id)
        return response
