"""The hostile corpus: malformed and malicious tokens, each with the rejection it must meet.

Built deterministically from the six base tokens of :mod:`hostile.harness` (one per scenario
validator) by a fixed list of mutations, plus hand-written cases:

* **structural**: anything that is not a well-formed compact token (parts, base64url, JSON, size,
  type). Parsing comes before everything else in every validator, so each such case names its
  outcome for *all six* validators;
* **crypto**: algorithm, key and signature attacks (``alg: none`` in every casing, RS256→HS256 key
  confusion, ``jwk`` / ``jku`` / ``x5u`` / ``x5c`` injection, ``kid`` traversal and injection,
  ``crit``, ``b64``, forged, truncated, padded and zero signatures, and for the nested JWT the JWE
  layer: ``zip`` bombs, ``p2c``, weak algorithms, tampered parts);
* **claims**: every time, issuer and audience claim missing, mistyped or out of range, duplicate and
  non-UTF-8 members; for the OB signature, the same on its protected header claims;
* **cross**: each base token fed to every *other* validator (RFC 8725 §2.8, §3.12).

A mutation is forged with a *real* signature by the right key wherever possible, so that only the
check under test can be the one that rejects it. Every case is run against every validator
(:mod:`tests.test_hostile_corpus`): where a case names the outcome for a validator, that exact error
type (and section, where stable) is required; elsewhere any joselab rejection is, but never an
acceptance, a foreign exception, or the catch-all "validator completed" row that stands for a crash.

Randomized signatures (ES256, PS256, RSA-OAEP) differ between builds; the cases, their order, their
ids and their expected outcomes do not (the test checks that).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from joselab_testkit import b64json, forge_jws
from jwcrypto import jwk

from joselab import DEMO_EPOCH, b64url_decode, b64url_encode, demo_key
from joselab.compact import MAX_TOKEN_LENGTH
from joselab.sections import policy

from .harness import ATTACKER_KEY, RECIPIENT_KEY, TPP, VALIDATORS, Base, Harness, encrypt_to

Expect = tuple[str, str | None]
JWS_VALIDATORS = VALIDATORS[:5]
CLAIM_VALIDATORS = ("software_statement", "registration_request", "access_token", "id_token", "nested_jwt")
NOW = DEMO_EPOCH
ATTACKER_P256 = demo_key("rfc7520-meriadoc-p256")  # a real P-256 key nobody here trusts
OB = "OB R/W ≥3.1.4 Message Signing"


@dataclass(frozen=True)
class Case:
    """One hostile input, the validator it was forged for, and the outcomes it must meet."""

    id: str
    category: str  # structural, crypto, claims, cross
    description: str
    token: Any
    home: str | None = None
    body: bytes | None = None
    expect: Mapping[str, Expect] = field(default_factory=dict)

    def key(self) -> tuple[str, str, str | None, tuple[tuple[str, Expect], ...]]:
        """What must not change between two builds of the corpus (tokens may, for randomized algs)."""
        return self.id, self.category, self.home, tuple(sorted(self.expect.items()))


# -- who checks what, where --------------------------------------------------------------------
SIG_SECTION = {
    "software_statement": "RFC 7515 §5.2",
    "registration_request": "RFC 7515 §5.2",
    "access_token": "RFC 9068 §4 (5)",
    "id_token": "OIDC Core §3.1.3.7 (6)",
    "ob_signature": "RFC 7515 §5.2, Appendix F",
    "nested_jwt": "RFC 7515 §5.2",
}
EXP = {
    "software_statement": "RFC 7519 §4.1.4",
    "registration_request": "RFC 7519 §4.1.4",
    "access_token": "RFC 9068 §4 (6)",
    "id_token": "OIDC Core §3.1.3.7 (9)",
    "nested_jwt": "RFC 7519 §4.1.4",
}
IAT = {
    "software_statement": "RFC 7519 §4.1.6",
    "registration_request": "RFC 7519 §4.1.6",
    "access_token": "RFC 7519 §4.1.6",
    "id_token": "OIDC Core §3.1.3.7 (10)",
    "nested_jwt": "RFC 7519 §4.1.6",
}
ISS = {
    "software_statement": "RFC 8725 §3.8",
    "registration_request": "OB DCR v3.2 (Data Dictionary)",
    "access_token": "RFC 9068 §4 (3)",
    "id_token": "OIDC Core §3.1.3.7 (2)",
    "nested_jwt": "RFC 7519 §4.1.1",
}
AUD = {
    "registration_request": "RFC 8725 §3.9",
    "access_token": "RFC 9068 §4 (4)",
    "id_token": "OIDC Core §3.1.3.7 (3)",
    "nested_jwt": "RFC 7519 §4.1.3",
}
NBF = "RFC 7519 §4.1.5"
_GENERIC_TYP = {"typ-null": ("InvalidHeader", "RFC 7515 §4.1.9"), "typ-number": ("InvalidHeader", "RFC 7515 §4.1.9")}
_GENERIC_CTY = {"cty-object": ("InvalidHeader", "RFC 7515 §4.1.10")}
#: Where a typ or cty of the wrong type is refused: the profile's own typ row, else the shared one.
TYPE_ROWS: dict[str, dict[str, Expect]] = {
    "software_statement": {**dict.fromkeys(_GENERIC_TYP, ("InvalidType", "OB Directory SSA")), **_GENERIC_CTY},
    "registration_request": {**dict.fromkeys(_GENERIC_TYP, ("InvalidType", "OB DCR v3.2")), **_GENERIC_CTY},
    "access_token": {**dict.fromkeys(_GENERIC_TYP, ("InvalidType", "RFC 9068 §4 (1)")), **_GENERIC_CTY},
    "id_token": {**dict.fromkeys(_GENERIC_TYP, ("InvalidType", "RFC 8725 §3.11")), **_GENERIC_CTY},
    "ob_signature": {
        **dict.fromkeys(_GENERIC_TYP, ("InvalidType", f"{OB} (typ); RFC 7515 §4.1.9")),
        "cty-object": ("InvalidType", f"{OB} (cty); RFC 7515 §4.1.10"),
    },
    "nested_jwt": {**_GENERIC_TYP, **_GENERIC_CTY},
}
#: Where a profile's own rule on the OB header comes first (it allows only the members it names).
OB_MEMBERS = ("InvalidHeader", f"{OB} (JOSE header)")


def _all(error: str, section: str | None, **overrides: Expect) -> dict[str, Expect]:
    out = dict.fromkeys(VALIDATORS, (error, section))
    out.update(overrides)
    return out


# -- structural --------------------------------------------------------------------------------
def _structural(h: Harness) -> list[Case]:
    """Cases every validator must refuse at parsing, built from the access token (RS256: the same
    bytes on every build)."""
    base = h.bases["access_token"]
    head, payload, sig = base.token.split(".")
    cases: list[Case] = []

    def add(cid: str, description: str, token: Any, error: str, section: str | None, **over: Expect) -> None:
        expect = _all(error, section, **over)
        if isinstance(token, str) and token.count(".") == 2 and "nested_jwt" not in over:
            # A three-part token is told from a JWE by counting, before anything is decoded.
            expect["nested_jwt"] = ("UnexpectedTokenKind", "RFC 7516 §7.1")
        cases.append(Case(f"structural/{cid}", "structural", description, token, expect=expect))

    parts = ("MalformedToken", "RFC 7515 §7.1")
    jwe_parts = ("MalformedToken", "RFC 7516 §7.1")
    missing = ("MissingSignature", f"{OB} (request)")
    add("empty", "the empty string", "", *parts, nested_jwt=jwe_parts, ob_signature=missing)
    add("none", "None instead of a string", None, "MalformedToken", "RFC 7515 §7.1", ob_signature=missing)
    for name, value in (("bytes", base.token.encode()), ("int", 12345), ("list", [base.token]), ("dict", {"token": 1})):
        add(f"type-{name}", f"a {type(value).__name__}, not a string", value, "MalformedToken", "RFC 7515 §7.1")
    for n in (1, 2, 4, 6, 9):
        token = ".".join([head, payload, sig, payload, sig, payload, sig, payload, sig][:n])
        add(f"parts-{n}", f"{n} dot-separated parts", token, *parts, nested_jwt=jwe_parts)
    add("dots-only", "two dots and nothing else: an empty header is not JSON", "..", "MalformedToken", "RFC 7515 §5.2")
    five = ("UnexpectedTokenKind", "RFC 7515 §7.1")
    add(
        "five-dots",
        "five empty parts: looks like a JWE to a JWS validator",
        "....",
        *five,
        access_token=("UnexpectedTokenKind", "RFC 9068 §4 (2)"),
        id_token=("UnexpectedTokenKind", "OIDC Core §3.1.3.7 (1)"),
        nested_jwt=("MalformedToken", "RFC 7516 §5.2"),
    )

    def seg(cid: str, description: str, token: str, where: str = "header", section: str = "RFC 7515 §2") -> None:
        # The OB verifier puts the body back for a detached payload, so it stops at a payload part
        # that is there at all (RFC 7515 Appendix F) rather than at its encoding.
        over: dict[str, Expect] = {}
        if where == "payload":
            over["ob_signature"] = ("MalformedToken", "RFC 7515 Appendix F")
        add(cid, description, token, "MalformedToken", section, **over)

    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for where, index in (("header", 0), ("payload", 1), ("signature", 2)):
        segments = [head, payload, sig]
        s = segments[index]

        def variant(new: str, _i: int = index, _s: list[str] = segments) -> str:
            parts_ = list(_s)
            parts_[_i] = new
            return ".".join(parts_)

        seg(f"{where}-padded", f"{where} with '=' padding", variant(s + "=" * (-len(s) % 4 or 4)), where)
        seg(f"{where}-plus-slash", f"{where} in the base64 (not url) alphabet", variant(s[:4] + "+/" + s[6:]), where)
        seg(f"{where}-space", f"{where} with a space inside", variant(s[:5] + " " + s[5:]), where)
        seg(f"{where}-newline", f"{where} with a line break inside", variant(s[:5] + "\n" + s[5:]), where)
        seg(f"{where}-nul", f"{where} with a NUL character", variant(s[:5] + "\x00" + s[5:]), where)
        seg(f"{where}-unicode", f"{where} with a non-ASCII letter", variant(s[:5] + "é" + s[5:]), where)
        # A str holds any code point, a lone surrogate too (no UTF-8 encodes it): still joselab's error.
        seg(f"{where}-surrogate-char", f"{where} with a lone surrogate character", variant(s[:5] + "\ud800" + s[5:]), where)
        seg(f"{where}-emoji", f"{where} with a character beyond the BMP", variant(s[:5] + "\U0001f600" + s[5:]), where)
        seg(
            f"{where}-length",
            f"{where} of an impossible length (4n+1)",
            variant(s + "A" * (1 if len(s) % 4 == 0 else 5 - len(s) % 4)),
            where,
        )
        if len(s) % 4:
            last = alphabet[alphabet.index(s[-1]) ^ 1]
            seg(
                f"{where}-noncanonical",
                f"{where} with non-zero unused bits (a second spelling)",
                variant(s[:-1] + last),
                where,
                "RFC 4648 §3.5",
            )

    def header(cid: str, description: str, raw: bytes, section: str = "RFC 7515 §5.2") -> None:
        add(cid, description, f"{b64url_encode(raw)}.{payload}.{sig}", "MalformedToken", section)

    header("header-not-json", "header is not JSON", b"alg=RS256")
    header("header-array", "header is a JSON array", b'["RS256"]')
    header("header-string", "header is a JSON string", b'"RS256"')
    header("header-null", "header is JSON null", b"null")
    header("header-empty", "header is empty", b"")
    header("header-trailing", "header with trailing garbage", b'{"alg":"RS256"}x')
    header(
        "header-dup-alg",
        "header names alg twice (none, then RS256)",
        b'{"alg":"none","alg":"RS256","typ":"at+jwt"}',
        "RFC 7515 §4",
    )
    header("header-dup-kid", "header names kid twice", b'{"alg":"RS256","kid":"a","kid":"b"}', "RFC 7515 §4")
    header("header-nan", "header with NaN (not JSON)", b'{"alg":"RS256","x":NaN}')
    header("header-infinity", "header with 1e999 (infinity in Python)", b'{"alg":"RS256","x":1e999}')
    header("header-bigint", "header with a 5000-digit number", b'{"alg":"RS256","x":' + b"9" * 5000 + b"}")
    header("header-deep", "header nested 5000 arrays deep", b'{"alg":"RS256","x":' + b"[" * 5000 + b"]" * 5000 + b"}")
    header("header-bad-utf8", "header is not UTF-8", b'{"alg":"RS256","x":"\xff\xfe"}', "RFC 8725 §3.7")
    header("header-surrogate", "header with a lone surrogate escape", b'{"alg":"RS256","kid":"\\ud800"}', "RFC 7493 §2.1")
    header("header-bom", "header starts with a byte order mark", b'\xef\xbb\xbf{"alg":"RS256"}')
    header("header-single-quotes", "header in single quotes (not JSON)", b"{'alg':'RS256'}")

    # Under b64: false the compact payload part is the payload itself (RFC 7797 §5.2): a lone
    # surrogate there has no UTF-8 bytes to sign or verify (it once escaped as UnicodeEncodeError).
    unencoded = b64json({"alg": "RS256", "kid": base.header["kid"], "b64": False, "crit": ["b64"]})
    add(
        "unencoded-payload-surrogate",
        "b64: false, a lone surrogate in the payload part",
        f"{unencoded}.a\ud800b.{sig}",
        "MalformedToken",
        "RFC 3629 §3",
        ob_signature=("MalformedToken", "RFC 7515 Appendix F"),
    )

    too_long = ("TokenTooLarge", policy("RFC 7515 §7.1 and RFC 7516 §7.1", "set no bound"))
    big = f"{head}.{'A' * (MAX_TOKEN_LENGTH)}.{sig}"
    add("oversize", "one character over the cap: refused before decoding", big, *too_long, nested_jwt=too_long)
    add("oversize-1mb", "a megabyte of dots", "." * 1_000_000, *too_long, nested_jwt=too_long)
    big_header = f"{b64json({'alg': 'RS256', 'x': 'A' * 40_000})}.{payload}.{sig}"
    add("oversize-header", "a 40 KB header", big_header, *too_long, nested_jwt=too_long)

    # Two dots in an unprotected member make it split into three "parts", as jwcrypto's JWT counts them.
    flattened = json.dumps({"protected": head, "payload": payload, "header": {"kid": "a.b.c"}, "signature": sig})
    add(
        "json-serialization",
        "the JWS JSON serialization where the profile requires compact",
        flattened,
        "MalformedToken",
        "RFC 7515 §2",
    )
    return cases


# -- per-validator mutations -------------------------------------------------------------------
Mutation = Callable[[Base], "tuple[Any, bytes | None] | None"]


def _claims(base: Base, **changes: Any) -> bytes:
    claims = dict(base.claims or {})
    for name, value in changes.items():
        if value is ...:
            claims.pop(name, None)
        else:
            claims[name] = value
    return json.dumps(claims, separators=(",", ":")).encode()


def _raw_claims(base: Base, name: str, literal: str) -> bytes:
    """The claims with ``name`` set to a JSON literal written as text (NaN, 1e999, duplicates...)."""
    text = _claims(base, **{name: ...}).decode()
    return (text[:-1] + ("," if len(text) > 2 else "") + f'"{name}":{literal}}}').encode()


def _resign(base: Base, payload: bytes, **header_changes: Any) -> str:
    header = {k: v for k, v in {**base.header, **header_changes}.items() if v is not ...}
    return base.sign(header, payload)


def _header_only(base: Base, header: Mapping[str, Any] | str, signature: bytes, payload: bytes | None = None) -> str:
    """A JWS with this header and signature bytes, no signing at all (alg none, zeros, transplants)."""
    head = header if isinstance(header, str) else b64json(header)
    body = base.payload() if payload is None else payload
    return base.wrap(f"{head}.{b64url_encode(body)}.{b64url_encode(signature)}")


def _signature(base: Base) -> bytes:
    """The bytes of a real signature by the base's key over its header and payload."""
    if base.outer:  # the nested JWT's is inside the JWE: make the inner JWS again
        return b64url_decode(forge_jws(base.header, base.payload(), base.key, base.alg).split(".")[2])
    return b64url_decode(base.token.split(".")[2])


