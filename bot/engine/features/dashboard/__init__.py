"""/dashboard: a one-time sign-in link to the web dashboard."""
