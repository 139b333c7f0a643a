"""Storage adapters: the SQLite implementation of the engine's Store port."""