def _attacker_for(base: Base) -> jwk.JWK:
    return ATTACKER_P256.jwk if base.alg.startswith("ES") else ATTACKER_KEY.jwk


def _crypto_mutations(base: Base) -> list[tuple[str, str, Any, bytes | None, dict[str, Expect]]]:
    """(id, description, token, body, expect) for one base; the expectation is for its own validator."""
    v = base.validator
    payload = base.payload()
    out: list[tuple[str, str, Any, bytes | None, dict[str, Expect]]] = []

    def add(cid: str, description: str, token: Any, error: str, section: str | None, body: bytes | None = None) -> None:
        out.append((cid, description, token, body, {v: (error, section)}))

    alg_error = ("AlgorithmNotAllowed", "RFC 8725 §3.1")
    none_error = ("AlgorithmNotAllowed", "RFC 7591 §2.3") if v == "software_statement" else alg_error
    for spelling in ("none", "None", "NONE", "nOnE"):
        add(
            f"alg-{spelling}",
            f"alg {spelling!r}, empty signature",
            _header_only(base, {**base.header, "alg": spelling}, b""),
            *none_error,
        )
    add(
        "alg-none-kept-sig",
        "alg none, the real signature left on",
        _header_only(base, {**base.header, "alg": "none"}, _signature(base)),
        *none_error,
    )

    # RS256 -> HS256 key confusion: the verifier's own public key used as the HMAC secret.
    pem_key = jwk.JWK(kty="oct", k=b64url_encode(base.key.export_to_pem()))
    n_key = jwk.JWK(kty="oct", k=b64url_encode(json.dumps(base.key.export_public(as_dict=True)).encode()))
    for cid, secret in (("hs256-public-pem", pem_key), ("hs256-public-jwk", n_key)):
        token = base.sign({**base.header, "alg": "HS256"}, payload, key=secret, alg="HS256")
        add(cid, f"key confusion: HS256 keyed with the public key ({cid[6:]})", token, *alg_error)
    add(
        "alg-rs384",
        "an algorithm off the allowlist (RS384)",
        base.sign({**base.header, "alg": "RS384"}, payload, key=ATTACKER_KEY.jwk, alg="RS384"),
        *alg_error,
    )
    add(
        "alg-missing",
        "no alg",
        _header_only(base, {k: x for k, x in base.header.items() if k != "alg"}, _signature(base)),
        *alg_error,
    )
    add("alg-list", "alg as an array", _header_only(base, {**base.header, "alg": [base.alg]}, _signature(base)), *alg_error)
    add("alg-number", "alg as a number", _header_only(base, {**base.header, "alg": 256}, _signature(base)), *alg_error)
    add(
        "alg-case",
        f"alg {base.alg.lower()!r}",
        _header_only(base, {**base.header, "alg": base.alg.lower()}, _signature(base)),
        *alg_error,
    )

    # The other algorithm the validator allows, but not with this key: one key, one algorithm.
    other = {"software_statement": "PS256", "registration_request": "ES256", "access_token": "PS256"}.get(v)
    if other:
        signer = ATTACKER_P256.jwk if other.startswith("ES") else (base.key if base.key["kty"] == "RSA" else ATTACKER_KEY.jwk)
        token = base.sign({**base.header, "alg": other}, payload, key=signer, alg=other)
        add("alg-other-allowed", f"{other}, allowed, but the kid's key is for {base.alg}", token, "KeyNotFound", "RFC 8725 §3.1")

    attacker = _attacker_for(base)
    attacker_public = attacker.export_public(as_dict=True)
    embedded = OB_MEMBERS if v == "ob_signature" else ("EmbeddedKeyRejected", "RFC 8725 §3.10")
    for name, value in (
        ("jwk", attacker_public),
        ("jku", "https://attacker.example/jwks.json"),
        ("x5u", "https://attacker.example/cert.pem"),
        ("x5c", ["MIIBszCCAVmgAwIBAgIUQz"]),
    ):
        token = base.sign({**base.header, name: value, "kid": attacker_public.get("kid", "attacker")}, payload, key=attacker)
        add(f"inject-{name}", f"{name} header names the attacker's key", token, *embedded)

    unknown_kid = ("KeyNotFound", "RFC 7515 §4.1.4")
    for cid, kid in (
        ("kid-traversal", "../../../../../../dev/null"),
        ("kid-sql", "x' UNION SELECT 'secret' -- "),
        ("kid-url", "https://attacker.example/key"),
        ("kid-unknown", "attacker-key-1"),
        ("kid-empty", ""),
    ):
        token = base.sign({**base.header, "kid": kid}, payload, key=attacker)
        error = ("MissingClaim", f"{OB} (kid)") if (v == "ob_signature" and kid == "") else unknown_kid
        add(cid, f"kid {kid!r}, signed by the attacker", token, *error)
    for cid, kid in (("kid-number", 7), ("kid-object", {"path": "/dev/null"}), ("kid-null", None)):
        token = base.sign({**base.header, "kid": kid}, payload, key=attacker)
        # kid: null is a kid of the wrong type, not "no kid" (it once picked the only trusted key).
        error = ("MissingClaim", f"{OB} (kid)") if v == "ob_signature" else ("InvalidHeader", "RFC 7515 §4.1.4")
        add(cid, f"kid {json.dumps(kid)}", token, *error)
    add(
        "kid-right-key-wrong",
        "the trusted kid, signed by the attacker's key",
        base.sign(base.header, payload, key=attacker),
        "InvalidSignature",
        SIG_SECTION[v],
    )

    crit = ("UnsupportedCritical", "RFC 7515 §4.1.11")
    ob_crit = ("UnsupportedCritical", f"{OB} (crit); RFC 7515 §4.1.11")
    for cid, header_changes, ob_error in (
        ("crit-unknown", {"crit": ["http://attacker.example/ext"], "http://attacker.example/ext": True}, OB_MEMBERS),
        ("crit-empty", {"crit": []}, ob_crit),
        ("crit-alg", {"crit": ["alg"]}, ob_crit),
        ("crit-absent-name", {"crit": ["http://attacker.example/ext"]}, ob_crit),
        ("crit-not-list", {"crit": "b64"}, ob_crit),
        ("crit-object", {"crit": [{"name": "b64"}]}, ob_crit),  # unhashable: once crashed the OB verifier
        ("crit-null", {"crit": None}, ob_crit),  # once passed as "no crit", its row reading "well formed"
        ("crit-number", {"crit": 1}, ob_crit),
    ):
        token = base.sign({**base.header, **header_changes}, payload)
        add(cid, f"crit {json.dumps(header_changes['crit'])}", token, *(ob_error if v == "ob_signature" else crit))
    b64_false = base.sign({**base.header, "b64": False, "crit": ["b64"]}, payload)
    b64_str = base.sign({**base.header, "b64": "false"}, payload)
    if v == "ob_signature":
        add("b64-false", "b64: false under the ≥3.1.4 profile", b64_false, "InvalidHeader", f"{OB} (b64)")
        add("b64-string", 'b64 "false" (a string)', b64_str, "InvalidHeader", f"{OB} (b64)")
    else:
        # The ID token validator reads the claims before the signature (Core §3.1.3.7 steps 2-5), and
        # under b64: false the payload part is not decoded, so the claims are base64url text, not JSON.
        b64_error = ("MalformedToken", "RFC 7519 §7.2") if v == "id_token" else crit
        add("b64-false", "b64: false in a JWT (RFC 7797 §7 forbids it)", b64_false, *b64_error)
        add("b64-string", 'b64 "false" (a string)', b64_str, "InvalidHeader", "RFC 7797 §3")

    # typ and cty of the wrong JSON type: refused at a typ / cty row, the profile's or the generic one.
    for cid, changes in (("typ-null", {"typ": None}), ("typ-number", {"typ": 1}), ("cty-object", {"cty": {"a": 1}})):
        add(
            cid,
            f"{cid.split('-')[0]} = {json.dumps(changes[cid.split('-')[0]])}",
            base.sign({**base.header, **changes}, payload),
            *TYPE_ROWS[v][cid],
        )

    sig = _signature(base)
    length = ("InvalidSignature", "RFC 7518 §3")
    add("sig-truncated", "signature one byte short", _header_only(base, base.header, sig[:-1]), *length)
    add("sig-empty", "no signature", _header_only(base, base.header, b""), *length)
    add("sig-padded", "signature with a leading zero byte", _header_only(base, base.header, b"\x00" + sig), *length)
    if base.alg.startswith("ES"):
        half = len(sig) // 2
        add(
            "sig-ecdsa-der",
            "ECDSA r and s each zero-padded (66 bytes)",
            _header_only(base, base.header, b"\x00" + sig[:half] + b"\x00" + sig[half:]),
            *length,
        )
        add(
            "sig-psychic",
            "ECDSA r = s = 0 (CVE-2022-21449)",
            _header_only(base, base.header, bytes(len(sig))),
            "InvalidSignature",
            SIG_SECTION[v],
        )
    else:
        add(
            "sig-zero",
            "an all-zero signature of the right length",
            _header_only(base, base.header, bytes(len(sig))),
            "InvalidSignature",
            SIG_SECTION[v],
        )
    flipped = bytes([sig[0] ^ 0x01]) + sig[1:]
    add(
        "sig-bitflip",
        "one bit of the signature flipped",
        _header_only(base, base.header, flipped),
        "InvalidSignature",
        SIG_SECTION[v],
    )
    transplanted = {**base.header, "x-extra": 1} if v != "ob_signature" else {**base.header, "typ": "application/jose"}
    add(
        "sig-transplant",
        "the real signature under a changed header",
        _header_only(base, transplanted, sig),
        "InvalidSignature",
        SIG_SECTION[v],
    )
    if v == "ob_signature":
        add(
            "body-changed",
            "one byte of the body changed",
            base.token,
            "InvalidSignature",
            SIG_SECTION[v],
            body=payload.replace(b"165.88", b"965.88"),
        )
        add(
            "body-reserialised",
            "the body re-serialised with spaces",
            base.token,
            "InvalidSignature",
            SIG_SECTION[v],
            body=json.dumps(json.loads(payload)).encode(),
        )
        add(
            "payload-attached",
            "payload attached instead of detached",
            f"{b64json(base.header)}.{b64url_encode(payload)}.{b64url_encode(sig)}",
            "MalformedToken",
            "RFC 7515 Appendix F",
        )
    else:
        tampered = _claims(base, jti="tampered") if "jti" in (base.claims or {}) else _claims(base, sub="admin")
        add(
            "payload-tampered",
            "a claim changed after signing",
            _header_only(base, base.header, sig, tampered),
            "InvalidSignature",
            SIG_SECTION[v],
        )

    dup = ("MalformedToken", "RFC 7515 §4")
    raw_header = json.dumps(base.header, separators=(",", ":"))
    dup_header = '{"alg":"none",' + raw_header[1:]
    add(
        "header-dup-alg-signed",
        "alg named twice (none first), signed over that text",
        base.sign(b64url_encode(dup_header.encode()), payload),
        *dup,
    )
    surrogate = raw_header[:-1] + ',"x":"\\udfff"}'
    add(
        "header-surrogate-signed",
        "a lone surrogate in the signed header",
        base.sign(b64url_encode(surrogate.encode()), payload),
        "MalformedToken",
        "RFC 7493 §2.1",
    )
    return out


