"""joselab: issue and validate the JOSE tokens of an API call, and show every check.

The core knows no scenario: :mod:`~joselab.compact` (strict parsing), :mod:`~joselab.keys`,
:mod:`~joselab.clock`, :mod:`~joselab.trace` (the validation trace), :mod:`~joselab.jws` and
:mod:`~joselab.claims` (checks every profile shares), :mod:`~joselab.display`. The scenario modules
build on it, and :mod:`joselab.parties` runs them over real HTTP and sqlite.
"""

from .clock import DEMO_EPOCH, DemoIds, FixedClock, RandomIds, SystemClock
from .compact import b64url_decode, b64url_encode, decode_unverified, parse, parse_jwe, parse_jws
from .display import TokenView, show
from .errors import JoselabError, ValidationError
from .jws import sign_compact, verify_jws
from .keys import KeyBinding, demo_key, demo_keys, generate_key, load_jwks, public_jwks
from .trace import Check, Outcome, Trace

__all__ = [
    "DEMO_EPOCH", "Check", "DemoIds", "FixedClock", "JoselabError", "KeyBinding", "Outcome", "RandomIds", "SystemClock",
    "TokenView", "Trace", "ValidationError", "b64url_decode", "b64url_encode", "decode_unverified",
    "demo_key", "demo_keys", "generate_key", "load_jwks", "parse", "parse_jwe", "parse_jws",
    "public_jwks", "show", "sign_compact", "verify_jws",
]  # fmt: skip
__version__ = "0.1.0"
