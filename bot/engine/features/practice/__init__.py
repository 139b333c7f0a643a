"""Commitments to try a prompt, the follow-up days later, and the practice history."""
