"""The token workbench (workbench.md, assets/joselab-workbench.js) against joselab's Python validators.

Parity: every case of the hostile corpus (tests/hostile/), every base token of the corpus's harness
and every RFC test vector (tests/vectors/ and the shared copy beside the repository) goes through
each of the workbench's profiles in the browser and through the Python validator it mirrors, with
the same configuration. On every case the verdict and the failing row's section must agree, and so
must the whole list of rows (section, check, outcome): the workbench mirrors the validators row for
row. When a validator's rows change, the workbench must change with them (CONVENTIONS.md): this
test says which case and which row differ.

The bulk runs through the page's own entry point (``JoselabWorkbench.validate``, what ``#run``
calls); a few cases go through the real inputs and the button. The page is also checked for
privacy (no request after it loaded, nothing stored), from ``file://``, and for its links.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from hostile.corpus import build_corpus
from hostile.harness import API, AS_ISSUER, AS_KEY, ATTACKER_KEY, CLIENT_ID, CLIENT_KEY, NONCE, OP_ISSUER, Harness
from joselab_testkit import forge_jws
from jwcrypto import jwk

from joselab import DEMO_EPOCH, FixedClock, Trace, demo_key, parse_jws, theme
from joselab.access_token import AccessTokenValidator
from joselab.client_assertion import ASYMMETRIC_ALGORITHMS, ClientAssertionValidator
from joselab.dpop import DPoPProofValidator
from joselab.errors import JoselabError
from joselab.id_token import IdTokenValidator
from joselab.jws import verify_jws
from joselab.keys import load_jwks
from joselab.parties import Database, ReplayStore
from joselab.registration import SSA_ALGORITHMS, SoftwareStatementValidator, TrustedDirectory
from joselab.sections import link_html

from .conftest import SITE

REPO = Path(__file__).resolve().parents[2]
PAGE = "workbench.html"
PROFILES = ("jws", "access_token", "id_token", "software_statement", "dpop", "client_assertion")
#: The plain JWS profile's allowlist (the page's default; test_defaults_match_the_validators).
PLAIN_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"]

#: What is compared differently, and why. Each entry is checked to still apply (an entry that no
#: longer matches any case fails the test, so the list cannot go stale).
DELIBERATE: dict[str, str] = {
    "not a string": (
        "the corpus's non-string inputs (None, bytes, an int, a list, a dict) cannot be typed into a text "
        "box: the page always hands the validator a string, so these cases are not compared"
    ),
    "secret keys": (
        "the workbench takes public keys only (a secret pasted into a web page is a leak), so the HMAC vectors "
        "(RFC 7515 A.1, RFC 7520 4.4, RFC 7797) are compared with the RFC's RSA public key trusted instead: "
        "both sides refuse them at the key row, and no MAC is checked in the browser"
    ),
    "first sight": (
        "the workbench keeps no replay store (it stores nothing), so an ID token's nonce and a client "
        "assertion's jti are always a first sight: each Python validation gets a fresh sqlite store to match"
    ),
    "presentation": (
        "the access token profile sees no request: it checks a token as if presented as a Bearer token on a "
        "connection without a client certificate (AccessTokenValidator.validate with presented=None), so a "
        "cnf-bound token is always refused at its binding row; the DPoP profile checks the proof, with the "
        "token's cnf.jkt, as DPoPProofValidator does"
    ),
    "form client_id": (
        "the client assertion profile takes the registered client's client_id and keys, and mirrors a token "
        "request whose form carries no client_id (RFC 7521 §4.2: OPTIONAL; the assertion's sub names the "
        "client), so the row comparing the form's client_id with sub never runs on either side"
    ),
}


# -- the page -----------------------------------------------------------------------------------
def open_workbench(browser, url: str):
    page = browser.new_page()
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("request", lambda req: requests.append(req.url))
    page.goto(url, wait_until="load")
    page.wait_for_selector("html[data-workbench=ready]", timeout=15_000)
    return page, errors, requests


@pytest.fixture(scope="module")
def workbench(browser, site_url):
    page, errors, _ = open_workbench(browser, f"{site_url}/{PAGE}")
    yield page
    assert errors == []
    page.close()


def as_js(token: str) -> Any:
    """A token as the page receives it; a lone surrogate (which JSON over the wire cannot carry)
    goes as code points and is put back together in the page."""
    if any(0xD800 <= ord(c) <= 0xDFFF for c in token):
        return {"codePoints": [ord(c) for c in token]}
    return token


RUN_JS = """async ([profile, items]) => {
  const out = [];
  for (const [t, options] of items) {
    const token = typeof t === "string" ? t : String.fromCodePoint(...t.codePoints);
    const r = await JoselabWorkbench.validate(profile, token, options);
    out.push({verdict: r.verdict, section: r.section, config: r.config || null,
              rows: r.rows.map((x) => [x.section, x.name, x.outcome])});
  }
  return out;
}"""


# -- the Python side ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Config:
    """One profile's configuration, as the page's form holds it (``options``) and as the Python
    validator is built from it."""

    jwks: str
    issuer: str = ""
    audience: str = ""
    client_id: str = ""
    nonce: str = ""
    algorithms: tuple[str, ...] = ()
    now: int = DEMO_EPOCH
    htm: str = ""
    htu: str = ""
    access_token: str = ""
    jkt: str = ""

    def options(self) -> dict[str, Any]:
        return {
            "jwks": self.jwks,
            "issuer": self.issuer,
            "audience": self.audience,
            "clientId": self.client_id,
            "nonce": self.nonce,
            "algorithms": ", ".join(self.algorithms),
            "now": self.now,
            "htm": self.htm,
            "htu": self.htu,
            "accessToken": self.access_token,
            "jkt": self.jkt,
        }


def public_jwks(*pairs: tuple[jwk.JWK, str | None]) -> str:
    keys = []
    for key, alg in pairs:
        entry = key.export_public(as_dict=True)
        if alg:
            entry = {**entry, "alg": alg, "use": "sig"}
        keys.append(entry)
    return json.dumps({"keys": keys})


class Python:
    """The Python validators, built from a :class:`Config` as the harness builds them."""

    def __init__(self, harness: Harness, workdir: Path) -> None:
        self.harness = harness
        self.nonces = Database(workdir / "workbench-nonces.sqlite")
        self.nonces.execute("PRAGMA synchronous=OFF")
        self.count = 0
        reg = harness.registration
        self.directory = TrustedDirectory(reg.directory.issuer, reg.directory.jwks_uri)
        self.network = reg.network

    def run(self, profile: str, token: str, c: Config) -> Trace:
        clock = FixedClock(c.now)
        if profile == "jws":
            trace = Trace("RFC 7515 §5.2: a compact JWS, verified")
            with trace.run():
                verify_jws(trace, token, load_jwks(c.jwks), c.algorithms or PLAIN_ALGORITHMS)
            return trace
        if profile == "access_token":
            v = AccessTokenValidator(issuer=c.issuer, audience=c.audience, keys=load_jwks(c.jwks), clock=clock)
            return v.validate(token)
        if profile == "id_token":
            self.count += 1  # DELIBERATE["first sight"]: a fresh nonce store for each validation
            store = ReplayStore(self.nonces, f"nonces_{self.count}")
            v = IdTokenValidator(issuer=c.issuer, client_id=c.client_id, keys=load_jwks(c.jwks), clock=clock, nonce_store=store)
            return v.validate(token, nonce=c.nonce or None)
        if profile == "software_statement":
            # The directory's keys come over real HTTP from the demo directory; the page is given
            # the same JWK Set as text (Config.jwks).
            v = SoftwareStatementValidator([TrustedDirectory(c.issuer, self.directory.jwks_uri)], self.network, clock=clock)
            return v.validate(token)
        if profile == "dpop":
            self.count += 1  # DELIBERATE["first sight"], for the proof's jti too
            store = ReplayStore(self.nonces, f"dpop_{self.count}")
            v = DPoPProofValidator(replay_store=store, clock=clock)
            return v.validate(
                [token], method=c.htm, url=c.htu, access_token=c.access_token or None, cnf_jkt=cnf_jkt(c), nonce=c.nonce or None
            )
        if profile == "client_assertion":
            self.count += 1  # DELIBERATE["first sight"], for the jti store too
            store = ReplayStore(self.nonces, f"jti_{self.count}")
            client_keys = {c.client_id: load_jwks(c.jwks)} if c.client_id else {}
            v = ClientAssertionValidator(issuer=c.issuer, client_keys=client_keys, replay_store=store, clock=clock)
            return v.validate(token)
        raise AssertionError(profile)

    def close(self) -> None:
        self.nonces.close()


def cnf_jkt(c: Config) -> Any:
    """The cnf.jkt the DPoP profile binds the proof to: the one given, or else the ``jkt`` in the
    access token's payload (unverified: the access token profile verifies the token itself)."""
    if c.jkt or not c.access_token:
        return c.jkt or None
    try:
        cnf = parse_jws(c.access_token).claims().get("cnf")
    except JoselabError:
        return None
    return cnf.get("jkt") if isinstance(cnf, dict) else None


