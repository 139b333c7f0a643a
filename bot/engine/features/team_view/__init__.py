"""The team view: /team, its figures and words, and the weekly digest."""
