"""Getting started and help: /start and /help."""
