"""A user's own data in the chat: /profile, /progress, /language, /mydata and /forget."""

from __future__ import annotations

import json
from dataclasses import replace

from bot.engine.core.commands import Command
from bot.engine.core.events import Attachment, Choice, Reply
from bot.engine.core.feature_api import Feature, TurnApi
from bot.engine.core.typed import normalise
from bot.engine.features.me import views


class MeFeature(Feature):
    """What is the user's own: their reports, their language, their data and its deletion."""

    # Bare names: these awaiting states are stored in users' records from before prefixes.
    awaits = ("language", "forget")

    def cmd_profile(self, turn: TurnApi, arg: str) -> None:
        views.profile(turn)

    def cmd_progress(self, turn: TurnApi, arg: str) -> None:
        views.progress(turn)

    def cmd_language(self, turn: TurnApi, arg: str) -> None:
        names = dict(turn.content.locale_names)
        wanted = normalise(arg)
        code = next((c for c, n in names.items() if wanted in (c, normalise(n))), None)
        if code is None:
            if arg:
                turn.say(turn.t("language.unknown", name=arg[:40],
                                languages=", ".join(names.values())))
            turn.record = replace(turn.user, awaiting="language")
            turn.show_current = True
            return
        self.set_language(turn, code)

    def cmd_mydata(self, turn: TurnApi, arg: str) -> None:
        data = turn.store.export_user(turn.user.key)
        body = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")
        document = Attachment("my-data.json", body, "application/json", turn.t("mydata.caption"))
        turn.replies.append(Reply(turn.t("mydata.sent"), document=document))

    def cmd_forget(self, turn: TurnApi, arg: str) -> None:
        if not turn.user.consent:
            turn.forget = True
            turn.say(turn.t("forget.done"))
            return
        turn.record = replace(turn.user, awaiting="forget")
        turn.show_current = True

    COMMANDS = (
        Command("profile", cmd_profile, "command.profile"),
        Command("progress", cmd_progress, "command.progress"),
        Command("language", cmd_language, "command.language"),
        Command("mydata", cmd_mydata, "command.mydata", before_consent=True),
        Command("forget", cmd_forget, "command.forget", before_consent=True),
    )

    @staticmethod
    def set_language(turn: TurnApi, code: str) -> None:
        turn.record = replace(turn.user, locale=code)
        turn.say(turn.t("language.set", name=dict(turn.content.locale_names)[code]))
        turn.show_current = True

    def prompt(self, turn: TurnApi, awaiting: str) -> tuple[str, tuple[Choice, ...]] | None:
        if awaiting == "forget":
            return turn.t("forget.confirm"), (turn.choice("yes", turn.t("yes")),
                                              turn.choice("no", turn.t("no")))
        if awaiting == "language":
            return turn.t("language.pick"), tuple(
                turn.choice(code, name) for code, name in turn.content.locale_names)
        return None

    def act(self, turn: TurnApi, awaiting: str, option: str) -> None:
        if awaiting == "language" and option in turn.content.locales:
            self.set_language(turn, option)
        elif awaiting == "forget" and option == "yes":
            turn.forget = True
            turn.show_current = False
            turn.say(turn.t("forget.done"))
        elif option == "no":
            turn.say(turn.t("cancelled"))
