"""The book's chapter titles follow one pattern, "N. Title", in each notebook and in _toc.yml alike."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PATTERN = re.compile(r"^(\d+)\. [A-Z0-9`]")


def _parts() -> dict[str, list[dict]]:
    """_toc.yml's parts, each a list of {"file", "title"} (a small reader for its simple layout)."""
    parts: dict[str, list[dict]] = {}
    current: list[dict] = []
    for line in (ROOT / "_toc.yml").read_text("utf-8").splitlines():
        item = line.strip()
        if item.startswith("- caption:"):
            current = parts.setdefault(item.split(":", 1)[1].strip(), [])
        elif item.startswith("- file:"):
            current.append({"file": item.split(":", 1)[1].strip()})
        elif item.startswith("title:") and current:
            current[-1]["title"] = item.split(":", 1)[1].strip().strip('"')
    return parts


def _chapters() -> list[dict]:
    return [c for chapters in _parts().values() for c in chapters]


def _first_heading(notebook: Path) -> str:
    first = json.loads(notebook.read_text("utf-8"))["cells"][0]
    return next(line[2:].strip() for line in "".join(first["source"]).splitlines() if line.startswith("# "))


def test_every_notebook_is_a_chapter_titled_n_dot_title():
    chapters = {c["file"]: c for c in _chapters()}
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks
    for nb in notebooks:
        entry = chapters.get(f"notebooks/{nb.stem}")
        assert entry is not None, f"{nb.name} is not in _toc.yml"
        heading = _first_heading(nb)
        match = PATTERN.match(heading)
        assert match, f"{nb.name}: {heading!r} is not 'N. Title'"
        assert int(match[1]) == int(nb.stem[:2]), f"{nb.name}: its number is {nb.stem[:2]}, its title says {match[1]}"
        assert entry.get("title") == heading, f"_toc.yml titles {nb.name} {entry.get('title')!r}, the notebook {heading!r}"


def test_performance_page_is_for_contributors():
    parts = _parts()
    assert [c["file"] for c in parts.get("For contributors", [])] == ["book/performance"]
    assert "book/performance" not in [c["file"] for c in parts.get("Reference", [])]
