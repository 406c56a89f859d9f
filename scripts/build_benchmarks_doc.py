"""Assemble docs/benchmarks.md from the sections each benchmark writes in docs/benchmarks/."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ORDER = ["import", "report", "clv", "text", "dashboard"]

HEADER = """# Benchmarks

Every figure here was measured on this project's 2-core, 24 GB machine with the command given
in its section; timings live in `benchmarks/`, never in the tests. Each section compares manyi
with what a user would use instead. The sections are kept in `docs/benchmarks/` and assembled
into this page by `python scripts/build_benchmarks_doc.py`.
"""


def main() -> None:
    sections = sorted((ROOT / "docs" / "benchmarks").glob("*.md"))
    rank = {name: i for i, name in enumerate(ORDER)}
    sections.sort(key=lambda p: (rank.get(p.stem, len(ORDER)), p.stem))
    parts = [HEADER]
    for path in sections:
        text = path.read_text(encoding="utf-8").strip()
        # Each section starts at heading level 1 or 2; nest it under this page's title.
        if text.startswith("# "):
            text = "#" + text
        parts.append(text)
    (ROOT / "docs" / "benchmarks.md").write_text("\n\n".join(parts) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
