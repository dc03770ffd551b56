"""Test helpers shared by the unit and vector tests: vectors, key sets, and forged tokens.

Forging (a header joselab's own signer would refuse, a signature over bytes of our choosing) is how
the failure-path tests reach each check: the token is cryptographically valid, so only the check under
test can be what rejects it.
"""

from __future__ import annotations

# A module of its own, not conftest.py: several conftest.py files share the module name "conftest",
# so "from conftest import ..." can pick up the wrong one (tests/browser/ has its own).
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jwcrypto import jwk
from jwcrypto.jwa import JWA

from joselab import b64url_encode

VECTORS = Path(__file__).parent / "vectors"


def load_vector(relative: str) -> dict[str, Any]:
    """One vector file under ``tests/vectors``, as published (see its README for the origin)."""
    return json.loads((VECTORS / relative).read_text("utf-8"))


def vector_paths(pattern: str) -> list[str]:
    """Vector files matching ``pattern``, relative to ``tests/vectors``, sorted."""
    return sorted(str(p.relative_to(VECTORS)) for p in VECTORS.glob(pattern))


def keyset(*keys: jwk.JWK | Mapping[str, Any]) -> jwk.JWKSet:
    """A JWK Set holding ``keys`` as given (private parts included): a verifier's trusted keys."""
    out = jwk.JWKSet()
    for k in keys:
        out.add(k if isinstance(k, jwk.JWK) else jwk.JWK(**k))
    return out


def b64json(value: Any) -> str:
    """BASE64URL(UTF8(JSON)) of any value, compactly: a header joselab's encoder would not write."""
    return b64url_encode(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def forge_jws(
    protected: str | Mapping[str, Any], payload: bytes, key: jwk.JWK, alg: str, *, payload_segment: str | None = None
) -> str:
    """A compact JWS over any header (already-encoded text, or an object to encode) with a real
    signature by ``key`` using ``alg``, bypassing joselab's signer and its refusals."""
    header_b64 = protected if isinstance(protected, str) else b64json(protected)
    segment = b64url_encode(payload) if payload_segment is None else payload_segment
    signature = JWA.signing_alg(alg).sign(key, f"{header_b64}.{segment}".encode())
    return f"{header_b64}.{segment}.{b64url_encode(signature)}"


def sign_raw(signing_input: bytes, key: jwk.JWK, alg: str) -> str:
    """base64url of a real signature over exactly ``signing_input``."""
    return b64url_encode(JWA.signing_alg(alg).sign(key, signing_input))
