"""What a relying party knows before a token arrives: keys, issuer, audience, nonce, body.

One :class:`Context` per scenario, taken from the hostile corpus's harness (the same parties and
published demo keys), so that every library is asked exactly what joselab's validator is asked.
Keys are handed over as the JWK Set the party publishes, as a dict, to every library alike: fetching
them is not a check any library makes for you, so no library is timed or judged on it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "tests") not in sys.path:  # the corpus lives with the tests (and imports their kit)
    sys.path.insert(0, str(ROOT / "tests"))

from hostile import harness as H  # noqa: E402

from joselab.registration import public_jwks  # noqa: E402

#: OB R/W ≥3.1.4 message-signing header names (the ``crit`` members of every OB signature).
OB_IAT, OB_ISS, OB_TAN = (f"http://openbanking.org.uk/{n}" for n in ("iat", "iss", "tan"))
#: The members an OB ≥3.1.4 signature header may carry (the profile names them all).
OB_MEMBERS = frozenset({"alg", "kid", "typ", "cty", "crit", OB_IAT, OB_ISS, OB_TAN})


@dataclass(frozen=True)
class Context:
    scenario: str  # the corpus validator name
    jwks: dict[str, Any]
    algorithms: tuple[str, ...]
    issuer: str | None = None
    audience: str | None = None
    nonce: str | None = None
    body: bytes | None = None  # the OB signature's detached payload
    max_age: int | None = None  # joselab policy, where the validator bounds iat's age
    ob_iss: str | None = None
    trust_anchors: tuple[str, ...] = ()


def jwks_of(keyset: Any) -> dict[str, Any]:
    """A jwcrypto JWKSet as the public JSON dict a party publishes."""
    import json

    return json.loads(keyset.export(private_keys=False))


def contexts(h: H.Harness) -> dict[str, Context]:
    """The scenarios the matrix measures, from the harness's parties."""
    reg = h.registration
    statements = reg.bank.statements
    return {
        "software_statement": Context(
            "software_statement",
            public_jwks(reg.directory.key),
            tuple(statements.algorithms),
            issuer=reg.directory.issuer,
            max_age=statements.max_age,
        ),
        "registration_request": Context(
            "registration_request",
            # The client's key, from the statement's software_jwks_endpoint, bound to its one alg (RFC 8725
            # §3.1): PyJWT reads an RSA JWK without "alg" as RS256 only, and would refuse every PS256 request.
            jwks_of(H.published(reg.client.jwk, "PS256")),
            tuple(reg.bank.requests.algorithms),
            issuer=str(h.ssa_claims["software_id"]),
            audience=reg.bank.requests.audience,
            max_age=reg.bank.requests.max_lifetime,
        ),
        "access_token": Context(
            "access_token",
            jwks_of(H.published(H.AS_KEY.jwk, "RS256")),
            ("RS256",),
            issuer=H.AS_ISSUER,
            audience=H.API,
            max_age=h.access.max_lifetime,
        ),
        "id_token": Context(
            "id_token",
            jwks_of(H.published(H.AS_KEY.jwk, "RS256")),
            ("RS256",),
            issuer=H.OP_ISSUER,
            audience=H.CLIENT_ID,
            nonce=H.NONCE,
            max_age=h.id_token.max_lifetime,
        ),
        "ob_signature": Context(
            "ob_signature",
            jwks_of(H.published(H.CLIENT_KEY.jwk, "PS256")),
            ("PS256",),
            body=H.OB_BODY,
            ob_iss=H.TPP.iss,
            trust_anchors=(H.ANCHOR.name,),
        ),
    }