def _claim_mutations(base: Base) -> list[tuple[str, str, bytes, Expect | None]]:
    """(id, description, payload, expected) for one base with claims; None where the profile allows it."""
    v = base.validator
    claims = base.claims or {}
    out: list[tuple[str, str, bytes, Expect | None]] = []

    def add(cid: str, description: str, payload: bytes, expect: Expect | None) -> None:
        out.append((cid, description, payload, expect))

    def exp_expect(error: str) -> Expect:
        if v == "id_token" and error == "MissingClaim":
            return ("MissingClaim", "OIDC Core §2")
        return (error, EXP[v])

    if "exp" in claims:
        add("exp-missing", "exp removed", _claims(base, exp=...), exp_expect("MissingClaim"))
    for cid, value in (
        ("exp-string", str(NOW + 300)),
        ("exp-true", True),
        ("exp-null", None),
        ("exp-list", [NOW + 300]),
        ("exp-huge", 1e300),
        ("exp-object", {"$date": NOW}),
    ):
        add(cid, f"exp = {json.dumps(value)}", _claims(base, exp=value), exp_expect("InvalidClaim"))
    add("exp-past", "exp an hour ago", _claims(base, exp=NOW - 3600), exp_expect("TokenExpired"))
    add("exp-negative", "exp = -1", _claims(base, exp=-1), exp_expect("TokenExpired"))
    far = NOW + 100 * 365 * 86400
    if v == "software_statement":
        far_expect = None  # an SSA is long-lived by design; its freshness is the iat age bound (case iat-old)
    elif v == "nested_jwt":
        far_expect = ("InvalidIssuedAt", policy(EXP[v]))
    else:
        far_expect = ("InvalidIssuedAt", policy(IAT[v]))
    if far_expect is not None:
        add("exp-century", "exp a century away (a token that never dies)", _claims(base, exp=far), far_expect)
    both = ("InvalidIssuedAt", policy(EXP[v]) if v == "nested_jwt" else IAT[v])  # the nested JWT bounds exp - now first
    add("exp-and-iat-future", "iat and exp both a century away", _claims(base, exp=far + 300, iat=far), both)
    for cid, literal in (("exp-nan", "NaN"), ("exp-infinity", "Infinity"), ("exp-1e999", "1e999"), ("exp-bigint", "9" * 5000)):
        add(
            cid,
            f"exp = {literal[:12]} (not a JSON number a parser can hold)",
            _raw_claims(base, "exp", literal),
            ("MalformedToken", "RFC 7519 §7.2"),
        )
    add("nbf-future", "nbf an hour from now", _claims(base, nbf=NOW + 3600), ("TokenNotYetValid", NBF))
    add("nbf-string", "nbf as a string", _claims(base, nbf=str(NOW)), ("InvalidClaim", NBF))
    add("iat-future", "iat an hour from now", _claims(base, iat=NOW + 3600), ("InvalidIssuedAt", IAT[v]))
    add("iat-string", "iat as a string", _claims(base, iat=str(NOW)), ("InvalidClaim", IAT[v]))
    add("iat-old", "iat ten days ago", _claims(base, iat=NOW - 10 * 86400), ("InvalidIssuedAt", policy(IAT[v])))
    if v != "nested_jwt":  # iat is optional in a nested JWT (RFC 7520 §6's has none)
        missing_iat = {"id_token": ("MissingClaim", "OIDC Core §2"), "software_statement": ("MissingClaim", "OB Directory SSA")}
        add("iat-missing", "iat removed", _claims(base, iat=...), missing_iat.get(v, ("MissingClaim", IAT[v])))

    iss_error = ("InvalidIssuer", ISS[v])
    add("iss-wrong", "iss of another issuer", _claims(base, iss="https://attacker.example"), iss_error)
    add("iss-list", "iss as an array", _claims(base, iss=[claims.get("iss")]), iss_error)
    add("iss-case", "iss in other letter case", _claims(base, iss=str(claims.get("iss")).upper()), iss_error)
    add("iss-missing", "iss removed", _claims(base, iss=...), ("MissingClaim", "OIDC Core §2") if v == "id_token" else iss_error)
    if v == "software_statement":
        add(
            "aud-added",
            "an aud (a registration request's claim) in a statement",
            _claims(base, aud="https://as.bank.example"),
            ("InvalidClaim", "RFC 8725 §3.12"),
        )
    else:
        aud_error = ("InvalidAudience", AUD[v])
        add("aud-wrong", "aud of another resource", _claims(base, aud="https://other-api.example"), aud_error)
        add("aud-number", "aud as a number", _claims(base, aud=42), aud_error)
        add("aud-empty-list", "aud an empty array", _claims(base, aud=[]), aud_error)
        missing_aud = {"id_token": ("MissingClaim", "OIDC Core §2"), "registration_request": ("MissingClaim", "RFC 8725 §3.12")}
        add("aud-missing", "aud removed", _claims(base, aud=...), missing_aud.get(v, aud_error))
    if "sub" in claims:
        add(
            "sub-missing",
            "sub removed",
            _claims(base, sub=...),
            ("MissingClaim", "OIDC Core §2" if v == "id_token" else "RFC 9068 §2.2"),
        )

    malformed = ("MalformedToken", "RFC 7519 §7.2")
    text = _claims(base).decode()
    add(
        "claims-dup-iss",
        "iss named twice (the attacker's first)",
        ('{"iss":"https://attacker.example",' + text[1:]).encode(),
        ("MalformedToken", "RFC 7519 §4"),
    )
    add("claims-array", "claims set is an array", b"[1,2,3]", malformed)
    add("claims-not-json", "claims set is not JSON", b"iss=attacker", malformed)
    add("claims-empty", "empty payload", b"", malformed)
    add("claims-deep", "claims nested 5000 arrays deep", b'{"x":' + b"[" * 5000 + b"]" * 5000 + b"}", malformed)
    add("claims-bad-utf8", "claims not UTF-8", text[:-1].encode() + b',"x":"\xc3\x28"}', ("MalformedToken", "RFC 8725 §3.7"))
    add(
        "claims-surrogate",
        "a lone surrogate in jti",
        (text[:-1] + ',"y":"\\ud800"}').encode(),
        ("MalformedToken", "RFC 7493 §2.1"),
    )
    return out


