"""Channels: adapters that translate between a chat surface and engine events."""
