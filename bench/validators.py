"""Each scenario's validator against plain libraries verifying the same token, in one process.

For every scenario the same token goes to:

* **joselab**: the scenario's validator, full trace (every row built, evidence formatted);
* **jwcrypto**: plain verification, ``jwt.JWT(jwt=..., key=..., algs=[...])`` (which also checks
  ``exp``/``nbf`` when present), or ``jws.JWS`` deserialize + verify for a detached signature;
* **PyJWT**: ``jwt.decode`` with the issuer, audience and required claims the validator checks;
* **joserfc**: ``joserfc.jwt.decode`` + ``JWTClaimsRegistry.validate`` with the same expectations.

Each library's key (set) is built once, outside the timed loop, as a server would keep it. The
libraries run interleaved, in a rotating order, one call each per round, so that drift (frequency
scaling, another process) lands on all of them alike; the figure is the median per call.

Tokens are issued at the real current time (``FixedClock(int(time.time()))``) so that the other
libraries, which read the system clock, accept them; joselab's validators get the same fixed clock.
"""

from __future__ import annotations

import gc
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Call = Callable[[int], object]


@dataclass
class Case:
    """One scenario: a function per library taking the round number (some cases use a fresh token a
    round), and why a library is left out where it is."""

    name: str
    token: str  # what the token is, for the table
    calls: dict[str, Call]
    skipped: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    close: Callable[[], None] = lambda: None
    alg: str = ""
    compare_with: str = ""  # the case with the same checks and its replay store in memory, if any
    repeatable: bool = True  # a call may be made again with the same round (no one-time value)


def _check(name: str, fn: Call, rounds: int) -> Any:
    """Every library must accept the token before it is timed (a benchmark of a rejection would
    measure the wrong thing). Cases are built with two spare rounds, used here, so that a case with
    a one-time value (a nonce) times first uses only."""
    for i in (rounds, rounds + 1):
        result = fn(i)
        ok = getattr(result, "ok", True)
        if not ok:
            raise RuntimeError(f"{name}: the benchmark token was rejected: {result}")
    return result


def measure(case: Case, rounds: int) -> dict[str, Any]:
    """Median seconds per call for each library, interleaved over ``rounds`` rounds, as ratios to the
    raw signature check; then each call's peak memory (tracemalloc), outside the timed loop."""
    names = list(case.calls)
    rows = 0
    for name in names:
        if name != "raw":
            accepted = _check(f"{case.name} / {name}", case.calls[name], rounds)
            if name == "joselab":
                rows = len(accepted)  # the rows of the trace of an accepted token
    samples: dict[str, list[float]] = {name: [] for name in names}
    clock = time.perf_counter
    gc.collect()
    for i in range(rounds):
        shift = i % len(names)
        for name in names[shift:] + names[:shift]:
            fn = case.calls[name]
            start = clock()
            fn(i)
            samples[name].append(clock() - start)
    medians = {name: statistics.median(values) for name, values in samples.items()}
    alone = _alone(case, rounds) if case.repeatable else None
    floor = medians["raw"]
    return {
        "token": case.token,
        "alg": case.alg,
        "rounds": rounds,
        "median_s": medians,
        "ratio_to_raw": {name: value / floor for name, value in medians.items()},
        "ratio_to_jwcrypto": {name: value / medians["jwcrypto"] for name, value in medians.items()},
        "rows": rows,
        "alone_s": alone,
        "compare_with": case.compare_with,
        "peak_bytes": peak_memory(case, rounds),
        "skipped": case.skipped,
        "notes": case.notes,
    }


def _alone(case: Case, rounds: int) -> dict[str, float]:
    """The raw check and joselab each on its own, ``rounds`` calls in a row: what a loop that does
    nothing else measures, with the code and data of one call still in the processor's caches for
    the next. Only for a case whose calls can repeat (no one-time value)."""
    clock = time.perf_counter
    found: dict[str, float] = {}
    for name in ("raw", "joselab"):
        fn = case.calls[name]
        samples = []
        for i in range(rounds):
            start = clock()
            fn(i)
            samples.append(clock() - start)
        found[name] = statistics.median(samples)
    return found