def py_outcome(trace: Trace) -> dict[str, Any]:
    failing = next((c for c in trace.checks if not c.passed), None)
    return {
        "verdict": "accept" if trace.ok else "reject",
        "section": failing.section if failing else None,
        "rows": [[c.section, c.name, str(c.outcome)] for c in trace.checks],
    }


# -- the cases ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Item:
    id: str
    source: str  # corpus, base, vector
    token: str
    configs: dict[str, Config]


def _vector_dirs() -> list[Path]:
    dirs = [REPO / "tests" / "vectors"]
    # The shared vectors sit beside the repository (CI: a copy of shared/ beside the clone; a
    # worktree under wt/ has it one level further up).
    for shared in (REPO.parent / "shared" / "vectors", REPO.parent.parent / "shared" / "vectors"):
        if shared.is_dir():
            dirs.append(shared)
            break
    return dirs


def vectors() -> Iterator[tuple[str, str, dict[str, Any] | None, str]]:
    """(id, compact token, the signer's JWK or None for a JWE, alg) for every compact vector."""
    for base in _vector_dirs():
        a = json.loads((base / "rfc7515-appendix-a.json").read_text("utf-8"))
        for t in a["tests"]:
            yield f"{base.parent.name}/{t['name']}", t["compact"], t["jwk"], t["name"].split()[-1]
        for path in [*sorted((base / "rfc7520").rglob("*.json")), base / "rfc8037" / "ed25519-jws.json"]:
            v = json.loads(path.read_text("utf-8"))
            compact = v.get("output", {}).get("compact")
            if not compact:
                continue  # JSON serializations only (RFC 7520 4.6-4.8, 5.11-5.13)
            key = v["input"].get("key") if compact.count(".") == 2 else None
            yield f"{base.parent.name}/{path.relative_to(base)}", compact, key, v["input"].get("alg", "")
        r = json.loads((base / "rfc7797" / "jws-rfc7797.json").read_text("utf-8"))
        for t in r["tests"]:
            yield f"{base.parent.name}/rfc7797 {t['name']}", t["compact"], None, t["protected"]["alg"]


