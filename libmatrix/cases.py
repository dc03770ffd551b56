"""The scenario checks the hostile corpus leaves out, as cases of the same shape.

The corpus (``tests/hostile/corpus.py``) mutates what every JWT shares; these are the rows that belong
to one profile: the access token's ``typ`` and required string claims (RFC 9068 §4 (1), §2.2), the ID
token's ``nonce``, ``azp`` and audience (OIDC Core §3.1.3.7), the statement's ``typ`` and ``jti``.
Each is the scenario's valid base token with one change, signed for real by the base's own key, so
only the check under test can refuse it; :func:`libmatrix.run.run` requires joselab to refuse each.
"""

from __future__ import annotations

import json
from typing import Any

from hostile.corpus import Case
from hostile.harness import Harness

CATEGORY = "scenario"


def _claims(claims: dict[str, Any], **changes: Any) -> bytes:
    out = {k: v for k, v in {**claims, **changes}.items() if v is not ...}
    return json.dumps(out, separators=(",", ":")).encode()


def extra_cases(h: Harness) -> list[Case]:
    out: list[Case] = []

    def add(validator: str, cid: str, description: str, header_changes: dict[str, Any], **claim_changes: Any) -> None:
        base = h.bases[validator]
        header = {k: v for k, v in {**base.header, **header_changes}.items() if v is not ...}
        token = base.sign(header, _claims(base.claims or {}, **claim_changes))
        out.append(Case(f"{validator}/{cid}", CATEGORY, description, token, validator, None, {validator: ("any", None)}))

    add("access_token", "typ-missing", "no typ (RFC 9068 §4 (1) requires at+jwt)", {"typ": ...})
    add("access_token", "typ-jwt", 'typ "JWT": another kind of JWT with an access token\'s claims', {"typ": "JWT"})
    add("access_token", "client_id-missing", "client_id removed", {}, client_id=...)
    add("access_token", "jti-missing", "jti removed", {}, jti=...)
    add("access_token", "sub-number", "sub as a number", {}, sub=42)
    add("id_token", "nonce-missing", "nonce removed (the client sent one)", {}, nonce=...)
    add("id_token", "nonce-other", "the nonce of another authentication request", {}, nonce="n-attacker-0001")
    add("id_token", "azp-other", "azp names another client", {}, azp="other-client.example")
    add("id_token", "aud-extra", "aud lists an untrusted second audience", {}, aud=["client.example", "https://attacker.example"])
    add("id_token", "typ-at-jwt", 'typ "at+jwt": an access token shaped as an ID token', {"typ": "at+jwt"})
    add("software_statement", "typ-missing", "no typ (the OB directory types its statements JWT)", {"typ": ...})
    add("software_statement", "jti-missing", "jti removed", {}, jti=...)
    return out