def peak_memory(case: Case, rounds: int, calls: int = 5) -> dict[str, int]:
    """The most memory one call has allocated at once (tracemalloc's peak, the largest of ``calls``
    calls), per library; the trace a validator returns is part of what it allocates."""
    peaks: dict[str, int] = {}
    tracemalloc.start()
    try:
        for name, fn in case.calls.items():
            worst = 0
            for i in range(calls):
                gc.collect()
                tracemalloc.reset_peak()
                base = tracemalloc.get_traced_memory()[0]
                result = fn(i % rounds)
                worst = max(worst, tracemalloc.get_traced_memory()[1] - base)
                del result
            peaks[name] = worst
    finally:
        tracemalloc.stop()
    return peaks


def raw_check(token: str, public_jwk: dict[str, Any], alg: str, detached: bytes | None = None) -> Call:
    """The floor: ``cryptography``'s own verification of this token's signature with this key, the
    key object built and the signing input split off beforehand, as the fastest verifier would."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
    from jwcrypto import jwk

    from joselab.compact import b64url_decode, b64url_encode

    head, payload, sig_b64 = token.split(".")
    if detached is not None:
        payload = b64url_encode(detached)
    data = f"{head}.{payload}".encode("ascii")
    signature = b64url_decode(sig_b64)
    key = jwk.JWK(**public_jwk).get_op_key("verify", public_jwk.get("crv"))
    digest = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}.get(alg[2:])
    if alg.startswith("RS"):
        pad, h = padding.PKCS1v15(), digest()
        return lambda i: key.verify(signature, data, pad, h)
    if alg.startswith("PS"):
        pad, h = padding.PSS(padding.MGF1(digest()), digest.digest_size), digest()
        return lambda i: key.verify(signature, data, pad, h)
    if alg.startswith("ES"):
        half = len(signature) // 2
        der = encode_dss_signature(int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big"))
        scheme = ec.ECDSA(digest())
        return lambda i: key.verify(der, data, scheme)
    return lambda i: key.verify(signature, data)


# ------------------------------------------------------------------------------------------------
# The scenarios
# ------------------------------------------------------------------------------------------------
def _pyjwt_key(public_jwk: dict[str, Any]):
    import jwt

    if public_jwk.get("kty") == "OKP":  # PyJWT knows the curve's algorithm as EdDSA only
        return jwt.PyJWK({k: v for k, v in public_jwk.items() if k != "alg"}, algorithm="EdDSA").key
    return jwt.PyJWK(public_jwk).key


def _pyjwt_decoder(alg: str):
    """PyJWT's decode, taught the RFC 9864 name ``Ed25519`` (its own name for that computation is EdDSA)."""
    import jwt

    api = jwt.PyJWT()
    if alg in ("Ed25519", "Ed448"):
        api._jws.register_algorithm(alg, jwt.algorithms.OKPAlgorithm())
    return api.decode


