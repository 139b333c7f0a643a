"""The engine's front door: an Event in, a Response out, the change stored in one transaction."""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.definitions.model import DEFAULT_LOCALE, Content
from bot.engine.conversation import Turn
from bot.engine.events import Event, Response
from bot.engine.machines import DialogueMachine, build_machines
from bot.engine.records import Commit
from bot.engine.store import Store

REQUIRED_DIALOGUES = ("onboarding", "cycle")


class Engine:
    """Handles events for every user with one shared machine per dialogue."""

    def __init__(self, content: Content, store: Store,
                 clock: Callable[[], float] = time.time) -> None:
        missing = [d for d in REQUIRED_DIALOGUES if d not in content.dialogues]
        if missing:
            raise ValueError(f"dialogues missing: {', '.join(missing)}; "
                             "add them under dialogues/ (see docs/CONTENT.md)")
        self.content = content
        self.store = store
        self.clock = clock
        self.machines: dict[str, DialogueMachine] = build_machines(content.dialogues)

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
        record = self.store.load_user(event.user)
        turn = Turn(self, event, record, self.clock())
        response = turn.run()
        change = Commit(
            user=event.user,
            update_id=event.update_id,
            record=None if turn.forget else turn.record,
            answers=() if turn.forget else tuple(turn.answers),
            forget=turn.forget,
            replies=response.replies,
        )
        if not self.store.commit(change):
            return Response(duplicate=True)
        return response