ASSERTING_CLIENT = "sw-budget-buddy-01"


def assertion_cases() -> Iterator[tuple[str, str]]:
    """Client assertions (the corpus has none yet): a valid one, and one mutation per row of
    ClientAssertionValidator, each signed for real by the client's key unless the case is the key."""
    now = DEMO_EPOCH
    head = {"alg": "PS256", "typ": "client-authentication+jwt", "kid": CLIENT_KEY.kid}
    claims = {"iss": ASSERTING_CLIENT, "sub": ASSERTING_CLIENT, "aud": AS_ISSUER, "iat": now, "exp": now + 60, "jti": "a-7f3c"}

    def make(header_changes: dict[str, Any] | None = None, key: jwk.JWK | None = None, alg: str = "PS256", **changes: Any) -> str:
        h = {**head, **(header_changes or {})}
        h = {k: v for k, v in h.items() if v is not None}
        c = {k: v for k, v in {**claims, **changes}.items() if v is not None}
        return forge_jws(h, json.dumps(c).encode(), key or CLIENT_KEY.jwk, alg)

    yield "valid", make()
    yield "typ-absent", make({"typ": None})
    yield "typ-jwt", make({"typ": "JWT"})
    yield "typ-media-type", make({"typ": "application/client-authentication+jwt"})
    yield "typ-at+jwt", make({"typ": "at+jwt"})
    yield "typ-dpop", make({"typ": "dpop+jwt"})
    yield "typ-number", make({"typ": 7})
    yield "sub-unknown", make(iss="mallory", sub="mallory")
    yield "sub-missing", make(sub=None)
    yield "sub-number", make(sub=5)
    yield "iss-other", make(iss="another-client")
    yield "iss-missing", make(iss=None)
    yield "aud-token-endpoint", make(aud=f"{AS_ISSUER}/token")
    yield "aud-array", make(aud=[AS_ISSUER])
    yield "aud-injected", make(aud=[AS_ISSUER, f"{AS_ISSUER}/token"])
    yield "aud-missing", make(aud=None)
    yield "exp-past", make(exp=now - 120)
    yield "exp-missing", make(exp=None)
    yield "exp-string", make(exp=str(now + 60))
    yield "exp-far", make(exp=now + 3600)
    yield "nbf-future", make(nbf=now + 600)
    yield "nbf-past", make(nbf=now - 10)
    yield "iat-future", make(iat=now + 600)
    yield "iat-missing", make(iat=None)
    yield "lifetime-long", make(iat=now - 400, exp=now + 30)
    yield "jti-missing", make(jti=None)
    yield "jti-empty", make(jti="")
    yield "jti-number", make(jti=42)
    yield "jti-long", make(jti="j" * 300)
    yield "jti-astral", make(jti="\U0001f600" * 200)
    yield "key-attacker", make(key=ATTACKER_KEY.jwk)
    yield "kid-unknown", make({"kid": "nobody"})
    yield "kid-absent", make({"kid": None})
    yield "alg-rs256", make({"alg": "RS256"}, alg="RS256")
    yield "alg-none", make({"alg": "none"}).rsplit(".", 1)[0] + "."
    yield (
        "alg-hs256",
        make({"alg": "HS256"}, key=jwk.JWK(kty="oct", k="c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"), alg="HS256"),
    )
    yield "jwk-injected", make({"jwk": CLIENT_KEY.jwk.export_public(as_dict=True)})