def access_token_case(workdir: Path, rounds: int, alg: str = "RS256") -> Case:
    """Scenario 2: RFC 9068 access token signed with ``alg`` (RS256 with the AS's default published key,
    otherwise a fresh key), validator with a JWK Set (no HTTP in the loop)."""
    from joserfc import jwt as rfc_jwt
    from joserfc.jwk import KeySet
    from jwcrypto import jwt as jw_jwt

    from joselab import FixedClock, RandomIds, load_jwks
    from joselab.access_token import API_HOST, AccessTokenValidator, AuthorizationServer
    from joselab.keys import generate_key
    from joselab.parties import Network

    clock = FixedClock(int(time.time()))
    network = Network()  # the AS is never started: only its issuing and its JWK Set are used
    key = None if alg == "RS256" else generate_key(alg, kid=f"as-{alg.lower()}")
    auth = AuthorizationServer(network, clock=clock, ids=RandomIds(), db_path=workdir / "as.sqlite", key=key, alg=alg)
    audience = f"https://{API_HOST}"
    token = auth.issue_access_token(sub="alice", client_id="tpp-1", audience=audience, scope="accounts")
    jwks = auth.jwks()
    algorithms = ("RS256", "PS256") if alg in ("RS256", "PS256") else (alg,)
    validator = AccessTokenValidator(
        issuer=auth.issuer, audience=audience, keys=load_jwks(jwks), clock=clock, algorithms=algorithms
    )
    jw_keys = load_jwks(jwks)
    jw_key = next(iter(jw_keys["keys"]))
    public = jwks["keys"][0]
    py_key = _pyjwt_key(public)
    rfc_keys = KeySet.import_key_set(jwks)
    required = ["iss", "exp", "aud", "sub", "client_id", "iat", "jti"]
    registry = rfc_jwt.JWTClaimsRegistry(
        now=None,
        leeway=60,
        iss={"essential": True, "value": auth.issuer},
        aud={"essential": True, "value": audience},
        sub={"essential": True},
        client_id={"essential": True},
        jti={"essential": True},
        iat={"essential": True},
        exp={"essential": True},
    )

    def joselab_(i: int):
        return validator.validate(token, required_scope="accounts")

    def jwcrypto_(i: int):
        return jw_jwt.JWT(jwt=token, key=jw_key, algs=[alg])

    def jwcrypto_keyset(i: int):
        return jw_jwt.JWT(jwt=token, key=jw_keys, algs=[alg])

    decode = _pyjwt_decoder(alg)

    def pyjwt_(i: int):
        return decode(
            token, py_key, algorithms=[alg], audience=audience, issuer=auth.issuer, leeway=60, options={"require": required}
        )

    def joserfc_(i: int):
        decoded = rfc_jwt.decode(token, rfc_keys, algorithms=[alg])
        registry.validate(decoded.claims)
        return decoded

    return Case(
        f"access token (scenario 2), {alg}",
        f"{alg}, typ at+jwt, 8 claims",
        {
            "raw": raw_check(token, public, alg),
            "joselab": joselab_,
            "jwcrypto": jwcrypto_,
            "PyJWT": pyjwt_,
            "joserfc": joserfc_,
            "jwcrypto (JWK Set)": jwcrypto_keyset,
        },
        notes=[
            "the jwcrypto baseline is given the one key (the cheapest call); with the JWK Set, as joselab is, see its own column",
            "PyJWT and joserfc check iss, aud, exp, iat and required claims; neither checks typ or scope",
        ],
        close=auth.db.close,
        alg=alg,
    )


def software_statement_case(workdir: Path, rounds: int, alg: str = "ES256") -> Case:
    """Scenario 1: the directory's software statement, in ES256 (the demo directory's published key)
    or PS256 (a fresh key), the two algorithms the Open Banking directory signs with. The validator
    fetches the directory's JWK Set on every validation; here the fetch is answered from memory (the
    document the directory serves), so the figure is validation work, not loopback HTTP."""
    from joserfc import jwt as rfc_jwt
    from joserfc.jwk import KeySet
    from jwcrypto import jwt as jw_jwt

    from joselab import FixedClock, RandomIds, load_jwks, public_jwks
    from joselab.keys import generate_key
    from joselab.parties import Network
    from joselab.registration import DEMO_SOFTWARE, Client, Directory, SoftwareStatementValidator

    clock = FixedClock(int(time.time()))
    ids = RandomIds()
    key = None if alg == "ES256" else generate_key(alg, kid=f"directory-{alg.lower()}")
    directory = Directory(Network(), clock=clock, ids=ids, key=key, alg=alg)
    client = Client(DEMO_SOFTWARE, clock=clock, ids=ids)
    directory.enroll(DEMO_SOFTWARE, client.key, alg=client.alg)
    ssa = directory.issue_ssa(DEMO_SOFTWARE)
    document = public_jwks(directory.key)

    class InMemoryDirectory:
        """Answers the validator's JWK Set fetch with the directory's published document."""

        def get_json(self, url: str) -> Any:
            assert url == directory.jwks_uri
            return document

    validator = SoftwareStatementValidator([directory.trusted()], InMemoryDirectory(), clock=clock)  # type: ignore[arg-type]
    jw_keys = load_jwks(document)
    py_key = _pyjwt_key(document["keys"][0])
    py_decode = _pyjwt_decoder(alg)
    rfc_keys = KeySet.import_key_set(document)
    registry = rfc_jwt.JWTClaimsRegistry(
        now=None, leeway=30, iss={"essential": True, "value": directory.issuer}, iat={"essential": True}, jti={"essential": True}
    )

    def joselab_(i: int):
        return validator.validate(ssa)

    def jwcrypto_(i: int):
        return jw_jwt.JWT(jwt=ssa, key=jw_keys, algs=[alg])

    def pyjwt_(i: int):
        return py_decode(ssa, py_key, algorithms=[alg], issuer=directory.issuer, options={"require": ["iss", "iat", "jti"]})

    def joserfc_(i: int):
        decoded = rfc_jwt.decode(ssa, rfc_keys, algorithms=[alg])
        registry.validate(decoded.claims)
        return decoded

    return Case(
        f"software statement (scenario 1), {alg}",
        f"{alg}, typ JWT, OB SSA claims",
        {
            "raw": raw_check(ssa, document["keys"][0], alg),
            "joselab": joselab_,
            "jwcrypto": jwcrypto_,
            "PyJWT": pyjwt_,
            "joserfc": joserfc_,
        },
        notes=[
            "joselab loads the directory's JWK Set on every validation (here from memory, no HTTP): "
            "load_jwks builds and checks the keys each time",
            "PyJWT and joserfc check iss and the presence of iat and jti; not the OB SSA claims",
        ],
        alg=alg,
    )


