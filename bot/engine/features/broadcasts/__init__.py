"""Broadcasts and schedules: the wizards, recipients' answers, reports."""
