"""In-memory twins of the engine's ports, for tests and the terminal chat."""
