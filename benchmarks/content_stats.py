"""Shape of the shipped prompts: how many, how long, how many persona variants, how they open.

    .venv/bin/python benchmarks/content_stats.py
"""

from __future__ import annotations

import statistics
from pathlib import Path

from bot.definitions.checked import load_content
from bot.engine.messages import REQUIRED_MESSAGES

PROJECT = Path(__file__).resolve().parent.parent
OPENINGS = {"en": "This week", "fr": "Cette semaine", "es": "Esta semana"}


def main() -> None:
    content = load_content(PROJECT / "content", PROJECT / "dialogues", REQUIRED_MESSAGES)
    cycle = [q for q in content.questions.values() if q.id.count(".") == 1
             and not q.id.startswith("quick.")]
    prompts = [p for q in cycle for p in q.prompts]
    variants = [v for p in prompts for _, v in p.personas]
    print(f"questions {len(cycle)}, level prompts {len(prompts)}, persona variants "
          f"{len(variants)}, with about {sum(q.about is not None for q in cycle)}")
    for locale, opening in OPENINGS.items():
        texts = [p.text.get(locale) for p in prompts] + [v.text.get(locale) for v in variants]
        print(f"{locale}: longest {max(map(len, texts))} chars, median "
              f"{statistics.median(map(len, texts)):.0f}, starting '{opening}' "
              f"{sum(t.startswith(opening) for t in texts)} of {len(texts)}")


if __name__ == "__main__":
    main()
