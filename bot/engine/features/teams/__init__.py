"""Teams, cohorts, invite links and role grants."""
