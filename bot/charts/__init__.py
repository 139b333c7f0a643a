"""Charts drawn with matplotlib's Agg backend: the adapter behind the engine's chart port."""
