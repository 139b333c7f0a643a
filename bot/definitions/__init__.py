"""Content and dialogue definitions: YAML loaded and validated into frozen dataclasses."""