class MemoryReplayStore:
    """A replay store in this process's memory (a dict), with :class:`joselab.parties.ReplayStore`'s
    ``first_use`` for one-use values: step 11 still refuses a nonce seen before, but nothing is
    written to a file. Bench only: it compares joselab's checks with libraries that keep no store."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def first_use(self, value: str, expires_at: int, now: int, *, owner: str = "", max_uses: int = 1) -> bool:
        if self._seen.get(value, now - 1) >= now:
            return False
        self._seen[value] = int(expires_at)
        return True


def id_token_case(workdir: Path, rounds: int, store: str = "sqlite", alg: str = "RS256") -> Case:
    """Scenario 3: the ID token (RS256) at the client. Step 11 records each nonce (replay): in the
    client's sqlite file (``store="sqlite"``, as the book's client does), or in memory
    (``store="memory"``: the same checks without the write, like with like against libraries that
    keep no store). Every round gets its own token with its own nonce; all libraries verify that
    same token."""
    from joserfc import jwt as rfc_jwt
    from joserfc.jwk import KeySet
    from jwcrypto import jwt as jw_jwt

    from joselab import FixedClock, RandomIds, load_jwks, public_jwks
    from joselab.id_token import ClientRegistration, IdTokenValidator, OpenIDProvider
    from joselab.keys import generate_key
    from joselab.parties import Database, Network, ReplayStore

    clock = FixedClock(int(time.time()))
    signing_keys = {a: generate_key(a) for a in ("RS256", "PS256", "ES256", "Ed25519")}
    op = OpenIDProvider(Network(), clock=clock, store_dir=workdir, ids=RandomIds(), signing_keys=signing_keys)
    client_id = "client.example"
    op.register(ClientRegistration(client_id, ("https://client.example/cb",), id_token_signed_response_alg=alg))
    ids = RandomIds()
    nonces = [ids.token(16) for _ in range(rounds)]
    tokens = [op.issue_id_token(client_id, nonce=n, alg=alg) for n in nonces]
    document = public_jwks(op.signing_keys[alg])
    db = Database(workdir / "nonces.sqlite")
    nonce_store = ReplayStore(db, "seen_nonce") if store == "sqlite" else MemoryReplayStore()
    validator = IdTokenValidator(
        issuer=op.issuer,
        client_id=client_id,
        keys=load_jwks(document),
        clock=clock,
        nonce_store=nonce_store,  # type: ignore[arg-type]
        id_token_signed_response_alg=alg,
    )
    jw_keys = load_jwks(document)
    py_key = _pyjwt_key(document["keys"][0])
    py_decode = _pyjwt_decoder(alg)
    rfc_keys = KeySet.import_key_set(document)
    base = {"iss": {"essential": True, "value": op.issuer}, "aud": {"essential": True, "value": client_id}}

    def joselab_(i: int):
        return validator.validate(tokens[i], nonce=nonces[i])

    def jwcrypto_(i: int):
        return jw_jwt.JWT(jwt=tokens[i], key=jw_keys, algs=[alg])

    def pyjwt_(i: int):
        claims = py_decode(
            tokens[i],
            py_key,
            algorithms=[alg],
            audience=client_id,
            issuer=op.issuer,
            options={"require": ["iss", "sub", "aud", "exp", "iat"]},
        )
        if claims.get("nonce") != nonces[i]:
            raise ValueError("nonce")
        return claims

    def joserfc_(i: int):
        decoded = rfc_jwt.decode(tokens[i], rfc_keys, algorithms=[alg])
        rfc_jwt.JWTClaimsRegistry(leeway=60, nonce={"essential": True, "value": nonces[i]}, **base).validate(decoded.claims)
        return decoded

    def close() -> None:
        db.close()
        op.db.close()

    calls: dict[str, Call] = {
        "raw": _raw_each(tokens, document["keys"][0], alg),
        "joselab": joselab_,
        "jwcrypto": jwcrypto_,
        "PyJWT": pyjwt_,
        "joserfc": joserfc_,
    }
    if store == "sqlite":
        # The write alone, in the same rounds: the same statement into a table of its own in the same file.
        writes = ReplayStore(db, "bench_write")
        now = clock.now()
        calls["sqlite write"] = lambda i: writes.first_use(f"{client_id} {nonces[i]}", now + 600, now)

    where = "nonce written to sqlite" if store == "sqlite" else "nonce kept in memory"
    return Case(
        f"ID token (scenario 3), {alg}, {where}",
        f"{alg}, Core §2 claims, fresh nonce each round",
        calls,
        notes=[
            "joselab's step 11 writes each nonce to a sqlite replay store (a real file)"
            if store == "sqlite"
            else "joselab's step 11 checks and records each nonce in a dict (no file): the libraries keep no store",
            "PyJWT and joserfc are given iss, aud and the nonce to compare; no replay store, azp, acr or auth_time checks",
        ],
        close=close,
        alg=alg,
        compare_with=f"ID token (scenario 3), {alg}, nonce kept in memory" if store == "sqlite" else "",
        repeatable=False,  # each round's nonce is used once
    )


def id_token_memory_case(workdir: Path, rounds: int, alg: str = "RS256") -> Case:
    return id_token_case(workdir, rounds, store="memory", alg=alg)


def _by_alg(make: Callable[..., Case], alg: str) -> Callable[[Path, int], Case]:
    def made(workdir: Path, rounds: int) -> Case:
        return make(workdir, rounds, alg=alg)

    made.__name__ = f"{make.__name__}_{alg}"
    return made


def _raw_each(tokens: list[str], public_jwk: dict[str, Any], alg: str) -> Call:
    """The floor for a case with a token a round: each round checks its own token's signature."""
    checks = [raw_check(t, public_jwk, alg) for t in tokens]
    return lambda i: checks[i](i)


