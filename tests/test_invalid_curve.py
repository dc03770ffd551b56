"""The invalid-curve attack (RFC 8725 §2.5) arrives in a JWE's ``epk``, and is refused at a named row.

RFC 8725 §3.4: "the JWS/JWE library itself must validate these inputs before using them, or it must
use underlying cryptographic libraries that do so (or both!)". What actually refuses a point off its
curve is ``cryptography`` (``EllipticCurvePublicNumbers.public_key``), reached through jwcrypto's JWK
import; ``load_jwks`` never sees an ``epk``. Before this fix the refusal surfaced only as the generic
"decrypts with the recipient key" row (a DecryptionFailed); now :func:`joselab.jwe.decrypt_jwe` names
it, before any key agreement.
"""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from joselab_testkit import keyset
from jwcrypto import jwe, jwk

from joselab import Trace, b64url_decode, decode_unverified, demo_key
from joselab.attacks import invalid_curve_jwe
from joselab.clock import DEMO_EPOCH, FixedClock
from joselab.compact import b64url_encode
from joselab.errors import InvalidHeader
from joselab.jwe import decrypt_jwe, encrypt_compact
from joselab.message.nesting import NestedJWTValidator, sign_then_encrypt

MERIADOC = demo_key("rfc7520-meriadoc-p256").jwk  # P-256: the book's ECDH-ES+A256KW recipient (key of RFC 7520 §5.5)
PEREGRIN = demo_key("rfc7520-peregrin-p384").jwk  # P-384
ALGS, ENCS = ["ECDH-ES+A256KW"], ["A256GCM"]
EPK_ROW = "epk: a public key on the recipient key's curve"
_P = 2**256 - 2**224 + 2**192 + 2**96 - 1  # the P-256 field prime
_X, _Y = (int.from_bytes(b64url_decode(MERIADOC[c]), "big") for c in "xy")


def run(token: str, key: jwk.JWK = MERIADOC) -> Trace:
    trace = Trace("t")
    with trace.run():
        decrypt_jwe(trace, token, key, ALGS, ENCS, binding=None)
    return trace


def with_epk(token: str, epk) -> str:
    head, *rest = token.split(".")
    header = json.loads(b64url_decode(head))
    return ".".join([b64url_encode(json.dumps({**header, "epk": epk}).encode()), *rest])


def test_an_ecdh_es_jwe_whose_epk_is_off_the_curve_is_refused_at_the_epk_row():
    token = invalid_curve_jwe(MERIADOC)
    epk = decode_unverified(token).header["epk"]
    # What stops it underneath: cryptography refuses to build the point.
    x, y = (int.from_bytes(b64url_decode(epk[c]), "big") for c in "xy")
    with pytest.raises(ValueError, match="not on the curve"):
        ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
    trace = run(token)
    failed = trace.failed
    assert failed is not None and (failed.section, failed.name) == ("RFC 8725 §3.4", EPK_ROW)
    assert failed.evidence == "epk on P-256: point not on the curve"
    assert isinstance(trace.error, InvalidHeader)
    assert not any(c.name.startswith("decrypts with") for c in trace)  # no key agreement was attempted


def test_cryptography_reads_an_unreduced_coordinate_modulo_p():
    """Why joselab checks the range itself: x + p names the same point to cryptography."""
    ec.EllipticCurvePublicNumbers(_X + _P, _Y, ec.SECP256R1()).public_key()


def test_a_valid_epk_passes_the_row():
    trace = run(
        encrypt_compact(b"x", jwk.JWK(**MERIADOC.export_public(as_dict=True)), {"alg": "ECDH-ES+A256KW", "enc": "A256GCM"})
    )
    assert trace.ok
    row = next(c for c in trace if c.name == EPK_ROW)
    assert row.passed and row.evidence == "epk on P-256, point on the curve"


@pytest.mark.parametrize(
    ("epk", "evidence"),
    [
        (None, "epk absent"),
        ("a string", "epk is str, not a JWK object"),
        ({**PEREGRIN.export_public(as_dict=True)}, 'epk is "EC" "P-384", the key is EC P-256'),
        ({"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}, "epk on P-256: x is 1 bytes, not the 32 of a coordinate"),
        ({"kty": "EC", "crv": "P-256", "x": "A" * 43, "y": "A" * 43}, "epk on P-256: point not on the curve"),
        ({**MERIADOC.export(as_dict=True)}, "epk carries private members ['d']"),
        # cryptography would read these modulo p: the range check is joselab's (SP 800-56A partial validation)
        ({**MERIADOC.export_public(as_dict=True), "x": b64url_encode((_X + _P).to_bytes(33, "big"))}, "x is 33 bytes"),
        ({**MERIADOC.export_public(as_dict=True), "y": b64url_encode((_Y + _P).to_bytes(33, "big"))}, "y is 33 bytes"),
        ({**MERIADOC.export_public(as_dict=True), "x": b64url_encode(_P.to_bytes(32, "big"))}, "x is not below the field prime"),
    ],
)
def test_an_epk_of_the_wrong_shape_or_curve_is_refused(epk, evidence):
    good = encrypt_compact(b"x", jwk.JWK(**MERIADOC.export_public(as_dict=True)), {"alg": "ECDH-ES+A256KW", "enc": "A256GCM"})
    token = with_epk(good, epk) if epk is not None else _without_epk(good)
    failed = run(token).failed
    assert failed is not None and failed.name == EPK_ROW
    assert evidence in failed.evidence


def _without_epk(token: str) -> str:
    head, *rest = token.split(".")
    header = {k: v for k, v in json.loads(b64url_decode(head)).items() if k != "epk"}
    return ".".join([b64url_encode(json.dumps(header).encode()), *rest])


def test_the_nested_jwt_validator_refuses_an_off_curve_epk():
    """A scenario validator with an EC decryption key (scenario 4's ECDH-ES+A256KW)."""
    bilbo = demo_key("rfc7520-bilbo-rsa")
    validator = NestedJWTValidator(
        decryption_key=MERIADOC,
        signer_keys=keyset(bilbo.public()),
        algorithms=["PS256"],
        clock=FixedClock(DEMO_EPOCH),
    )
    good = sign_then_encrypt({"exp": DEMO_EPOCH + 60}, bilbo, {"alg": "PS256", "kid": bilbo.kid}, MERIADOC, alg="ECDH-ES+A256KW")
    assert validator.validate(good).ok
    trace = validator.validate(
        with_epk(
            good,
            {**decode_unverified(good).header["epk"], "y": decode_unverified(invalid_curve_jwe(MERIADOC)).header["epk"]["y"]},
        )
    )
    assert trace.failed is not None and trace.failed.section == "RFC 8725 §3.4"


def test_jwcrypto_alone_refuses_it_too_but_only_as_a_failed_decryption():
    """Why the row exists: jwcrypto (through cryptography) does refuse the point, but the caller learns
    only that decryption failed, not which check it was."""
    token = invalid_curve_jwe(MERIADOC)
    obj = jwe.JWE()
    obj.allowed_algs = ["ECDH-ES+A256KW", "A256GCM"]
    obj.deserialize(token)
    with pytest.raises(Exception):  # noqa: B017 - whatever jwcrypto raises, it is not a named check
        obj.decrypt(MERIADOC)
