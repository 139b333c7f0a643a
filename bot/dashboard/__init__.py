"""The web dashboard: server-rendered pages for managers and coordinators (docs/DASHBOARD.md)."""
