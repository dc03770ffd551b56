"""The six scenario validators the hostile corpus runs against, each with one valid base token.

Real parts, as everywhere in the book: the statement and request validators fetch their keys over
HTTP from the demo directory on 127.0.0.1, the replay and nonce stores are sqlite files, and every
signature and encryption is real. The clock is fixed at ``DEMO_EPOCH``.

A :class:`Base` is what a mutation needs to forge a variant that only one check can reject: the base
token's header and payload as values, and a ``sign`` function that signs *any* header and payload with
the right key, bypassing joselab's own signer (which would refuse most of what the corpus needs).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from joselab_testkit import forge_jws
from jwcrypto import jwe, jwk

from joselab import DEMO_EPOCH, DemoIds, FixedClock, Trace, demo_key, parse_jws, sign_compact
from joselab.access_token import AccessTokenValidator
from joselab.id_token import IdTokenValidator
from joselab.message import NestedJWTValidator, OBParticipant, OBSigner, OBVerifier, TrustAnchor
from joselab.parties import Database, ReplayStore
from joselab.registration import DEMO_SOFTWARE, build_demo

#: The validators, in the order the reports list them.
VALIDATORS = ("software_statement", "registration_request", "access_token", "id_token", "ob_signature", "nested_jwt")

AS_ISSUER = "https://as.bank.example"
API = "https://api.bank.example"
OP_ISSUER = "https://op.bank.example"
CLIENT_ID = "client.example"
NONCE = "n-0S6_WzA2Mj"
ANCHOR = TrustAnchor("directory.example", "keystore.directory.example")
TPP = OBParticipant("0015800001041REAAY", "payments-app-001")
OB_BODY = b'{"Data":{"Initiation":{"InstructedAmount":{"Amount":"165.88","Currency":"GBP"}}},"Risk":{}}'

AS_KEY = demo_key("rfc7515-a2-rsa")  # the AS / OP (CONVENTIONS.md)
CLIENT_KEY = demo_key("rfc7520-bilbo-rsa")  # the TPP
RECIPIENT_KEY = demo_key("rfc7520-samwise-rsa")  # who nested JWTs are encrypted to
ATTACKER_KEY = demo_key("rfc7520-frodo-rsa")  # a real key, just not a trusted one for these roles
ATTACKER_EC = demo_key("rfc8037-ed25519")


def published(key: jwk.JWK, alg: str) -> jwk.JWKSet:
    """A JWK Set with the public half of ``key``, bound to one ``alg`` and ``use: sig`` (RFC 8725 §3.1)."""
    keys = jwk.JWKSet()
    keys.add(jwk.JWK(**{**key.export_public(as_dict=True), "alg": alg, "use": "sig"}))
    return keys


def encrypt_to(recipient: jwk.JWK, plaintext: bytes, header: Mapping[str, Any]) -> str:
    """A compact JWE with any protected header jwcrypto will write (``zip`` included), to ``recipient``."""
    token = jwe.JWE(plaintext, protected=json.dumps(dict(header), separators=(",", ":")))
    token.allowed_algs = [header["alg"], header["enc"]]
    token.add_recipient(jwk.JWK(**recipient.export_public(as_dict=True)))
    return token.serialize(compact=True)


@dataclass
class Base:
    """One validator's valid token, and how to forge variants of it."""

    validator: str
    token: str
    header: dict[str, Any]
    claims: dict[str, Any] | None  # None for the OB signature, whose payload is the body
    key: jwk.JWK
    alg: str
    body: bytes | None = None
    detached: bool = False
    outer: dict[str, Any] = field(default_factory=dict)  # the nested JWT's JWE header

    def sign(self, header: Mapping[str, Any] | str, payload: bytes, *, key: jwk.JWK | None = None, alg: str | None = None) -> str:
        """A JWS over any header (an object, or already-encoded text) and payload bytes, signed for real
        (by the base's key unless told otherwise), detached for the OB signature, encrypted for the
        nested JWT."""
        token = forge_jws(header, payload, key or self.key, alg or self.alg)
        return self.wrap(token)

    def wrap(self, inner: str) -> str:
        """How a JWS reaches this validator: detached for OB, inside a JWE for the nested JWT."""
        if self.detached:
            head, _, sig = inner.split(".")
            return f"{head}..{sig}"
        if self.outer:
            return encrypt_to(RECIPIENT_KEY.jwk, inner.encode("ascii", "surrogateescape"), self.outer)
        return inner

    def payload(self) -> bytes:
        """The base payload: the JSON claims set, or the body for OB."""
        if self.claims is None:
            assert self.body is not None
            return self.body
        return json.dumps(self.claims, separators=(",", ":")).encode()


