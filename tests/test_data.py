"""The package's data files: a notebook run on its own reads its vectors from joselab, not tests/."""

from __future__ import annotations

import json
import re
from pathlib import Path

from joselab.data import load_json
from joselab.id_token import token_hash

VECTORS = Path(__file__).parent / "vectors"


def test_the_packaged_oidc_hash_vectors_are_the_tests_copy():
    # One set of values: tests/vectors/README.md gives their origin for both copies.
    assert load_json("oidc-core-hashes.json") == json.loads((VECTORS / "oidc-core-hashes.json").read_text("utf-8"))
    for case in load_json("oidc-core-hashes.json")["tests"]:
        assert token_hash(case["input"], case["alg"]) == case["expected"]


def test_no_notebook_reads_a_file_outside_the_package():
    for notebook in sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb")):
        code = "".join("".join(c["source"]) for c in json.loads(notebook.read_text("utf-8"))["cells"] if c["cell_type"] == "code")
        # No path into the repository around the notebook: a downloaded notebook has none.
        assert not re.search(r'Path\("\.\."\)|tests/|"tests"\s*/', code), notebook.name
