"""The conversation engine: events in, replies out. Pure: no Telegram, no SQLite, no charts."""
