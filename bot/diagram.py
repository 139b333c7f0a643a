"""Draws a dialogue's state machine as a Mermaid state diagram."""

from __future__ import annotations

from bot.engine.core.machines import DialogueMachine


def mermaid(machine: DialogueMachine) -> str:
    """The dialogue as `stateDiagram-v2` text, one line per state and transition."""
    names = {state: f"s{i}" for i, state in enumerate(machine.states)}
    lines = ["stateDiagram-v2"]
    lines += [f'    state "{state}" as {alias}' for state, alias in names.items()]
    lines.append(f"    [*] --> {names[machine.dialogue.start]}")
    seen: set[tuple[str, str, str]] = set()
    for move in machine.transitions:
        sources = machine.states if move["source"] == "*" else [move["source"]]
        if move["source"] == "*":
            # Jumps reach a step from anywhere; drawing every edge would hide the flow.
            lines.append(f"    note right of {names[move['dest']]}: {move['trigger']} from any")
            continue
        for source in sources:
            label = move["trigger"] + (" [end of pass]" if move.get("conditions") and
                                       move["dest"] == machine.dialogue.summary_step else "")
            edge = (names[source], names[move["dest"]], label)
            if edge not in seen:
                seen.add(edge)
                lines.append(f"    {edge[0]} --> {edge[1]}: {label}")
    for step in machine.dialogue.steps:
        if step.kind == "end":
            lines.append(f"    {names[step.id]} --> [*]")
    return "\n".join(lines) + "\n"