def message_signature_case(workdir: Path, rounds: int) -> Case:
    """Scenario 4: OB ``x-jws-signature`` (≥3.1.4 profile): detached PS256 over the body bytes, with
    the OB protected claims in ``crit``; the verifier's keys given directly (no keystore fetch)."""
    from jwcrypto import jws as jw_jws
    from jwcrypto.common import JWSEHeaderParameter

    from joselab import FixedClock, load_jwks, public_jwks
    from joselab.keys import demo_key
    from joselab.message import DEMO_ANCHOR, DEMO_TPP, OB_IAT, OB_ISS, OB_TAN, OBSigner, OBVerifier

    clock = FixedClock(int(time.time()))
    bilbo = demo_key("rfc7520-bilbo-rsa")
    body = b'{"Data":{"Initiation":{"InstructionIdentification":"ACME412","EndToEndIdentification":"FRESCO.21302.GFX.20"}}}'
    signature = OBSigner(bilbo, DEMO_TPP, DEMO_ANCHOR, clock).sign(body)
    document = public_jwks(bilbo)
    verifier = OBVerifier(DEMO_TPP, [DEMO_ANCHOR], clock, keys=load_jwks(document))
    jw_key = load_jwks(document)
    registry = {name: JWSEHeaderParameter("OB message signing", True, True, None) for name in (OB_IAT, OB_ISS, OB_TAN)}

    def joselab_(i: int):
        return verifier.verify(signature, body)

    def jwcrypto_(i: int):
        jws = jw_jws.JWS(header_registry=registry)
        jws.deserialize(signature)
        jws.verify(jw_key, alg="PS256", detached_payload=body)
        return jws

    return Case(
        "OB message signature (scenario 4), PS256",
        "detached PS256, x-jws-signature ≥3.1.4",
        {"raw": raw_check(signature, document["keys"][0], "PS256", detached=body), "joselab": joselab_, "jwcrypto": jwcrypto_},
        skipped={
            "PyJWT": "takes detached content only with b64: false, and refuses crit names it does not know",
            "joserfc": "not compared: its detached compact API and OB crit registry differ enough to measure set-up, not work",
        },
        alg="PS256",
    )


