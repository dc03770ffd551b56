"""``python -m libmatrix [--out DIR]``: regenerate book/libraries.md and libmatrix/results.json."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .page import render
from .run import run
from .verdicts import summarize

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--page", type=Path, default=ROOT / "book" / "libraries.md")
    parser.add_argument("--json", type=Path, default=ROOT / "libmatrix" / "results.json")
    args = parser.parse_args()
    raw = run()
    summary = summarize(raw)
    args.json.write_text(json.dumps(summary, indent=1, ensure_ascii=False, sort_keys=False) + "\n", encoding="utf-8")
    args.page.write_text(render(summary), encoding="utf-8")
    print(f"{args.page}: {summary['size']['rows']} rows x {summary['size']['libraries']} libraries")


if __name__ == "__main__":
    main()