def cnf_cases() -> Iterator[tuple[str, str]]:
    """Access tokens that carry cnf (RFC 7800 §3.1), which the access token profile checks as
    joselab.cnf.check_confirmation does for a Bearer token without a client certificate: every bound
    token is refused there, at the row of its binding."""
    now = DEMO_EPOCH
    claims = {
        "iss": AS_ISSUER, "exp": now + 300, "aud": API, "sub": "248289761001", "client_id": "sw-budget-buddy-01",
        "iat": now, "jti": "c0f7e1d2-cnf", "scope": "accounts",
    }  # fmt: skip
    head = {"alg": "RS256", "typ": "at+jwt", "kid": AS_KEY.kid}
    thumb = DPOP_KEY.jwk.thumbprint()
    for cid, cnf in (
        ("x5t", {"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}),
        ("x5t-malformed", {"x5t#S256": "not-a-thumbprint"}),
        ("jkt", {"jkt": thumb}),
        ("jkt-number", {"jkt": 7}),
        ("both", {"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2", "jkt": thumb}),
        ("unknown-method", {"jwk": {"kty": "EC"}}),
        ("empty", {}),
        ("not-object", "jkt"),
        ("null", None),
    ):
        yield cid, forge_jws(head, json.dumps({**claims, "cnf": cnf}).encode(), AS_KEY.jwk, "RS256")


DPOP_KEY = demo_key("rfc8032-test2-ed25519")  # the cast's client's DPoP key (joselab.dpop.parties)
DPOP_P256 = demo_key("rfc7520-meriadoc-p256")  # a published P-256 key, for ES256 proofs
DPOP_CONFIG = Config(jwks="", htm="GET", htu=f"{API}/accounts")


def dpop_cases() -> Iterator[tuple[str, str, Config]]:
    """DPoP proofs (the corpus has none yet): RFC 9449's Figures 2, 7 and 13 at their own time, and a
    valid proof for the cast's API call with one mutation per row of DPoPProofValidator."""
    examples = json.loads((REPO / "joselab" / "data" / "rfc9449_examples.json").read_text("utf-8"))
    for name, fig in examples["proofs"].items():
        c = Config(jwks="", htm=fig["htm"], htu=fig["htu"], now=fig["iat"])
        if "access_token" in fig:
            c = Config(**{**c.__dict__, "access_token": fig["access_token"], "jkt": examples["jkt"]["value"]})
        yield f"rfc9449-{name}", fig["proof"], c
    now = DEMO_EPOCH
    public = DPOP_KEY.jwk.export_public(as_dict=True)
    at = "eyJhbGciOiJSUzI1NiJ9.eyJjbmYiOnsiamt0IjoieCJ9fQ.c2ln"  # any access token: only its hash is used
    bound = Config(**{**DPOP_CONFIG.__dict__, "access_token": at, "jkt": DPOP_KEY.jwk.thumbprint()})
    head = {"typ": "dpop+jwt", "alg": "Ed25519", "jwk": public}
    claims = {"jti": "e1j3V_bKic8-LAEB", "htm": "GET", "htu": f"{API}/accounts", "iat": now}

    def make(
        header_changes: dict[str, Any] | None = None, key: jwk.JWK | None = None, alg: str = "Ed25519", **changes: Any
    ) -> str:
        h = {k: v for k, v in {**head, **(header_changes or {})}.items() if v is not None}
        c = {k: v for k, v in {**claims, **changes}.items() if v is not None}
        return forge_jws(h, json.dumps(c).encode(), key or DPOP_KEY.jwk, alg)

    ath = base64.urlsafe_b64encode(hashlib.sha256(at.encode()).digest()).rstrip(b"=").decode()
    yield "valid", make(), DPOP_CONFIG
    p256 = DPOP_P256.jwk.export_public(as_dict=True)
    yield "valid-es256", make({"alg": "ES256", "jwk": p256}, key=DPOP_P256.jwk, alg="ES256"), DPOP_CONFIG
    yield "eddsa-not-allowed", make({"alg": "EdDSA"}, alg="EdDSA"), DPOP_CONFIG
    yield "es256-bad-point", make({"alg": "ES256", "jwk": {**p256, "y": p256["x"]}}, key=DPOP_P256.jwk, alg="ES256"), DPOP_CONFIG
    yield "jwk-not-base64url", make({"alg": "RS256", "jwk": {"kty": "RSA", "n": "@@@", "e": "AQAB"}}), DPOP_CONFIG
    yield "jwk-ec-not-base64url", make({"jwk": {**public, "x": "***"}}), DPOP_CONFIG
    yield "valid-bound", make(ath=ath), bound
    yield "ath-missing", make(), bound
    yield "ath-wrong", make(ath="x" * 43), bound
    yield "jkt-other", make(ath=ath), Config(**{**bound.__dict__, "jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"})
    yield "nonce-missing", make(), Config(**{**DPOP_CONFIG.__dict__, "nonce": "srv-nonce-1"})
    yield "nonce-right", make(nonce="srv-nonce-1"), Config(**{**DPOP_CONFIG.__dict__, "nonce": "srv-nonce-1"})
    yield "nonce-wrong", make(nonce="old-nonce"), Config(**{**DPOP_CONFIG.__dict__, "nonce": "srv-nonce-1"})
    yield "typ-jwt", make({"typ": "JWT"}), DPOP_CONFIG
    yield "typ-missing", make({"typ": None}), DPOP_CONFIG
    yield (
        "alg-rs256",
        make({"alg": "RS256", "jwk": AS_KEY.jwk.export_public(as_dict=True)}, key=AS_KEY.jwk, alg="RS256"),
        DPOP_CONFIG,
    )
    yield (
        "alg-hs256",
        make({"alg": "HS256"}, key=jwk.JWK(kty="oct", k="c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"), alg="HS256"),
        DPOP_CONFIG,
    )
    yield "alg-none", make({"alg": "none"}).rsplit(".", 1)[0] + ".", DPOP_CONFIG
    yield "jwk-missing", make({"jwk": None}), DPOP_CONFIG
    yield "jwk-string", make({"jwk": "k"}), DPOP_CONFIG
    yield "jwk-other-key", make({"jwk": demo_key("rfc8037-ed25519").jwk.export_public(as_dict=True)}), DPOP_CONFIG
    yield "jwk-private", make({"jwk": DPOP_KEY.jwk.export(as_dict=True)}), DPOP_CONFIG
    yield "jwk-rsa-for-ed25519", make({"jwk": AS_KEY.jwk.export_public(as_dict=True)}), DPOP_CONFIG
    yield "jwk-short-x", make({"jwk": {**public, "x": public["x"][:20]}}), DPOP_CONFIG
    yield "sig-truncated", make()[:-8], DPOP_CONFIG
    yield "crit", make({"crit": ["exp"], "exp": 1}), DPOP_CONFIG
    yield "htm-post", make(htm="POST"), DPOP_CONFIG
    yield "htm-lower", make(htm="get"), DPOP_CONFIG
    yield "htu-query", make(htu=f"{API}/accounts?x=1#f"), DPOP_CONFIG
    yield "htu-case-port", make(htu="HTTPS://API.bank.example:443/accounts"), DPOP_CONFIG
    yield "htu-dots", make(htu=f"{API}/x/../accounts"), DPOP_CONFIG
    yield "htu-percent", make(htu=f"{API}/%61ccounts"), DPOP_CONFIG
    yield "htu-other-path", make(htu=f"{API}/payments"), DPOP_CONFIG
    yield "htu-other-host", make(htu="https://evil.example/accounts"), DPOP_CONFIG
    yield "htu-port", make(htu="https://api.bank.example:8443/accounts"), DPOP_CONFIG
    yield "htu-userinfo", make(htu="https://user@api.bank.example/accounts"), DPOP_CONFIG
    yield "htu-http", make(htu="http://api.bank.example/accounts"), DPOP_CONFIG
    yield "htu-relative", make(htu="/accounts"), DPOP_CONFIG
    yield "htu-number", make(htu=5), DPOP_CONFIG
    yield "iat-old", make(iat=now - 120), DPOP_CONFIG
    yield "iat-future", make(iat=now + 61), DPOP_CONFIG
    yield "iat-edge", make(iat=now - 60), DPOP_CONFIG
    yield "iat-string", make(iat=str(now)), DPOP_CONFIG
    yield "jti-missing", make(jti=None), DPOP_CONFIG
    yield "jti-long", make(jti="j" * 257), DPOP_CONFIG
    yield "jti-empty", make(jti=""), DPOP_CONFIG
    yield "space", make() + " ", DPOP_CONFIG
    yield "two-proofs", make() + "," + make(), DPOP_CONFIG
    yield "too-long", make(pad="p" * 9000), DPOP_CONFIG


def vector_jwks(key: dict[str, Any] | None, rsa_fallback: str) -> str:
    if key is None or key.get("kty") == "oct":
        return rsa_fallback  # DELIBERATE["secret keys"]
    return public_jwks((jwk.JWK(**key), None))


@pytest.fixture(scope="module")
def parity_setup():
    tmp = tempfile.TemporaryDirectory(prefix="joselab-workbench-")
    harness = Harness(Path(tmp.name))
    python = Python(harness, Path(tmp.name))
    reg = harness.registration
    directory_jwks = json.dumps(reg.network.get_json(reg.directory.jwks_uri))
    trusted = public_jwks(
        (AS_KEY.jwk, "RS256"), (CLIENT_KEY.jwk, "PS256"), *[(jwk.JWK(**k), None) for k in json.loads(directory_jwks)["keys"]]
    )
    as_jwks = public_jwks((AS_KEY.jwk, "RS256"))
    configs = {
        "jws": Config(jwks=trusted, algorithms=tuple(PLAIN_ALGORITHMS)),
        "access_token": Config(jwks=as_jwks, issuer=AS_ISSUER, audience=API),
        "id_token": Config(jwks=as_jwks, issuer=OP_ISSUER, client_id=CLIENT_ID, nonce=NONCE),
        "software_statement": Config(jwks=directory_jwks, issuer=reg.directory.issuer),
        "client_assertion": Config(jwks=public_jwks((CLIENT_KEY.jwk, "PS256")), issuer=AS_ISSUER, client_id=ASSERTING_CLIENT),
        "dpop": DPOP_CONFIG,
    }
    items: list[Item] = []
    skipped: Counter[str] = Counter()
    for case in build_corpus(harness):
        if not isinstance(case.token, str):
            skipped["not a string"] += 1
            continue
        items.append(Item(case.id, "corpus", case.token, configs))
    for name, base in harness.bases.items():
        items.append(Item(f"base/{name}", "base", base.token, configs))
    for cid, token in assertion_cases():
        items.append(Item(f"assertion/{cid}", "assertion", token, configs))
    for cid, token in cnf_cases():
        items.append(Item(f"cnf/{cid}", "bound access token", token, configs))
    for cid, token, dpop_config in dpop_cases():
        items.append(Item(f"dpop/{cid}", "dpop proof", token, {**configs, "dpop": dpop_config}))
    rfc_rsa = public_jwks(
        (jwk.JWK(**json.loads((REPO / "tests/vectors/rfc7515-appendix-a.json").read_text())["tests"][1]["jwk"]), None)
    )
    seen: set[str] = set()
    for vid, token, key, alg in vectors():
        if token in seen:
            continue  # the shared copy of a vector already read from tests/vectors
        seen.add(token)
        if key is None or key.get("kty") == "oct":
            skipped["secret keys"] += 1
        vector = Config(jwks=vector_jwks(key, rfc_rsa), algorithms=(alg,) if alg else tuple(PLAIN_ALGORITHMS))
        items.append(Item(f"vector/{vid}", "vector", token, {**configs, "jws": vector}))
    yield items, python, configs, skipped
    python.close()
    harness.close()
    tmp.cleanup()


#: Filled by the parity test, printed at the end of the run (conftest.pytest_terminal_summary).
COUNTS: dict[str, Counter[str]] = {}


def run_in_page(page, profile: str, items: list[Item], config: Callable[[Item], Config] | None = None) -> list[dict[str, Any]]:
    """Each item through the page's entry point, 100 to a call."""
    config = config or (lambda item: item.configs[profile])
    batch = [(as_js(i.token), config(i).options()) for i in items]
    out: list[dict[str, Any]] = []
    for start in range(0, len(batch), 100):
        out.extend(page.evaluate(RUN_JS, [profile, batch[start : start + 100]]))
    return out


def compare(
    python: Python, profile: str, items: list[Item], js: list[dict[str, Any]], counts: Counter[str], seen: set[str] | None = None
) -> list[str]:
    """What differs between the page's outcomes ``js`` and the Python validator's, case by case:
    the verdict, then the failing row's section, then any row (section, check, outcome)."""
    verdicts, sections, rows = [], [], []
    for item, got in zip(items, js, strict=True):
        want = py_outcome(python.run(profile, item.token, item.configs[profile]))
        if seen is not None:
            seen.update(row[0] for row in want["rows"])
        counts[item.source] += 1
        counts[want["verdict"]] += 1
        counts[f"{item.source} {want['verdict']}"] += 1
        if want["section"]:
            counts["section " + want["section"]] += 1
        where = f"{item.id} @ {profile}"
        if got["config"]:
            verdicts.append(f"{where}: the page refused its configuration: {got['config']}")
        elif got["verdict"] != want["verdict"]:
            verdicts.append(
                f"{where}: workbench {got['verdict']} at {got['section']}, Python {want['verdict']} at {want['section']}"
            )
        elif got["section"] != want["section"]:
            sections.append(f"{where}: workbench fails at {got['section']!r}, Python at {want['section']!r}")
        elif got["rows"] != want["rows"]:
            diff = next(i for i, (a, b) in enumerate(zip(got["rows"] + [None], want["rows"] + [None], strict=False)) if a != b)
            rows.append(
                f"{where}: row {diff + 1}: workbench {got['rows'][diff : diff + 1]}, Python {want['rows'][diff : diff + 1]}"
            )
    return verdicts + sections + rows


@pytest.mark.parametrize("profile", PROFILES)
def test_workbench_agrees_with_the_python_validator(workbench, parity_setup, profile):
    items, python, _, skipped = parity_setup
    counts: Counter[str] = Counter()
    seen: set[str] = set()
    problems = compare(python, profile, items, run_in_page(workbench, profile, items), counts, seen)
    counts["compared"] = len(items)
    counts["differ"] = len(problems)
    COUNTS[profile] = counts
    assert not problems, f"{len(problems)} of {len(items)} cases differ:\n" + "\n".join(problems[:40])
    # Both verdicts occur (the corpus's bases and the vectors are accepted by their own profiles),
    # and the rejections fall on many different rows, not on one early row.
    assert counts["accept"] and counts["reject"], counts
    assert len([k for k in counts if k.startswith("section ")]) >= 10, counts
    if profile == "jws":
        # The signed RFC vectors verify in the browser: RFC 7515 A.2-A.4, RFC 7520 4.1-4.3, RFC 8037 A.4.
        assert counts["vector accept"] == 7, counts
    # Every deliberate difference still applies to some case.
    assert skipped["not a string"] and skipped["secret keys"], skipped
    # Each row's section links to its text as the Python trace links it (joselab.sections.link_html).
    ordered = sorted(seen)
    links = workbench.evaluate("ss => ss.map((s) => JoselabWorkbench.linkHtml(s))", ordered)
    assert [(s, h) for s, h in zip(ordered, links, strict=True) if h != link_html(s)] == []
    assert all('class="jl-cite"' in h for h in links), [s for s, h in zip(ordered, links, strict=True) if "jl-cite" not in h]


def test_a_difference_is_caught(workbench, parity_setup):
    """The comparison itself can fail: the page told another issuer, or the Python side another
    nonce, disagrees on the bases, and ``compare`` says where."""
    items, python, configs, _ = parity_setup
    bases = [i for i in items if i.source == "base"]
    evil = Config(**{**configs["access_token"].__dict__, "issuer": "https://evil.example"})
    js = run_in_page(workbench, "access_token", bases, lambda _item: evil)
    problems = compare(python, "access_token", bases, js, Counter())
    assert problems == ["base/access_token @ access_token: workbench reject at RFC 9068 §4 (3), Python accept at None"]
    js = run_in_page(workbench, "id_token", bases)
    wrong = [
        Item(i.id, i.source, i.token, {**i.configs, "id_token": Config(**{**configs["id_token"].__dict__, "nonce": "other"})})
        for i in bases
    ]
    problems = compare(python, "id_token", wrong, js, Counter())
    assert problems == ["base/id_token @ id_token: workbench accept at None, Python reject at OIDC Core §3.1.3.7 (11)"]


def test_defaults_match_the_validators(workbench):
    profiles = workbench.evaluate(
        "Object.fromEntries(Object.entries(JoselabWorkbench.PROFILES).map(([k, v]) => [k, v.algorithms]))"
    )
    assert set(profiles) == set(PROFILES)
    assert profiles["jws"] == PLAIN_ALGORITHMS
    assert (
        tuple(profiles["access_token"])
        == AccessTokenValidator(issuer="i", audience="a", keys=load_jwks('{"keys": []}')).algorithms
    )
    assert tuple(profiles["software_statement"]) == SSA_ALGORITHMS
    assert tuple(profiles["client_assertion"]) == ASYMMETRIC_ALGORITHMS
    assert tuple(profiles["dpop"]) == DPoPProofValidator().algorithms
    db = tempfile.NamedTemporaryFile(suffix=".sqlite")
    v = IdTokenValidator(issuer="i", client_id="c", keys=load_jwks('{"keys":[]}'), nonce_store=ReplayStore(Database(db.name)))
    assert tuple(profiles["id_token"]) == v.algorithms == (v.registered_alg,)


# -- through the real inputs --------------------------------------------------------------------
def run_example(page, profile: str) -> None:
    """Choose ``profile``, load its example with the page's button and run it, as a reader does."""
    page.select_option("#profile", profile)
    page.click("#example")
    page.eval_on_selector("#verdict", "el => { el.dataset.verdict = ''; }")
    page.click("#run")
    page.wait_for_function("document.getElementById('verdict').dataset.verdict !== ''")


def fill(page, profile: str, token: str, c: Config) -> None:
    page.select_option("#profile", profile)
    page.fill("#token", token)
    for selector, value in (
        ("#jwks", c.jwks),
        ("#issuer", c.issuer),
        ("#audience", c.audience),
        ("#client-id", c.client_id),
        ("#nonce", c.nonce),
        ("#now", str(c.now)),
        ("#algorithms", ", ".join(c.algorithms)),
        ("#htm", c.htm),
        ("#htu", c.htu),
        ("#access-token", c.access_token),
        ("#jkt", c.jkt),
    ):
        page.eval_on_selector(selector, "(el, v) => { el.value = v; }", value)  # hidden fields too
    page.eval_on_selector("#verdict", "el => { el.dataset.verdict = ''; }")
    page.click("#run")
    page.wait_for_function("document.getElementById('verdict').dataset.verdict !== ''")


def shown(page) -> tuple[str, str | None, list[tuple[str, str]]]:
    rows = page.locator("#wb-rows tbody tr[data-section][data-outcome]")
    pairs = [(rows.nth(i).get_attribute("data-section"), rows.nth(i).get_attribute("data-outcome")) for i in range(rows.count())]
    first_fail = pairs[0][0] if pairs and pairs[0][1] == "fail" else None
    return page.inner_text("#verdict"), first_fail, pairs


INPUT_CASES = [
    ("base/access_token", "access_token"),
    ("base/id_token", "id_token"),
    ("base/software_statement", "software_statement"),
    ("base/registration_request", "jws"),
    ("access_token/alg-none", "access_token"),
    ("base/access_token", "id_token"),
    ("structural/header-padded", "software_statement"),
    ("assertion/valid", "client_assertion"),
    ("assertion/aud-injected", "client_assertion"),
    ("dpop/rfc9449-figure13", "dpop"),
    ("dpop/htu-other-path", "dpop"),
]


def test_the_form_shows_the_python_trace(browser, site_url, parity_setup):
    items, python, _, _ = parity_setup
    by_id = {i.id: i for i in items}
    page, errors, _ = open_workbench(browser, f"{site_url}/{PAGE}")
    tried = 0
    for case_id, profile in INPUT_CASES:
        item = by_id.get(case_id) or next(i for i in items if i.id.startswith(case_id.rsplit("/", 1)[0]))
        c = item.configs[profile]
        fill(page, profile, item.token, c)
        want = py_outcome(python.run(profile, item.token, c))
        verdict, first_fail, pairs = shown(page)
        assert verdict == want["verdict"], (case_id, profile)
        assert first_fail == want["section"], (case_id, profile)
        # The failing row first, then every passed row in the validator's order.
        order = [tuple(r[::2]) for r in want["rows"]]
        expect = order[-1:] + order[:-1] if want["section"] else order
        assert pairs == expect, (case_id, profile)
        tried += 1
    # Decoding: three coloured parts, header and payload labelled UNVERIFIED, the signing input.
    assert page.locator("#wb-parts .jl-wb-part").count() == 3
    assert page.locator(".jl-wb-unverified").all_inner_texts() == ["UNVERIFIED", "UNVERIFIED"]
    head, payload, _ = item.token.split(".")
    assert page.inner_text("#wb-signing-input") == f"{head}.{payload}"
    assert tried == len(INPUT_CASES) and errors == []
    page.close()


# -- privacy, file://, links --------------------------------------------------------------------
def _storage(page) -> dict[str, Any]:
    return page.evaluate("() => ({local: {...localStorage}, session: {...sessionStorage}, cookie: document.cookie})") | {
        "cookies": page.context.cookies()
    }


def test_nothing_leaves_the_page_and_nothing_is_stored(browser, site_url, parity_setup):
    items, _, configs, _ = parity_setup
    context = browser.new_context()
    page = context.new_page()
    requests: list[str] = []

    # Interception, not just observation: every request is seen (and, from the page's own server
    # only, allowed); anything else is aborted and counted.
    def route(r) -> None:
        requests.append(r.request.url)
        if r.request.url.startswith(site_url + "/"):
            r.continue_()
        else:
            r.abort()

    page.route("**/*", route)
    page.goto(f"{site_url}/{PAGE}", wait_until="load")
    page.wait_for_selector("html[data-workbench=ready]")
    page.wait_for_load_state("networkidle")
    loaded = list(requests)
    assert loaded and all(u.startswith(site_url + "/") for u in loaded), [u for u in loaded if not u.startswith(site_url)]
    before = _storage(page)
    for profile in PROFILES:
        run_example(page, profile)
        assert page.inner_text("#verdict") == "accept", profile
    for item in items[:40]:  # hostile input through the form too
        fill(page, "access_token", item.token, configs["access_token"])
    page.wait_for_timeout(200)
    assert requests == loaded, f"requests after the page loaded: {requests[len(loaded) :]}"
    after = _storage(page)
    assert after == before, (before, after)
    assert not after["cookies"] and not after["session"]
    # The theme keeps the reader's light/dark choice (the site's, not the workbench's): nothing else.
    assert set(after["local"]) <= {"mode", "theme"}, after["local"]
    context.close()


def test_the_workbench_scripts_have_no_way_out():
    """Belt and braces beside the interception: joselab's two scripts name no network or storage API
    (jose's bundle has fetch for remote key sets, which the workbench never calls)."""
    for name in ("joselab-workbench.js", "joselab-workbench-ui.js"):
        source = (REPO / "assets" / name).read_text("utf-8")
        code = re.sub(r"/\*.*?\*/|//[^\n]*", "", source, flags=re.S)
        for api in (
            "fetch(",
            "XMLHttpRequest",
            "WebSocket",
            "sendBeacon",
            "localStorage",
            "sessionStorage",
            "indexedDB",
            "document.cookie",
            "EventSource",
            "import(",
        ):
            assert api not in code, (name, api)


def test_the_workbench_works_from_file(browser):
    page, errors, requests = open_workbench(browser, (SITE / PAGE).as_uri())
    for profile in PROFILES:
        run_example(page, profile)
        assert page.inner_text("#verdict") == "accept", (profile, page.inner_text("#wb-message"))
        assert page.locator("tr[data-outcome=pass]").count() > 5
    assert {urlsplit(u).scheme for u in requests} == {"file"}
    assert errors == []
    page.close()


def test_every_chapter_and_the_intro_link_to_the_workbench():
    chapters = sorted((SITE / "notebooks").glob("*.html"))
    assert chapters
    for path in [*chapters, SITE / "book" / "intro.html"]:
        text = path.read_text("utf-8")
        assert re.search(r'href="(\.\./)?workbench\.html"', text), path.name


def test_the_part_colours_are_the_theme_palette():
    css = (REPO / "_static" / "joselab-workbench.css").read_text("utf-8")
    for kind in ("header", "key", "iv", "body", "tag", "muted"):
        light, dark = theme.PALETTE[kind]
        assert f".jl-wb .jl-c-{kind} {{ color: {light}; }}" in css, kind
        assert f'html[data-theme="dark"] .jl-wb .jl-c-{kind} {{ color: {dark}; }}' in css, kind
