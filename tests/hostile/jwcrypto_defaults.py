"""Every jwcrypto 1.6.1 default that joselab tightens: what jwcrypto's plain API lets through, and the
joselab check that refuses it. Machine-readable, for the closing note and the checklist page;
``tests/hostile/test_jwcrypto_defaults.py`` demonstrates each row both ways (jwcrypto accepts, joselab
refuses with the error and section named here).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Tightened:
    id: str
    item: str  # the hardening item of issue 7
    jwcrypto: str  # what jwcrypto 1.6.1's plain API does (each seen in the demo test)
    joselab: str  # the joselab function and check that refuses it
    error: str  # the joselab exception
    section: str  # the section joselab cites


DEFAULTS: tuple[Tightened, ...] = (
    Tightened(
        "key-alg-binding",
        "a key used only with its own algorithm",
        'JWS.verify(key) checks an RS256 signature with a JWK whose "alg" is PS256: the key\'s alg is not compared',
        "jws.verify_signature via keys.key_fits_alg: 'the key kid selects is one for RS256'",
        "KeyNotFound",
        "RFC 8725 §3.1",
    ),
    Tightened(
        "ecdsa-length",
        "the exact signature length for ECDSA",
        "an ES256 signature whose r and s are each zero-padded to 33 bytes (66 in all) verifies",
        "jws.verify_signature: 'signature is 64 bytes, as ES256 defines'",
        "InvalidSignature",
        "RFC 7518 §3",
    ),
    Tightened(
        "b64-padding",
        "strict base64url (no padding)",
        "JWS.deserialize accepts '='-padded segments",
        "compact.b64url_decode: 'signature is base64url'",
        "MalformedToken",
        "RFC 7515 §2",
    ),
    Tightened(
        "b64-alphabet",
        "strict base64url (no other alphabet)",
        "JWS.deserialize accepts '+' and '/' (the base64 alphabet) in place of '-' and '_'",
        "compact.b64url_decode: 'signature is base64url'",
        "MalformedToken",
        "RFC 7515 §2",
    ),
    Tightened(
        "b64-noncanonical",
        "strict base64url (canonical: one spelling per value)",
        "a signature whose last character carries non-zero unused bits verifies (two spellings of one token)",
        "compact.b64url_decode: 'signature is canonical base64url'",
        "MalformedToken",
        "RFC 4648 §3.5",
    ),
    Tightened(
        "size-cap",
        "a size cap before parsing",
        "jwt.JWT(jwt=..., key=...) decodes and verifies a 2 MB token: no length limit",
        "compact.parse_jws: 'token length within the cap' (32 KiB), before any decoding",
        "TokenTooLarge",
        "joselab policy; RFC 7515 §7.1 and RFC 7516 §7.1 set no bound",
    ),
    Tightened(
        "dup-header",
        "duplicate JSON member names rejected in headers",
        'a protected header {"alg":"none","alg":"RS256"} verifies as RS256: json.loads keeps the last',
        "compact.parse_json_object: 'protected header has unique member names'",
        "MalformedToken",
        "RFC 7515 §4",
    ),
    Tightened(
        "dup-claims",
        "duplicate JSON member names rejected in claims",
        'jwt.JWT accepts claims {"sub":"alice","sub":"admin"}; .claims shows both, json.loads reads "admin"',
        "CompactJWS.claims: 'JWT claims set has unique member names'",
        "MalformedToken",
        "RFC 7519 §4",
    ),
    Tightened(
        "nan-header",
        "strict JSON (no NaN / Infinity)",
        'a protected header {"alg":"RS256","x":NaN} verifies: json.loads accepts NaN',
        "compact.loads_strict: 'protected header is JSON'",
        "MalformedToken",
        "RFC 7515 §5.2",
    ),
    Tightened(
        "compact-only",
        "compact serialization only where a profile requires it",
        "jwt.JWT (strict_serialization=False by default) verifies a JWS in the flattened JSON serialization",
        "compact.parse_jws: the first part must be base64url (a JWT is compact, RFC 7519 §1)",
        "MalformedToken",
        "RFC 7515 §2",
    ),
    Tightened(
        "exp-required",
        "exp required",
        "jwt.JWT accepts a token with no exp",
        "claims.check_expiry (required=True), e.g. AccessTokenValidator: 'exp present'",
        "MissingClaim",
        "RFC 9068 §4 (6)",
    ),
    Tightened(
        "exp-numeric",
        "exp numeric",
        'jwt.JWT accepts exp = 1e300 (a float no clock reaches) and crashes with TypeError on exp = "99999999999"',
        "claims.check_numeric: 'exp is a NumericDate'",
        "InvalidClaim",
        "RFC 9068 §4 (6)",
    ),
    Tightened(
        "exp-nbf-with-check-claims",
        "exp and nbf checked against the clock",
        'jwt.JWT(check_claims={"iss": ...}) no longer checks exp or nbf unless they are listed: an expired token passes',
        "claims.check_expiry / check_not_before, always run by every validator",
        "TokenExpired",
        "RFC 9068 §4 (6)",
    ),
    Tightened(
        "iat-future",
        "iat checked against the clock",
        "jwt.JWT accepts iat a day in the future (iat is only checked to be an integer)",
        "claims.check_issued_at: 'iat is not in the future'",
        "InvalidIssuedAt",
        "RFC 7519 §4.1.6",
    ),
    Tightened(
        "max-lifetime",
        "a maximum token lifetime",
        "jwt.JWT accepts exp a century after iat",
        "claims.check_issued_at(max_lifetime=...): 'lifetime exp - iat at most 3600s'",
        "InvalidIssuedAt",
        "joselab policy; RFC 7519 §4.1.6 sets no bound",
    ),
    Tightened(
        "decompression",
        "decompression limited",
        "JWE.decrypt inflates a zip: DEF JWE of ~10 KB into 10 MB (its default cap is 100 MiB of plaintext)",
        "jwe.check_jwe_header: 'no compression (zip absent)'; plaintext capped at 256 KiB",
        "InvalidHeader",
        "RFC 8725 §3.6",
    ),
    Tightened(
        "rsa-1024",
        "RSA keys under 2048 bits refused",
        "jwk.JWK accepts a 1024-bit RSA key and jwt.JWT verifies an RS256 token with it",
        "keys.load_jwks ('RSA ... bits, under 2048') and keys.key_fits_alg",
        "KeySetError",
        "RFC 7518 §3.3",
    ),
    Tightened(
        "jwks-dup-kid",
        "JWKS hygiene: no duplicate kid",
        "jwk.JWKSet.from_json keeps two RSA keys under one kid, and jwt.JWT verifies with whichever matches",
        "keys.load_jwks: 'kid ... names two keys (duplicate)'",
        "KeySetError",
        "RFC 7517 §4.5",
    ),
    Tightened(
        "jwks-mixed-kty",
        "JWKS hygiene: no mixed key types under one kid",
        "jwk.JWKSet.from_json keeps an RSA and an EC key under one kid",
        "keys.load_jwks: 'kid ... names two keys (mixed key types)'",
        "KeySetError",
        "RFC 7517 §4.5",
    ),
    Tightened(
        "jwks-dup-member",
        "JWKS hygiene: one JSON text, one meaning",
        'jwk.JWKSet.from_json reads {"keys":[attacker],"keys":[issuer]} as the last "keys"',
        "keys.load_jwks (strict JSON via compact.loads_strict)",
        "KeySetError",
        "RFC 7517 §5",
    ),
)


def as_dicts() -> list[dict[str, str]]:
    """The list as plain dicts (for JSON, a table, or the closing note)."""
    return [asdict(d) for d in DEFAULTS]
