"""/start (welcome back, or a deep link) and /help, which always work."""

from __future__ import annotations

from bot.engine.core.commands import Command
from bot.engine.core.feature_api import Feature, TurnApi


class HelpFeature(Feature):
    """The two commands that work before and after onboarding."""

    def cmd_start(self, turn: TurnApi, arg: str) -> None:
        if not turn.user.consent:
            turn.show_current = True
            return
        if arg and turn.use_start_payload(arg):
            return
        turn.say(turn.t("welcome_back"))
        turn.steps.ensure_cycle()
        turn.show_current = True

    def cmd_help(self, turn: TurnApi, arg: str) -> None:
        turn.say(help_text(turn))
        turn.show_current = True

    # /start stays out of the menu: Telegram shows its own Start button to new users.
    COMMANDS = (
        Command("start", cmd_start, before_consent=True),
        Command("help", cmd_help, "command.help", before_consent=True, in_groups=True),
    )


def help_text(turn: TurnApi) -> str:
    """Every command the user may use with its menu line, from the one command list."""
    lines = [turn.t("help.title")]
    for command in turn.menu():
        usage = f" {turn.t(command.usage)}" if command.usage else ""
        lines.append(f"/{command.name}{usage} - {turn.t(command.menu or '')}")
    return "\n".join(lines) + "\n\n" + turn.t("help.answering") + " " + turn.t("help.levels")