def _ob_header_mutations(base: Base) -> list[tuple[str, str, dict[str, Any], Expect]]:
    """The OB profile's protected-header claims, each broken (the OB signature's 'claims')."""
    iat, iss, tan = (f"http://openbanking.org.uk/{n}" for n in ("iat", "iss", "tan"))
    h = base.header
    out = [
        ("ob-iat-future", "OB iat an hour from now", {**h, iat: NOW + 3600}, ("InvalidIssuedAt", f"{OB} (iat)")),
        ("ob-iat-string", "OB iat as a string", {**h, iat: str(NOW)}, ("InvalidClaim", f"{OB} (iat)")),
        ("ob-iat-bool", "OB iat true", {**h, iat: True}, ("InvalidClaim", f"{OB} (iat)")),
        ("ob-iat-missing", "OB iat removed", {k: x for k, x in h.items() if k != iat}, ("MissingClaim", f"{OB} (iat)")),
        ("ob-iss-other", "OB iss of another TPP", {**h, iss: f"{TPP.org_id}/other-app"}, ("InvalidIssuer", f"{OB} (iss)")),
        ("ob-iss-missing", "OB iss removed", {k: x for k, x in h.items() if k != iss}, ("MissingClaim", f"{OB} (iss)")),
        ("ob-tan-unknown", "OB tan an unlisted trust anchor", {**h, tan: "attacker.example"}, ("InvalidClaim", f"{OB} (tan)")),
        ("ob-tan-list", "OB tan as an array", {**h, tan: [h[tan]]}, ("InvalidClaim", f"{OB} (tan)")),
        (
            "ob-crit-short",
            "crit without tan",
            {**h, "crit": [iat, iss]},
            ("UnsupportedCritical", f"{OB} (crit); RFC 7515 §4.1.11"),
        ),
        ("ob-typ", "typ JWT", {**h, "typ": "JWT"}, ("InvalidType", f"{OB} (typ); RFC 7515 §4.1.9")),
        ("ob-cty", "cty text/plain", {**h, "cty": "text/plain"}, ("InvalidType", f"{OB} (cty); RFC 7515 §4.1.10")),
        ("ob-extra-member", "an unexpected header member", {**h, "x5t#S256": "AAAA"}, OB_MEMBERS),
    ]
    return out


