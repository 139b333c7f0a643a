"""Opt-in reminders to carry on with the cycle: offered on /pause and after 3 quiet days."""
