"""The engine's front door: an Event in, a Response out, the change stored in one transaction."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

from bot.definitions.model import DEFAULT_LOCALE, Content
from bot.engine.core.commands import Command
from bot.engine.core.events import Event, Response, without_surrogates
from bot.engine.core.feature_api import Feature
from bot.engine.core.machines import DialogueMachine, build_machines
from bot.engine.core.records import Commit
from bot.engine.core.roles import NoRoles, RoleBook, Roles
from bot.engine.core.turn import Turn
from bot.engine.features.personal import personal_features
from bot.engine.ports.charts import ChartRenderer
from bot.engine.ports.store import Store

log = logging.getLogger(__name__)

REQUIRED_DIALOGUES = ("onboarding", "cycle")


class Engine:
    """Handles events for every user with one shared machine per dialogue."""

    def __init__(self, content: Content, store: Store,
                 clock: Callable[[], float] = time.time, features: Iterable[Feature] = (),
                 roles: RoleBook | None = None, charts: ChartRenderer | None = None) -> None:
        self.content, self.machines = self._prepared(content)
        self.store = store
        self.clock = clock
        # Everyone's features first: their commands lead the menus, in declaration order.
        self.features = (*personal_features(), *features)
        self.charts = charts
        self.roles = Roles(roles or NoRoles())
        self.commands: dict[str, tuple[Feature, Command]] = {}
        for feature in self.features:
            for command in feature.COMMANDS:
                if command.name in self.commands:
                    raise ValueError(f"command /{command.name} is declared by two features")
                self.commands[command.name] = (feature, command)

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

    def command_list(self) -> list[Command]:
        """Every command, in declaration order (menus and /help are derived from it)."""
        return [command for _, command in self.commands.values()]

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
            notes=() if turn.forget else tuple(turn.notes),
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