def _nested_outer(h: Harness) -> list[Case]:
    """The JWE layer of the nested JWT: its own header, algorithms, compression and integrity."""
    base = h.bases["nested_jwt"]
    inner = forge_jws(base.header, base.payload(), base.key, base.alg)
    outer = base.outer
    recipient = RECIPIENT_KEY.jwk
    v = "nested_jwt"
    cases: list[Case] = []

    def add(cid: str, description: str, token: str, error: str, section: str | None) -> None:
        cases.append(Case(f"{v}/jwe-{cid}", "crypto", description, token, v, expect={v: (error, section)}))

    def forged(
        header: Mapping[str, Any],
        key: bytes = b"\x00" * 256,
        iv: bytes = b"\x00" * 12,
        ct: bytes = b"\x00" * 64,
        tag: bytes = b"\x00" * 16,
    ) -> str:
        return ".".join([b64json(header), b64url_encode(key), b64url_encode(iv), b64url_encode(ct), b64url_encode(tag)])

    alg_error = ("AlgorithmNotAllowed", "RFC 8725 §3.1")
    # A 10 MB plaintext that deflates to a few KB: jwcrypto 1.6.1 would inflate it (its cap is 100 MiB).
    bomb = encrypt_to(recipient, inner.encode() + b" " * 10_000_000, {**outer, "zip": "DEF"})
    add("zip-bomb", "zip: DEF, 10 MB inflated from a few KB (RFC 8725 §3.6)", bomb, "InvalidHeader", "RFC 8725 §3.6")
    add(
        "zip-small",
        "zip: DEF on an ordinary nested JWT",
        encrypt_to(recipient, inner.encode(), {**outer, "zip": "DEF"}),
        "InvalidHeader",
        "RFC 8725 §3.6",
    )
    add("alg-rsa1_5", "RSA1_5 (Bleichenbacher)", encrypt_to(recipient, inner.encode(), {**outer, "alg": "RSA1_5"}), *alg_error)
    add(
        "alg-rsa-oaep-sha1",
        "RSA-OAEP (SHA-1), not on the allowlist",
        encrypt_to(recipient, inner.encode(), {**outer, "alg": "RSA-OAEP"}),
        *alg_error,
    )
    add(
        "enc-cbc",
        "A128CBC-HS256, not on the allowlist",
        encrypt_to(recipient, inner.encode(), {**outer, "enc": "A128CBC-HS256"}),
        *alg_error,
    )
    add("alg-dir", "alg dir", forged({"alg": "dir", "enc": "A256GCM", "cty": "JWT"}, key=b""), *alg_error)
    add("alg-none", "alg none", forged({"alg": "none", "enc": "A256GCM", "cty": "JWT"}), *alg_error)
    add(
        "alg-pbes2-p2c",
        "PBES2 with p2c = 10^9 (CVE-2023-6681)",
        forged({"alg": "PBES2-HS256+A128KW", "enc": "A256GCM", "p2s": "AAAAAAAAAAA", "p2c": 10**9}, key=b"\x00" * 24),
        *alg_error,
    )
    add("enc-missing", "no enc", forged({"alg": "RSA-OAEP-256", "cty": "JWT"}), *alg_error)
    add(
        "crit-unknown",
        "crit naming an unknown extension",
        forged({**outer, "crit": ["x-ext"], "x-ext": 1}),
        "UnsupportedCritical",
        "RFC 7516 §4.1.13",
    )
    add(
        "outer-dup-alg",
        "alg named twice in the JWE header",
        ".".join([b64url_encode(b'{"alg":"dir","alg":"RSA-OAEP-256","enc":"A256GCM"}')] + [b64url_encode(b"\x00" * 16)] * 4),
        "MalformedToken",
        "RFC 7516 §4",
    )
    good = base.token.split(".")

    def part(i: int, new: bytes) -> str:
        parts = list(good)
        parts[i] = b64url_encode(new)
        return ".".join(parts)

    failed = ("DecryptionFailed", "RFC 7516 §5.2")
    add(
        "tag-flipped",
        "authentication tag changed",
        part(4, bytes([b64url_decode(good[4])[0] ^ 1]) + b64url_decode(good[4])[1:]),
        *failed,
    )
    add(
        "ciphertext-flipped",
        "ciphertext changed",
        part(3, bytes([b64url_decode(good[3])[0] ^ 1]) + b64url_decode(good[3])[1:]),
        *failed,
    )
    add("iv-short", "IV of 8 bytes", part(2, b64url_decode(good[2])[:8]), *failed)
    add("tag-empty", "no authentication tag", part(4, b""), *failed)
    add("key-random", "encrypted key replaced", part(1, bytes(range(256))), *failed)
    add("key-empty", "no encrypted key", part(1, b""), *failed)
    cty = ("InvalidType", "RFC 7519 §5.2, §7.2 step 8")
    add(
        "cty-missing",
        "no cty: not declared a nested JWT",
        encrypt_to(recipient, inner.encode(), {k: x for k, x in outer.items() if k != "cty"}),
        *cty,
    )
    add("cty-json", "cty json", encrypt_to(recipient, inner.encode(), {**outer, "cty": "json"}), *cty)
    add("inner-not-jws", "plaintext is not a JWS", encrypt_to(recipient, b"hello", outer), "MalformedToken", "RFC 7515 §7.1")
    add(
        "inner-jwe",
        "plaintext is another JWE",
        encrypt_to(recipient, base.token.encode(), outer),
        "UnexpectedTokenKind",
        "RFC 7515 §7.1",
    )
    add(
        "inner-binary",
        "plaintext is not UTF-8",
        encrypt_to(recipient, b"\xff\xfe\x00.\x01.\x02", outer),
        "MalformedToken",
        "RFC 7515 §2",
    )
    add(
        "inner-unsigned",
        "plaintext an unsigned JWT",
        encrypt_to(
            recipient, inner.rsplit(".", 1)[0].replace(inner.split(".")[0], b64json({"alg": "none"})).encode() + b".", outer
        ),
        *alg_error,
    )
    return cases


