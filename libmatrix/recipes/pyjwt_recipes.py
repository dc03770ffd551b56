"""PyJWT 2.15.1, as its docs advise.

Docs: https://pyjwt.readthedocs.io/en/stable/usage.html (decoding with ``algorithms``, ``audience``,
``issuer``; "Retrieve RSA signing keys from a JWKS endpoint": ``PyJWKClient`` picks the JWK Set's key
by the token's ``kid``, which is what :func:`_key` does with the set in hand; "Requiring Presence of
Claims": ``options={"require": [...]}``; "OIDC Login Flow") and
https://pyjwt.readthedocs.io/en/stable/api.html (``jwt.decode``, its options).
"""

from __future__ import annotations

from typing import Any

import jwt

from ..context import Context
from . import Recipe, Unsupported
from .times import check_times

USAGE = "https://pyjwt.readthedocs.io/en/stable/usage.html"
REQUIRE_AT = ["iss", "exp", "aud", "sub", "client_id", "iat", "jti"]  # RFC 9068 §2.2
REQUIRE_ID = ["iss", "sub", "aud", "exp", "iat"]  # OIDC Core §2
REQUIRE_SSA = ["iss", "iat", "jti"]
REQUIRE_REQUEST = ["iss", "aud", "exp", "iat", "jti", "software_statement"]


def _key(ctx: Context, token: Any) -> jwt.PyJWK:
    # What PyJWKClient.get_signing_key_from_jwt does: the unverified header's kid picks the set's key.
    kid = jwt.get_unverified_header(token).get("kid")
    try:
        return jwt.PyJWKSet.from_dict(ctx.jwks)[kid]
    except KeyError as exc:  # as PyJWKClient reports it
        raise jwt.PyJWKClientError(f"Unable to find a signing key that matches: {kid!r}") from exc


def software_statement(ctx: Context, token: Any, body: bytes | None, options: frozenset[str]) -> Any:
    opts = {"require": REQUIRE_SSA} if "require" in options else None
    return jwt.decode(token, _key(ctx, token), algorithms=list(ctx.algorithms), issuer=ctx.issuer, options=opts)


def registration_request(ctx: Context, token: Any, body: bytes | None, options: frozenset[str]) -> Any:
    opts = {"require": REQUIRE_REQUEST} if "require" in options else None
    return jwt.decode(
        token, _key(ctx, token), algorithms=list(ctx.algorithms), audience=ctx.audience, issuer=ctx.issuer, options=opts
    )


def access_token(ctx: Context, token: Any, body: bytes | None, options: frozenset[str]) -> Any:
    opts = {"require": REQUIRE_AT} if "require" in options else None
    return jwt.decode(
        token, _key(ctx, token), algorithms=list(ctx.algorithms), audience=ctx.audience, issuer=ctx.issuer, options=opts
    )


def id_token(ctx: Context, token: Any, body: bytes | None, options: frozenset[str]) -> Any:
    # The docs' OIDC Login Flow: decode_complete with the client_id as audience (the at_hash step
    # there needs an access token, which this flow's ID token does not carry).
    opts = {"require": REQUIRE_ID} if "require" in options else None
    data = jwt.decode_complete(
        token, key=_key(ctx, token), audience=ctx.audience, issuer=ctx.issuer, algorithms=list(ctx.algorithms), options=opts
    )
    return data["payload"]


# -- with the lines a reader adds ----------------------------------------------------------------
def access_token_hardened(ctx: Context, token: Any, body: bytes | None) -> Any:
    header = jwt.get_unverified_header(token)
    if header.get("typ") not in ("at+jwt", "application/at+jwt"):  # RFC 9068 §4 (1)
        raise jwt.InvalidTokenError("typ")
    claims = access_token(ctx, token, body, frozenset({"require"}))
    _times(claims, ctx.max_age)
    for name in ("sub", "client_id", "jti"):  # RFC 9068 §2.2
        if not isinstance(claims[name], str) or not claims[name]:
            raise jwt.InvalidTokenError(name)
    return claims


def id_token_hardened(ctx: Context, token: Any, body: bytes | None) -> Any:
    header = jwt.get_unverified_header(token)
    if header.get("typ", "JWT") != "JWT":  # RFC 8725 §3.11: not another kind of JWT
        raise jwt.InvalidTokenError("typ")
    claims = id_token(ctx, token, body, frozenset({"require"}))
    _times(claims, ctx.max_age)
    if claims.get("nonce") != ctx.nonce:  # OIDC Core §3.1.3.7 (11); and keep it single-use
        raise jwt.InvalidTokenError("nonce")
    if "azp" in claims and claims["azp"] != ctx.audience:
        raise jwt.InvalidTokenError("azp")
    if claims["aud"] not in (ctx.audience, [ctx.audience]):  # OIDC Core §3.1.3.7 (3): no untrusted audience
        raise jwt.InvalidTokenError("aud")
    return claims


def software_statement_hardened(ctx: Context, token: Any, body: bytes | None) -> Any:
    if jwt.get_unverified_header(token).get("typ") != "JWT":
        raise jwt.InvalidTokenError("typ")
    claims = software_statement(ctx, token, body, frozenset({"require"}))
    if "aud" in claims or "software_statement" in claims:  # RFC 8725 §3.12
        raise jwt.InvalidTokenError("not a statement")
    _times(claims, ctx.max_age, lifetime=False)
    return claims


def registration_request_hardened(ctx: Context, token: Any, body: bytes | None) -> Any:
    if jwt.get_unverified_header(token).get("typ") != "JWT":  # OB DCR: typ JWT
        raise jwt.InvalidTokenError("typ")
    claims = registration_request(ctx, token, body, frozenset({"require"}))
    _times(claims, ctx.max_age)
    return claims


def _times(claims: dict[str, Any], bound: int | None, lifetime: bool = True) -> None:
    check_times(claims, bound, jwt.InvalidTokenError, lifetime=lifetime)


def _ob_refused(ctx: Context, token: Any, body: bytes | None) -> bool:
    # The OB signature, its payload put back (RFC 7515 Appendix F), at PyJWS.decode: refused.
    head, _, sig = token.split(".")
    attached = f"{head}.{jwt.utils.base64url_encode(body or b'').decode()}.{sig}"
    try:
        jwt.api_jws.decode(attached, _key(ctx, token), algorithms=list(ctx.algorithms))
    except jwt.InvalidTokenError:
        return True
    return False


RECIPES: list[Recipe | Unsupported] = [
    Recipe("PyJWT", "software_statement", USAGE, software_statement, {"require": f'options={{"require": {REQUIRE_SSA}}}'},
           software_statement_hardened),
    Recipe("PyJWT", "registration_request", USAGE, registration_request,
           {"require": f'options={{"require": {REQUIRE_REQUEST}}}'}, registration_request_hardened),
    Recipe("PyJWT", "access_token", USAGE, access_token, {"require": f'options={{"require": {REQUIRE_AT}}}'},
           access_token_hardened),
    Recipe("PyJWT", "id_token", USAGE, id_token, {"require": f'options={{"require": {REQUIRE_ID}}}'}, id_token_hardened),
    Unsupported(
        "PyJWT",
        "ob_signature",
        "PyJWS refuses every OB signature: its crit may name only b64, and the OB headers are critical "
        "(there is no documented way to register others); detached_payload is only for b64: false",
        "https://pyjwt.readthedocs.io/en/stable/api.html",
        _ob_refused,
    ),
]  # fmt: skip

OWN_ERRORS: tuple[type[BaseException], ...] = (jwt.PyJWTError,)
