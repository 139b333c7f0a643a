"""The conversation core: events, records, the turn, machines, roles and the feature API."""
