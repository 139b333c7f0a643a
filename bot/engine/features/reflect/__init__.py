"""The one-minute reflection: /reflect and its summary."""
