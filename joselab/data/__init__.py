"""Data files that ship with joselab: the demo keys, the table of cited sections, the word list, and
the OpenID Connect Core Appendix A hash values (``oidc-core-hashes.json``, the same file as
``tests/vectors/oidc-core-hashes.json``: a notebook downloaded on its own reads it from here)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any


def load_json(name: str) -> Any:
    """One of the package's JSON data files, by file name (e.g. ``"oidc-core-hashes.json"``)."""
    return json.loads(resources.files(__name__).joinpath(name).read_text("utf-8"))
