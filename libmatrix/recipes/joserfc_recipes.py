"""joserfc 1.8.0, as its docs advise.

Docs: https://jose.authlib.org/en/guide/jwt/ (``jwt.decode`` with a key set and ``algorithms``, then
``JWTClaimsRegistry`` "claims requests": ``{"value": ...}`` to compare, ``{"essential": True}`` to
require) and https://jose.authlib.org/en/guide/jws/ (``deserialize_compact`` with ``payload=`` for
detached content; a ``JWSRegistry`` with ``header_registry`` for extra header parameters, which a
``crit`` list may then name).
"""

from __future__ import annotations

import time
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import InvalidClaimError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry
from joserfc.registry import HeaderParameter

from ..context import OB_IAT, OB_ISS, OB_MEMBERS, OB_TAN, Context
from . import Recipe
from .times import check_times

JWT_GUIDE = "https://jose.authlib.org/en/guide/jwt/"
JWS_GUIDE = "https://jose.authlib.org/en/guide/jws/"
ESSENTIAL = 'each required claim {"essential": True}'


def _claims(ctx: Context, token: Any, options: frozenset[str], expected: dict[str, Any], required: list[str]) -> Any:
    decoded = jwt.decode(token, KeySet.import_key_set(ctx.jwks), algorithms=list(ctx.algorithms))
    requests: dict[str, Any] = {name: {"value": value} for name, value in expected.items()}
    if "essential" in options:
        for name in required:
            requests.setdefault(name, {})["essential"] = True
    jwt.JWTClaimsRegistry(**requests).validate(decoded.claims)
    return decoded


def software_statement(ctx: Context, token: Any, body: bytes | None, options: frozenset[str]) -> Any:
    return _claims(ctx, token, options, {"iss": ctx.issuer}, ["iss", "iat", "jti"]).claims


def registration_request(ctx: Context, token: Any, body: bytes | None, options: frozenset[str]) -> Any:
    required = ["iss", "aud", "exp", "iat", "jti", "software_statement"]
    return _claims(ctx, token, options, {"iss": ctx.issuer, "aud": ctx.audience}, required).claims


def access_token(ctx: Context, token: Any, body: bytes | None, options: frozenset[str]) -> Any:
    required = ["iss", "exp", "aud", "sub", "client_id", "iat", "jti"]  # RFC 9068 §2.2
    return _claims(ctx, token, options, {"iss": ctx.issuer, "aud": ctx.audience}, required).claims


def id_token(ctx: Context, token: Any, body: bytes | None, options: frozenset[str]) -> Any:
    expected = {"iss": ctx.issuer, "aud": ctx.audience, "nonce": ctx.nonce}
    return _claims(ctx, token, options, expected, ["iss", "sub", "aud", "exp", "iat", "nonce"]).claims


def _ob_registry(options: frozenset[str]) -> JWSRegistry:
    required = "required" in options
    return JWSRegistry(
        header_registry={
            OB_IAT: HeaderParameter("OB signing time", "int", required),
            OB_ISS: HeaderParameter("OB signer", "str", required),
            OB_TAN: HeaderParameter("OB trust anchor", "str", required),
        },
        algorithms=["PS256"],
    )


def ob_signature(ctx: Context, token: Any, body: bytes | None, options: frozenset[str]) -> Any:
    obj = jws.deserialize_compact(token, KeySet.import_key_set(ctx.jwks), registry=_ob_registry(options), payload=body)
    return obj.headers()


# -- with the lines a reader adds ----------------------------------------------------------------
def _times(claims: dict[str, Any], bound: int | None, lifetime: bool = True) -> None:
    check_times(claims, bound, InvalidClaimError, lifetime=lifetime)