#: The four algorithms of the issue: RS256, PS256, ES256 and Ed25519.
ALGORITHMS = ("RS256", "PS256", "ES256", "Ed25519")

#: Every scenario validator in each algorithm its profile allows, of those four: the software
#: statement in ES256 and PS256 (the Open Banking directory's two, SSA_ALGORITHMS); the access token
#: and the ID token (whose issuers take any key) in all four, the ID token with its nonce kept in
#: memory, and once more in RS256 with the book's sqlite replay store; the OB message signature in
#: PS256, the one algorithm its profile allows (OB_ALGORITHMS).
CASES = (
    *(_by_alg(software_statement_case, alg) for alg in ("ES256", "PS256")),
    *(_by_alg(access_token_case, alg) for alg in ALGORITHMS),
    _by_alg(id_token_case, "RS256"),
    *(_by_alg(id_token_memory_case, alg) for alg in ALGORITHMS),
    message_signature_case,
)


def run_all(rounds: int, log: Callable[[str], None] = print) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="joselab-bench-validators-") as tmp:
        for make in CASES:
            workdir = Path(tmp) / make.__name__
            workdir.mkdir()
            try:
                case = make(workdir, rounds + 2)
            except Exception as exc:  # a scenario's API changed under the bench: report, measure the rest
                results[make.__name__] = {"error": f"{type(exc).__name__}: {exc}"}
                log(f"  {make.__name__}: could not be set up: {type(exc).__name__}: {exc}")
                continue
            try:
                log(f"  {case.name}: {rounds} rounds")
                results[case.name] = measure(case, rounds)
            except Exception as exc:
                results[case.name] = {"error": f"{type(exc).__name__}: {exc}"}
                log(f"  {case.name}: failed: {type(exc).__name__}: {exc}")
            finally:
                case.close()
    return results


# ------------------------------------------------------------------------------------------------
# Scenario 2: local validation against RFC 7662 introspection over loopback HTTP
# ------------------------------------------------------------------------------------------------
def local_vs_introspection(rounds: int) -> dict[str, Any]:
    """The same fresh token, ``rounds`` times each, in alternating blocks: the API's local validation
    (its JwksCache holding the AS's keys after one fetch) and an RFC 7662 introspection request to
    the AS over loopback HTTP, as scenario 2's notebook does (the parties of
    :func:`joselab.access_token.build_demo`)."""
    from joselab import FixedClock, RandomIds
    from joselab.access_token import build_demo

    with tempfile.TemporaryDirectory(prefix="joselab-bench-introspection-") as tmp:
        clock = FixedClock(int(time.time()))
        demo = build_demo(tmp, clock=clock, ids=RandomIds())
        try:
            auth = demo.authorization_server
            token = auth.issue_access_token(sub="alice", client_id="tpp-1", audience=demo.api.audience, scope="accounts")
            if not demo.validator.validate(token).ok or not demo.introspection.introspect(token)["active"]:
                raise RuntimeError("the probe token was not accepted both ways")
            local: list[float] = []
            remote: list[float] = []
            clock_ = time.perf_counter
            # Alternating blocks rather than alternating calls: right after an HTTP exchange the
            # server's thread is still finishing (closing the connection), and it would take the GIL
            # from the next local validation. The pause lets it finish; it is not timed.
            block = max(1, rounds // 10)
            for _ in range(0, rounds, block):
                time.sleep(0.02)
                for _ in range(block):
                    start = clock_()
                    demo.validator.validate(token)
                    local.append(clock_() - start)
                for _ in range(block):
                    start = clock_()
                    demo.introspection.introspect(token)
                    remote.append(clock_() - start)
        finally:
            demo.close()
    lm, rm = statistics.median(local), statistics.median(remote)
    return {"rounds": rounds, "local_s": lm, "introspection_s": rm, "ratio": rm / lm}
