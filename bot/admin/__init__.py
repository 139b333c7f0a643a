"""The coordinator subcommands of `ccbot`: roles, teams, cohorts, broadcasts, schedules, export."""
