"""Authlib 1.9.6, where it has a validator for the profile.

* RFC 9068 access token: ``authlib.oauth2.rfc9068.JWTBearerTokenValidator``, with ``get_jwks``
  implemented as its docstring asks; ``authenticate_token`` then ``validate_token``
  (https://docs.authlib.org/en/latest/specs/rfc9068.html).
* OIDC ID token: the client's ``parse_id_token`` (``OpenIDMixin``, what every Authlib framework
  client runs after the token request), given the provider metadata (issuer, ``jwks``,
  ``id_token_signing_alg_values_supported``) and the nonce (https://docs.authlib.org/en/latest/client/oauth2.html
  and https://docs.authlib.org/en/latest/specs/oidc.html).
* Software statements and OB message signatures: no standalone validator (its RFC 7591 endpoint is
  server machinery, and ``authlib.jose`` now points to joserfc).
"""

from __future__ import annotations

from typing import Any

from authlib.integrations.base_client.sync_openid import OpenIDMixin
from authlib.oauth2.rfc6750.errors import InvalidTokenError
from authlib.oauth2.rfc9068 import JWTBearerTokenValidator
from authlib.oidc.core import CodeIDToken
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import extract_compact

from ..context import Context
from . import Recipe, Unsupported
from .times import check_times

RFC9068 = "https://docs.authlib.org/en/latest/specs/rfc9068.html"
OIDC = "https://docs.authlib.org/en/latest/specs/oidc.html"


class _Validator(JWTBearerTokenValidator):
    def __init__(self, ctx: Context) -> None:
        super().__init__(issuer=ctx.issuer, resource_server=ctx.audience)
        self._jwks = ctx.jwks

    def get_jwks(self) -> KeySet:
        return KeySet.import_key_set(self._jwks)


def access_token(ctx: Context, token: Any, body: bytes | None, options: frozenset[str]) -> Any:
    validator = _Validator(ctx)
    claims = validator.authenticate_token(token)
    validator.validate_token(claims, scopes=None, request=None)
    return dict(claims)


class _Client(OpenIDMixin):
    def __init__(self, ctx: Context) -> None:
        self.client_id = ctx.audience
        self.server_metadata = {
            "issuer": ctx.issuer,
            "jwks": ctx.jwks,
            "id_token_signing_alg_values_supported": list(ctx.algorithms),
        }

    def load_server_metadata(self) -> dict[str, Any]:
        return self.server_metadata

    def fetch_jwk_set(self, force: bool = False) -> dict[str, Any]:
        # The provider's jwks_uri, already fetched: a refetch (force, on an unknown kid) finds the same set.
        return self.server_metadata["jwks"]

    @staticmethod
    def unverified_header(token: str) -> dict[str, Any]:
        return extract_compact(token.encode()).headers()


def id_token(ctx: Context, token: Any, body: bytes | None, options: frozenset[str]) -> Any:
    # An authorization-code flow: CodeIDToken (at_hash optional), the nonce the client sent.
    return dict(_Client(ctx).parse_id_token({"id_token": token}, nonce=ctx.nonce, claims_cls=CodeIDToken))


# -- with the lines a reader adds ----------------------------------------------------------------
def _times(claims: dict[str, Any], bound: int | None, lifetime: bool = True) -> None:
    check_times(claims, bound, InvalidTokenError, lifetime=lifetime)


def access_token_hardened(ctx: Context, token: Any, body: bytes | None) -> Any:
    validator = _Validator(ctx)
    claims = validator.authenticate_token(token)
    if claims.header.get("typ") not in ("at+jwt", "application/at+jwt"):  # RFC 9068 §4 (1): typ required
        raise InvalidTokenError()
    validator.validate_token(claims, scopes=None, request=None)
    _times(claims, ctx.max_age)
    return dict(claims)


def id_token_hardened(ctx: Context, token: Any, body: bytes | None) -> Any:
    claims = _Client(ctx).parse_id_token({"id_token": token}, nonce=ctx.nonce, claims_cls=CodeIDToken)
    header = _Client.unverified_header(token)
    if header.get("typ", "JWT") != "JWT":  # RFC 8725 §3.11: not another kind of JWT
        raise InvalidTokenError()
    aud = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if aud != [ctx.audience]:  # OIDC Core §3.1.3.7 (3): this client, and no audience it does not trust
        raise InvalidTokenError()
    _times(claims, ctx.max_age)
    return dict(claims)


RECIPES: list[Recipe | Unsupported] = [
    Unsupported("Authlib", "software_statement", "no standalone validator: RFC 7591 software statements are read inside its "
                "registration endpoint (server machinery)"),
    Unsupported("Authlib", "registration_request", "no standalone validator: its RFC 7591 endpoint reads registration "
                "requests as server machinery"),
    Recipe("Authlib", "access_token", RFC9068, access_token, {}, access_token_hardened),
    Recipe("Authlib", "id_token", OIDC, id_token, {}, id_token_hardened),
    Unsupported("Authlib", "ob_signature", "no validator for detached JWS: authlib.jose is deprecated in favour of joserfc "
                "(see its column)"),
]  # fmt: skip

OWN_ERRORS: tuple[type[BaseException], ...] = (JoseError, InvalidTokenError)
