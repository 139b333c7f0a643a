"""The Telegram channel: durable inbox, per-chat ordered handling and a reply outbox."""