def access_token_hardened(ctx: Context, token: Any, body: bytes | None) -> Any:
    required = ["iss", "exp", "aud", "sub", "client_id", "iat", "jti"]
    decoded = _claims(ctx, token, frozenset({"essential"}), {"iss": ctx.issuer, "aud": ctx.audience}, required)
    if decoded.header.get("typ") not in ("at+jwt", "application/at+jwt"):  # RFC 9068 §4 (1)
        raise InvalidClaimError("typ")
    _times(decoded.claims, ctx.max_age)
    return decoded.claims


def id_token_hardened(ctx: Context, token: Any, body: bytes | None) -> Any:
    expected = {"iss": ctx.issuer, "aud": ctx.audience, "nonce": ctx.nonce}
    decoded = _claims(ctx, token, frozenset({"essential"}), expected, ["iss", "sub", "aud", "exp", "iat", "nonce"])
    if decoded.header.get("typ", "JWT") != "JWT":  # RFC 8725 §3.11
        raise InvalidClaimError("typ")
    if decoded.claims.get("azp", ctx.audience) != ctx.audience:
        raise InvalidClaimError("azp")
    if decoded.claims["aud"] not in (ctx.audience, [ctx.audience]):  # OIDC Core §3.1.3.7 (3): no untrusted audience
        raise InvalidClaimError("aud")
    _times(decoded.claims, ctx.max_age)
    return decoded.claims


def software_statement_hardened(ctx: Context, token: Any, body: bytes | None) -> Any:
    decoded = _claims(ctx, token, frozenset({"essential"}), {"iss": ctx.issuer}, ["iss", "iat", "jti"])
    if decoded.header.get("typ") != "JWT" or "aud" in decoded.claims or "software_statement" in decoded.claims:
        raise InvalidClaimError("typ")
    _times(decoded.claims, ctx.max_age, lifetime=False)
    return decoded.claims


def registration_request_hardened(ctx: Context, token: Any, body: bytes | None) -> Any:
    required = ["iss", "aud", "exp", "iat", "jti", "software_statement"]
    decoded = _claims(ctx, token, frozenset({"essential"}), {"iss": ctx.issuer, "aud": ctx.audience}, required)
    if decoded.header.get("typ") != "JWT":  # OB DCR: typ JWT
        raise InvalidClaimError("typ")
    _times(decoded.claims, ctx.max_age)
    return decoded.claims


def ob_signature_hardened(ctx: Context, token: Any, body: bytes | None) -> Any:
    header = ob_signature(ctx, token, body, frozenset({"required"}))
    now = int(time.time())
    if header.get("typ") != "JOSE" or header.get("cty") != "application/json" or set(header) - OB_MEMBERS:
        raise InvalidClaimError("typ")
    if set(header.get("crit", [])) != {OB_IAT, OB_ISS, OB_TAN} or header.get("b64", True) is not True:
        raise InvalidClaimError("crit")
    iat = header[OB_IAT]
    if type(iat) is not int or iat > now + 60 or header[OB_ISS] != ctx.ob_iss or header[OB_TAN] not in ctx.trust_anchors:
        raise InvalidClaimError("ob")
    return header


RECIPES = [
    Recipe("joserfc", "software_statement", JWT_GUIDE, software_statement, {"essential": ESSENTIAL}, software_statement_hardened),
    Recipe(
        "joserfc",
        "registration_request",
        JWT_GUIDE,
        registration_request,
        {"essential": ESSENTIAL},
        registration_request_hardened,
    ),
    Recipe("joserfc", "access_token", JWT_GUIDE, access_token, {"essential": ESSENTIAL}, access_token_hardened),
    Recipe("joserfc", "id_token", JWT_GUIDE, id_token, {"essential": ESSENTIAL}, id_token_hardened),
    Recipe(
        "joserfc",
        "ob_signature",
        JWS_GUIDE,
        ob_signature,
        {"required": "HeaderParameter(..., required=True) for the OB headers"},
        ob_signature_hardened,
    ),
]

OWN_ERRORS: tuple[type[BaseException], ...] = (JoseError,)
