"""jwcrypto 1.6.1, as its docs advise.

Docs: https://jwcrypto.readthedocs.io/en/latest/jwt.html (``jwt.JWT(jwt=..., key=..., algs=...,
check_claims=..., expected_type=...)``: a key set picks the key by ``kid``; ``check_claims`` names the
claims that must be present, with the value each must have, or ``None`` for presence alone; ``exp``
and ``nbf`` are then checked only if listed) and https://jwcrypto.readthedocs.io/en/latest/jws.html
(``JWS.deserialize`` then ``verify(key, detached_payload=...)``; a ``header_registry`` of
``JWSEHeaderParameter`` for extra header parameters that ``crit`` may name).
"""

from __future__ import annotations

import json
import time
from typing import Any

from jwcrypto import jwk, jws, jwt
from jwcrypto.common import JWException, JWSEHeaderParameter

from ..context import OB_IAT, OB_ISS, OB_MEMBERS, OB_TAN, Context
from . import Recipe
from .times import check_times

JWT_DOC = "https://jwcrypto.readthedocs.io/en/latest/jwt.html"
JWS_DOC = "https://jwcrypto.readthedocs.io/en/latest/jws.html"


def _keys(ctx: Context) -> jwk.JWKSet:
    return jwk.JWKSet.from_json(json.dumps(ctx.jwks))


def _decode(ctx: Context, token: Any, check: dict[str, Any], options: frozenset[str], required: list[str]) -> jwt.JWT:
    claims = dict(check)
    if "check_claims" in options:
        claims.update({name: None for name in required if name not in claims})
    extra = {"expected_type": "JWS"} if "expected_type" in options else {}
    return jwt.JWT(jwt=token, key=_keys(ctx), algs=list(ctx.algorithms), check_claims=claims, **extra)


def software_statement(ctx: Context, token: Any, body: bytes | None, options: frozenset[str]) -> Any:
    # An SSA carries no exp: listing it would refuse every statement.
    return json.loads(_decode(ctx, token, {"iss": ctx.issuer}, options, ["iat", "jti"]).claims)


def registration_request(ctx: Context, token: Any, body: bytes | None, options: frozenset[str]) -> Any:
    check = {"iss": ctx.issuer, "aud": ctx.audience, "exp": None}
    return json.loads(_decode(ctx, token, check, options, ["iat", "jti", "software_statement"]).claims)


def access_token(ctx: Context, token: Any, body: bytes | None, options: frozenset[str]) -> Any:
    check = {"iss": ctx.issuer, "aud": ctx.audience, "exp": None}
    return json.loads(_decode(ctx, token, check, options, ["sub", "client_id", "iat", "jti"]).claims)


def id_token(ctx: Context, token: Any, body: bytes | None, options: frozenset[str]) -> Any:
    check = {"iss": ctx.issuer, "aud": ctx.audience, "exp": None, "nonce": ctx.nonce}
    return json.loads(_decode(ctx, token, check, options, ["sub", "iat"]).claims)


def _ob_registry() -> dict[str, JWSEHeaderParameter]:
    return {name: JWSEHeaderParameter(name, True, True, None) for name in (OB_IAT, OB_ISS, OB_TAN)}


def ob_signature(ctx: Context, token: Any, body: bytes | None, options: frozenset[str]) -> Any:
    obj = jws.JWS(header_registry=_ob_registry())
    obj.allowed_algs = list(ctx.algorithms)
    obj.deserialize(token)
    obj.verify(_keys(ctx), detached_payload=body)
    return obj.jose_header


# -- with the lines a reader adds ----------------------------------------------------------------
def _times(claims: dict[str, Any], bound: int | None, lifetime: bool = True) -> None:
    check_times(claims, bound, jwt.JWTInvalidClaimValue, lifetime=lifetime)


def _header(token: jwt.JWT) -> dict[str, Any]:
    return json.loads(token.header)