def _cross(h: Harness) -> list[Case]:
    """Each base token at every other validator: only the diagonal accepts (RFC 8725 §2.8, §3.12)."""
    to_jwe = ("UnexpectedTokenKind", "RFC 7516 §7.1")
    detached = ("MalformedToken", "RFC 7515 Appendix F")
    table: dict[tuple[str, str], Expect] = {
        ("software_statement", "registration_request"): ("KeyNotFound", "RFC 7515 §4.1.4"),
        ("software_statement", "access_token"): ("InvalidType", "RFC 9068 §4 (1)"),
        ("software_statement", "id_token"): ("MissingClaim", "OIDC Core §2"),
        ("registration_request", "software_statement"): ("KeyNotFound", "RFC 7515 §4.1.4"),
        ("registration_request", "access_token"): ("InvalidType", "RFC 9068 §4 (1)"),
        ("registration_request", "id_token"): ("MissingClaim", "OIDC Core §2"),
        ("access_token", "software_statement"): ("InvalidType", "OB Directory SSA"),
        ("access_token", "registration_request"): ("InvalidType", "OB DCR v3.2"),
        ("access_token", "id_token"): ("InvalidType", "RFC 8725 §3.11"),
        ("id_token", "software_statement"): ("AlgorithmNotAllowed", "RFC 8725 §3.1"),
        ("id_token", "registration_request"): ("AlgorithmNotAllowed", "RFC 8725 §3.1"),
        ("id_token", "access_token"): ("InvalidType", "RFC 9068 §4 (1)"),
        ("ob_signature", "software_statement"): ("InvalidType", "OB Directory SSA"),
        ("ob_signature", "registration_request"): ("InvalidType", "OB DCR v3.2"),
        ("ob_signature", "access_token"): ("InvalidType", "RFC 9068 §4 (1)"),
        ("ob_signature", "id_token"): ("InvalidType", "RFC 8725 §3.11"),
        ("ob_signature", "nested_jwt"): to_jwe,
        ("nested_jwt", "software_statement"): ("UnexpectedTokenKind", "RFC 7515 §7.1"),
        ("nested_jwt", "registration_request"): ("UnexpectedTokenKind", "RFC 7515 §7.1"),
        ("nested_jwt", "access_token"): ("UnexpectedTokenKind", "RFC 9068 §4 (2)"),
        ("nested_jwt", "id_token"): ("UnexpectedTokenKind", "OIDC Core §3.1.3.7 (1)"),
        ("nested_jwt", "ob_signature"): ("UnexpectedTokenKind", "RFC 7515 §7.1"),
    }
    for source in ("software_statement", "registration_request", "access_token", "id_token"):
        table[(source, "ob_signature")] = detached
        table[(source, "nested_jwt")] = to_jwe
    cases = []
    for source in VALIDATORS:
        base = h.bases[source]
        expect = {target: table[(source, target)] for target in VALIDATORS if target != source}
        description = f"a valid {source.replace('_', ' ')} at every other validator"
        cases.append(Case(f"cross/{source}", "cross", description, base.token, source, base.body, expect))
    return cases


def build_corpus(h: Harness) -> list[Case]:
    """Every case, in a fixed order."""
    cases = _structural(h)
    for v in VALIDATORS:
        base = h.bases[v]
        for cid, description, token, body, expect in _crypto_mutations(base):
            cases.append(Case(f"{v}/{cid}", "crypto", description, token, v, body, expect))
        if base.claims is not None:
            for cid, description, payload, expected in _claim_mutations(base):
                if expected is None:
                    continue
                cases.append(Case(f"{v}/{cid}", "claims", description, base.sign(base.header, payload), v, None, {v: expected}))
        else:
            for cid, description, header, expected in _ob_header_mutations(base):
                cases.append(Case(f"{v}/{cid}", "claims", description, base.sign(header, base.payload()), v, None, {v: expected}))
    cases.extend(_nested_outer(h))
    cases.extend(_cross(h))
    ids = [c.id for c in cases]
    assert len(ids) == len(set(ids)), "corpus ids are unique"
    return cases


def summary(cases: list[Case]) -> dict[str, int]:
    """How many cases of each category."""
    out: dict[str, int] = {}
    for c in cases:
        out[c.category] = out.get(c.category, 0) + 1
    return out
