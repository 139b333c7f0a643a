"""The guided cycle: its commands, stepping through dialogues, and the cycle summary."""