def access_token_hardened(ctx: Context, token: Any, body: bytes | None) -> Any:
    check = {"iss": ctx.issuer, "aud": ctx.audience, "exp": None}
    decoded = _decode(ctx, token, check, frozenset({"check_claims", "expected_type"}), ["sub", "client_id", "iat", "jti"])
    claims = json.loads(decoded.claims)
    if _header(decoded).get("typ") not in ("at+jwt", "application/at+jwt"):  # RFC 9068 §4 (1)
        raise jwt.JWTInvalidClaimValue("typ")
    _times(claims, ctx.max_age)
    return claims


def id_token_hardened(ctx: Context, token: Any, body: bytes | None) -> Any:
    check = {"iss": ctx.issuer, "aud": ctx.audience, "exp": None, "nonce": ctx.nonce}
    decoded = _decode(ctx, token, check, frozenset({"check_claims", "expected_type"}), ["sub", "iat"])
    claims = json.loads(decoded.claims)
    if _header(decoded).get("typ", "JWT") != "JWT" or claims.get("azp", ctx.audience) != ctx.audience:
        raise jwt.JWTInvalidClaimValue("typ")
    if claims["aud"] not in (ctx.audience, [ctx.audience]):  # OIDC Core §3.1.3.7 (3): no untrusted audience
        raise jwt.JWTInvalidClaimValue("aud")
    _times(claims, ctx.max_age)
    return claims


def software_statement_hardened(ctx: Context, token: Any, body: bytes | None) -> Any:
    decoded = _decode(ctx, token, {"iss": ctx.issuer}, frozenset({"check_claims", "expected_type"}), ["iat", "jti"])
    claims = json.loads(decoded.claims)
    if _header(decoded).get("typ") != "JWT" or "aud" in claims or "software_statement" in claims:
        raise jwt.JWTInvalidClaimValue("typ")
    _times(claims, ctx.max_age, lifetime=False)
    return claims


def registration_request_hardened(ctx: Context, token: Any, body: bytes | None) -> Any:
    check = {"iss": ctx.issuer, "aud": ctx.audience, "exp": None}
    decoded = _decode(ctx, token, check, frozenset({"check_claims", "expected_type"}), ["iat", "jti", "software_statement"])
    claims = json.loads(decoded.claims)
    if _header(decoded).get("typ") != "JWT":  # OB DCR: typ JWT
        raise jwt.JWTInvalidClaimValue("typ")
    _times(claims, ctx.max_age)
    return claims


def ob_signature_hardened(ctx: Context, token: Any, body: bytes | None) -> Any:
    header = ob_signature(ctx, token, body, frozenset())
    now = int(time.time())
    if header.get("typ") != "JOSE" or header.get("cty") != "application/json" or set(header) - OB_MEMBERS:
        raise jwt.JWTInvalidClaimValue("typ")
    if set(header.get("crit", [])) != {OB_IAT, OB_ISS, OB_TAN} or header.get("b64", True) is not True:
        raise jwt.JWTInvalidClaimValue("crit")
    iat = header[OB_IAT]
    if type(iat) is not int or iat > now + 60 or header[OB_ISS] != ctx.ob_iss or header[OB_TAN] not in ctx.trust_anchors:
        raise jwt.JWTInvalidClaimValue("ob")
    return header


CHECK = "check_claims lists every required claim (None: presence)"
TYPE = 'expected_type="JWS"'
RECIPES = [
    Recipe("jwcrypto", "software_statement", JWT_DOC, software_statement, {"check_claims": CHECK, "expected_type": TYPE},
           software_statement_hardened),
    Recipe("jwcrypto", "registration_request", JWT_DOC, registration_request, {"check_claims": CHECK, "expected_type": TYPE},
           registration_request_hardened),
    Recipe("jwcrypto", "access_token", JWT_DOC, access_token, {"check_claims": CHECK, "expected_type": TYPE}, access_token_hardened),
    Recipe("jwcrypto", "id_token", JWT_DOC, id_token, {"check_claims": CHECK, "expected_type": TYPE}, id_token_hardened),
    Recipe("jwcrypto", "ob_signature", JWS_DOC, ob_signature, {}, ob_signature_hardened),
]  # fmt: skip

OWN_ERRORS: tuple[type[BaseException], ...] = (JWException,)
