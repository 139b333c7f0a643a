"""Context on demand: what the levels mean, why a question matters, evidence cards, /about."""