class Harness:
    """All six validators, their bases, and :meth:`run` to put one input through one validator."""

    def __init__(self, workdir: Path) -> None:
        self.clock = FixedClock(DEMO_EPOCH)
        self.ids = DemoIds(7)
        self.registration = build_demo(workdir / "registration.sqlite", clock=self.clock, ids=self.ids)
        reg = self.registration
        self.ssa = reg.directory.issue_ssa(DEMO_SOFTWARE)
        self.ssa_claims = reg.bank.statements.validate(self.ssa, strict=True).result
        request = reg.client.registration_request(self.ssa, reg.bank.issuer)

        self.access = AccessTokenValidator(issuer=AS_ISSUER, audience=API, keys=published(AS_KEY.jwk, "RS256"), clock=self.clock)
        self.nonce_db = Database(workdir / "nonces.sqlite")
        self.id_token = IdTokenValidator(
            issuer=OP_ISSUER,
            client_id=CLIENT_ID,
            keys=published(AS_KEY.jwk, "RS256"),
            clock=self.clock,
            nonce_store=ReplayStore(self.nonce_db, "nonces"),
        )
        self.ob = OBVerifier(TPP, [ANCHOR], self.clock, keys=published(CLIENT_KEY.jwk, "PS256"))
        self.nested = NestedJWTValidator(
            decryption_key=RECIPIENT_KEY,
            signer_keys=published(CLIENT_KEY.jwk, "PS256"),
            algorithms=["PS256"],
            clock=self.clock,
            issuer=TPP.iss,
            audience=API,
        )

        now = DEMO_EPOCH
        at_claims = {
            "iss": AS_ISSUER, "exp": now + 300, "aud": API, "sub": "alice", "client_id": "tpp-1", "iat": now,
            "jti": "8f0c6a52-3a53-4a4d-9d0e-6a5a8f7d6c01", "scope": "accounts",
        }  # fmt: skip
        id_claims = {
            "iss": OP_ISSUER, "sub": "248289761001", "aud": CLIENT_ID, "exp": now + 300, "iat": now,
            "auth_time": now, "nonce": NONCE, "azp": CLIENT_ID,
        }  # fmt: skip
        nested_claims = {"iss": TPP.iss, "aud": API, "exp": now + 60, "iat": now, "jti": "c3a1d1a6-0c55-4d51-a4ab-6f3f2b4d9e10"}
        at_header = {"alg": "RS256", "typ": "at+jwt", "kid": AS_KEY.kid}
        id_header = {"alg": "RS256", "typ": "JWT", "kid": AS_KEY.kid}
        nested_header = {"alg": "PS256", "typ": "JWT", "kid": CLIENT_KEY.kid}
        signer = OBSigner(CLIENT_KEY, TPP, ANCHOR, self.clock)
        ob_token = signer.sign(OB_BODY)
        outer = {"alg": "RSA-OAEP-256", "enc": "A256GCM", "cty": "JWT", "kid": RECIPIENT_KEY.kid}

        def jwt_base(name: str, token: str, key: jwk.JWK, alg: str) -> Base:
            parsed = parse_jws(token)
            return Base(name, token, dict(parsed.header), parsed.claims(), key, alg)

        nested = Base("nested_jwt", "", nested_header, nested_claims, CLIENT_KEY.jwk, "PS256", outer=outer)
        nested.token = nested.sign(nested_header, nested.payload())
        self.bases: dict[str, Base] = {
            "software_statement": jwt_base("software_statement", self.ssa, reg.directory.key.jwk, "ES256"),
            "registration_request": jwt_base("registration_request", request, reg.client.jwk, "PS256"),
            "access_token": jwt_base("access_token", sign_compact(at_claims, AS_KEY.jwk, at_header), AS_KEY.jwk, "RS256"),
            "id_token": jwt_base("id_token", sign_compact(id_claims, AS_KEY.jwk, id_header), AS_KEY.jwk, "RS256"),
            "ob_signature": Base(
                "ob_signature",
                ob_token,
                dict(parse_jws(ob_token, detached_payload=OB_BODY).header),
                None,
                CLIENT_KEY.jwk,
                "PS256",
                body=OB_BODY,
                detached=True,
            ),
            "nested_jwt": nested,
        }
        # Durability across a power cut is not what these tests are about, and an fsync per replay-store
        # write makes a validation's wall time depend on the disk (the fuzz tests bound it).
        for db in (reg.bank.db, self.nonce_db):
            db.execute("PRAGMA synchronous=OFF")
        self._runners: dict[str, Callable[[Any, bytes | None], Trace]] = {
            "software_statement": lambda t, _b: reg.bank.statements.validate(t),
            "registration_request": lambda t, _b: reg.bank.requests.validate(t, self.ssa_claims, self.ssa),
            "access_token": lambda t, _b: self.access.validate(t),
            "id_token": lambda t, _b: self.id_token.validate(t, nonce=NONCE),
            "ob_signature": lambda t, b: self.ob.verify(t, OB_BODY if b is None else b),
            "nested_jwt": lambda t, _b: self.nested.validate(t),
        }

    def run(self, validator: str, token: Any, body: bytes | None = None) -> Trace:
        """One validation, as the scenario's party runs it."""
        return self._runners[validator](token, body)

    def close(self) -> None:
        self.registration.close()
        self.nonce_db.close()


def make_harness() -> tuple[Harness, tempfile.TemporaryDirectory[str]]:
    tmp = tempfile.TemporaryDirectory(prefix="joselab-hostile-")
    return Harness(Path(tmp.name)), tmp
