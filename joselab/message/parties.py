"""The parties of scenario 4 over real HTTP on 127.0.0.1: a trust anchor's keystore, the bank's API, a
client (TPP), and a gateway that re-serialises JSON (the classic way to break a detached signature).

* :class:`Keystore` (``keystore.directory.example``) serves each participant's public JWK Set.
* :class:`BankAPI` (``api.bank.example``) verifies ``x-jws-signature`` on every request: a missing or
  invalid signature is a 400 with a JSON error naming the failed check and its section. It parses
  the *verified bytes* strictly (duplicate member names refused), and signs every response body.
  ``/encrypted-payment-consents`` takes a JWE body signed as sent (OB's JWE-inside-JWS) and answers
  with a JWE to the client, signed the same way.
* :class:`OBClient` signs the exact bytes it sends and verifies the signature on every response.
* :class:`JsonGateway` forwards requests; with ``reserialise=True`` it parses and re-dumps JSON bodies
  as many frameworks do, which is enough to break every signature.
* RFC 9421 next to ``x-jws-signature`` (:mod:`joselab.message.httpsig`): given an ``httpsig``
  verifier, :class:`BankAPI` also answers at :data:`SIGNED_CONSENTS_PATH` and
  :data:`SIGNED_PAYMENTS_PATH`, verifying HTTP message signatures (401 naming the check, as FAPI 2.0
  Http Signatures asks); :class:`HttpSigClient` signs its requests that way; :class:`RewritingHop`
  is a hop in the middle that changes a request's method, path, a header or the body, to show what
  each scheme covers. The bank also takes ``x-jws-signature`` at :data:`PAYMENTS_PATH`, and answers
  ``PUT`` like ``POST`` on these paths (as a catch-all route might): a signature that does not cover
  the method or the path cannot tell the bank which one the client meant.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from jwcrypto import jwk

from .. import cast
from ..clock import Clock, IdSource
from ..compact import parse_json_object
from ..errors import JoselabError, MalformedToken, ValidationError
from ..keys import DemoKey, as_jwk
from ..parties.http import HttpResponse, LocalServer, Network, Request, Response, json_response
from ..trace import Trace
from .httpsig import HttpSigSigner, HttpSigVerifier, content_digest
from .nesting import decrypt_body, encrypt_body
from .ob import HEADER, OB_V314, KeystoreKeys, OBParticipant, OBProfile, OBSigner, OBVerifier, TrustAnchor, ob_error_code

CONSENTS_PATH = "/open-banking/v3.1/pisp/domestic-payment-consents"
ENCRYPTED_PATH = "/open-banking/v3.1/pisp/encrypted-payment-consents"
#: A second Open Banking endpoint that takes the same x-jws-signature (the payment itself).
PAYMENTS_PATH = "/open-banking/v3.1/pisp/domestic-payments"
#: The bank's endpoints for requests signed with RFC 9421 HTTP message signatures.
SIGNED_CONSENTS_PATH = "/payments/v1/payment-consents"
SIGNED_PAYMENTS_PATH = "/payments/v1/payments"
_JSON = "application/json"
_JOSE = "application/jose"
#: OB's code for a body that is not what the endpoint accepts (not JSON, duplicate names, undecryptable).
_INVALID_FORMAT = "UK.OBIE.Resource.InvalidFormat"


def _public_jwk(key: jwk.JWK | DemoKey, use: str) -> dict[str, Any]:
    k = as_jwk(key)
    return {**k.export_public(as_dict=True), "use": use}


class Keystore:
    """A trust anchor's keystore: ``GET /{org-id}/{software-id}.jwks`` returns a participant's keys."""

    def __init__(self, network: Network, host: str = "keystore.directory.example") -> None:
        self.server = LocalServer(host, network)
        self.sets: dict[str, dict[str, Any]] = {}

    def publish(
        self,
        participant: OBParticipant,
        *,
        sig: jwk.JWK | DemoKey,
        enc: jwk.JWK | DemoKey | None = None,
        http_sig: jwk.JWK | DemoKey | None = None,
    ) -> str:
        """Publish a participant's signing key (and encryption key, and the key of its RFC 9421
        signatures: one key, one algorithm, RFC 8725 §3.1); return the JWK Set URL."""
        keys = [_public_jwk(sig, "sig")] + ([_public_jwk(enc, "enc")] if enc is not None else [])
        keys += [_public_jwk(http_sig, "sig")] if http_sig is not None else []
        self.sets[participant.jwks_path] = {"keys": keys}
        path = participant.jwks_path
        self.server.serve_json(path, lambda: self.sets[path])
        return self.server.url(path)


def _header(request_headers: Mapping[str, str], name: str) -> str | None:
    return next((v for k, v in request_headers.items() if k.lower() == name), None)


def _error(status: int, code: str, message: str, error: ValidationError | None = None) -> dict[str, Any]:
    detail: dict[str, Any] = {"ErrorCode": code, "Message": message}
    if error is not None:
        detail.update({"check": error.check, "section": error.section, "evidence": error.evidence})
    return {"Code": f"{status} BadRequest", "Message": "the request was rejected", "Errors": [detail]}


class BankAPI:
    """The bank's payment API at ``host``: verifies the client's ``x-jws-signature`` and signs replies."""

    def __init__(
        self,
        network: Network,
        *,
        signer: OBSigner,
        verifier: OBVerifier,
        clock: Clock,
        ids: IdSource,
        decryption_key: jwk.JWK | DemoKey | None = None,
        client_encryption_key: jwk.JWK | DemoKey | None = None,
        host: str = cast.API_HOST,
        httpsig: HttpSigVerifier | None = None,
    ) -> None:
        self.server = LocalServer(host, network)
        self.httpsig = httpsig
        self.signer = signer
        self.verifier = verifier
        self.clock = clock
        self.ids = ids
        self.decryption_key = decryption_key
        self.client_encryption_key = client_encryption_key
        self.traces: list[Trace] = []
        self.server.route("POST", CONSENTS_PATH)(self._consents)
        self.server.route("POST", ENCRYPTED_PATH)(self._encrypted)
        if httpsig is not None:
            self.server.route("PUT", CONSENTS_PATH)(self._consents)
            for method in ("POST", "PUT"):
                self.server.route(method, PAYMENTS_PATH)(self._payments)
                self.server.route(method, SIGNED_CONSENTS_PATH)(self._signed)
                self.server.route(method, SIGNED_PAYMENTS_PATH)(self._signed)

    @property
    def last_trace(self) -> Trace | None:
        return self.traces[-1] if self.traces else None

    def _reply(self, status: int, value: Any, *, encrypt: bool = False) -> Response:
        body = json.dumps(value, separators=(",", ":")).encode("utf-8")
        content_type = _JSON
        cty: str | bool | None = True
        if encrypt and self.client_encryption_key is not None:
            body = encrypt_body(body, self.client_encryption_key, alg="ECDH-ES+A256KW").encode("ascii")
            content_type, cty = _JOSE, None
        return Response(status, body, {"Content-Type": content_type, HEADER: self.signer.sign(body, cty=cty)})

    def _verify(self, request: Request, what: str) -> Trace:
        trace = Trace(f"{self.server.host}: {what}")
        self.verifier.verify(_header(request.headers, HEADER), request.body, trace=trace)
        self.traces.append(trace)
        return trace

    def _rejected(self, trace: Trace, code: str | None = None) -> Response:
        """400 with the OB error shape, naming the failed check and its section (signed, like every reply)."""
        err = trace.error
        message = f"{err.check} ({err.section})" if err is not None else "rejected"
        return self._reply(400, _error(400, code or ob_error_code(err), message, err))

    def _parse_verified(self, trace: Trace, data: bytes, what: str) -> dict[str, Any] | None:
        """Parse the verified bytes themselves, strictly: one body, one meaning (RFC 8259 §4 leaves duplicate names undefined)."""
        with trace.run():
            try:
                value = parse_json_object(data, what, "RFC 8259 §4")
            except ValidationError as exc:
                trace.note_failure(exc)
                raise
            trace.check("RFC 8259 §4", f"{what} is a JSON object with unique member names", True, f"{len(data)} bytes")
            return value
        return None

    def _consent(self, request_value: Mapping[str, Any]) -> dict[str, Any]:
        data = request_value.get("Data")
        initiation = data.get("Initiation") if isinstance(data, dict) else None
        return {
            "Data": {
                "ConsentId": "pdc-" + self.ids.uuid4(),
                "Status": "AwaitingAuthorisation",
                "CreationDateTime": datetime.fromtimestamp(self.clock.now(), UTC).isoformat(),
                "Initiation": initiation,
            },
            "Risk": {},
            "Links": {"Self": self.server.url(CONSENTS_PATH)},
            "Meta": {},
        }

    def _consents(self, request: Request) -> Response:
        trace = self._verify(request, f"POST {CONSENTS_PATH}")
        if not trace.ok:
            return self._rejected(trace)
        value = self._parse_verified(trace, request.body, "request body")
        if value is None:
            return self._rejected(trace, _INVALID_FORMAT)
        return self._reply(201, self._consent(value))

    def _encrypted(self, request: Request) -> Response:
        # Outer layer first: the signature over the JWE bytes says who sent it, before any decryption.
        trace = self._verify(request, f"POST {ENCRYPTED_PATH} (JWE inside JWS)")
        if not trace.ok or self.decryption_key is None:
            return self._rejected(trace)
        plaintext = b""
        with trace.run():
            token = request.body.decode("ascii", "replace")
            plaintext = decrypt_body(trace, token, self.decryption_key)
        if not trace.ok:
            return self._rejected(trace, _INVALID_FORMAT)
        value = self._parse_verified(trace, plaintext, "decrypted body")
        if value is None:
            return self._rejected(trace, _INVALID_FORMAT)
        return self._reply(201, self._consent(value), encrypt=True)

    def _payment(self, request_value: Mapping[str, Any]) -> dict[str, Any]:
        data = request_value.get("Data")
        initiation = data.get("Initiation") if isinstance(data, dict) else None
        return {
            "Data": {
                "DomesticPaymentId": "dp-" + self.ids.uuid4(),
                "Status": "AcceptedSettlementInProcess",
                "CreationDateTime": datetime.fromtimestamp(self.clock.now(), UTC).isoformat(),
                "Initiation": initiation,
            },
            "Links": {"Self": self.server.url(PAYMENTS_PATH)},
            "Meta": {},
        }

    def _payments(self, request: Request) -> Response:
        """The payment itself, under ``x-jws-signature`` like the consent: the signature covers the body
        only, so a body signed for the consent endpoint verifies here too."""
        trace = self._verify(request, f"{request.method} {request.path}")
        if not trace.ok:
            return self._rejected(trace)
        value = self._parse_verified(trace, request.body, "request body")
        if value is None:
            return self._rejected(trace, _INVALID_FORMAT)
        return self._reply(201, self._payment(value))

    def _signed(self, request: Request) -> Response:
        """A request signed with RFC 9421: verified over the method, the target URI this server was
        asked for (its own origin and the path: RFC 9421 §2.2.2), the fields and the received body.
        401 on a missing or invalid signature (FAPI 2.0 Http Signatures). The answer is not signed."""
        assert self.httpsig is not None
        trace = Trace(f"{self.server.host}: {request.method} {request.path} (RFC 9421)")
        target = self.server.url(request.path)
        if request.query:
            target += "?" + urlencode(request.query, doseq=True)
        self.httpsig.verify(request.method, target, request.headers, request.body, trace=trace)
        self.traces.append(trace)
        if not trace.ok:
            err = trace.error
            detail = {"check": err.check, "section": err.section, "evidence": err.evidence} if err is not None else {}
            return json_response(401, {"error": "invalid_signature", **detail})
        value = self._parse_verified(trace, request.body, "request body")
        if value is None:
            return json_response(400, {"error": "invalid_request", "check": "request body is a JSON object"})
        made = self._consent(value) if request.path == SIGNED_CONSENTS_PATH else self._payment(value)
        return json_response(201, made)


@dataclass
class Exchange:
    """One request and its response, as the client saw them."""

    request_body: bytes
    signature: str | None
    response: HttpResponse
    response_trace: Trace
    data: Any = None
    layers: list[Trace] = field(default_factory=list)

    @property
    def status(self) -> int:
        return self.response.status


class OBClient:
    """A TPP calling the bank: signs the exact bytes it sends, verifies the bank's signature on the reply."""

    def __init__(
        self,
        network: Network,
        *,
        signer: OBSigner,
        bank_verifier: OBVerifier,
        api_host: str = cast.API_HOST,
        decryption_key: jwk.JWK | DemoKey | None = None,
        bank_encryption_key: jwk.JWK | DemoKey | None = None,
    ) -> None:
        self.network = network
        self.signer = signer
        self.bank_verifier = bank_verifier
        self.api_host = api_host
        self.decryption_key = decryption_key
        self.bank_encryption_key = bank_encryption_key

    def url(self, path: str, via: str | None = None) -> str:
        return f"https://{via or self.api_host}{path}"

    def send(
        self,
        path: str,
        body: bytes,
        signature: str | None,
        *,
        content_type: str = _JSON,
        via: str | None = None,
    ) -> Exchange:
        """POST ``body`` as is with ``signature`` (or none) and verify the response's signature."""
        headers = {HEADER: signature} if signature else {}
        response = self.network.post(self.url(path, via), body, content_type, headers)
        trace = self.bank_verifier.verify(response.headers.get(HEADER), response.body)
        exchange = Exchange(body, signature, response, trace)
        if trace.ok and response.headers.get("content-type", "").startswith(_JSON):
            exchange.data = _json_or_none(response.body)
        return exchange

    def create_consent(self, body: bytes | Mapping[str, Any], *, via: str | None = None) -> Exchange:
        """Sign and send a payment consent. A mapping is serialised *once*; those bytes are signed and sent."""
        data = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        return self.send(CONSENTS_PATH, data, self.signer.sign(data), via=via)

    def create_encrypted_consent(self, body: bytes | Mapping[str, Any]) -> Exchange:
        """Encrypt the body to the bank, sign the JWE bytes (OB's JWE inside JWS), and open the reply:
        its signature first, then its encryption."""
        if self.bank_encryption_key is None or self.decryption_key is None:
            raise JoselabError("the client needs the bank's encryption key and its own decryption key")
        plain = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode("utf-8")
        jwe_body = encrypt_body(plain, self.bank_encryption_key, alg="RSA-OAEP-256").encode("ascii")
        exchange = self.send(ENCRYPTED_PATH, jwe_body, self.signer.sign(jwe_body, cty=None), content_type=_JOSE)
        if exchange.response_trace.ok and exchange.response.headers.get("content-type", "").startswith(_JOSE):
            inner = Trace("client: the response's JWE")
            with inner.run():
                plaintext = decrypt_body(inner, exchange.response.body.decode("ascii", "replace"), self.decryption_key)
                value = parse_json_object(plaintext, "decrypted response", "RFC 8259 §4")
                inner.check("RFC 8259 §4", "decrypted response is a JSON object with unique member names", True)
                inner.result = value
                exchange.data = value
            exchange.layers.append(inner)
        return exchange


def _json_or_none(data: bytes) -> Any:
    try:
        return parse_json_object(data, "response body", "RFC 8259 §4")
    except MalformedToken:
        return None


class JsonGateway:
    """A hop in front of the API that forwards requests and responses. With ``reserialise=True`` it
    binds JSON bodies to objects and writes them out again, as a framework or proxy might: the same
    JSON value, other bytes (spacing, ``\\u`` escapes), so the detached signature no longer matches."""

    def __init__(
        self,
        network: Network,
        *,
        upstream: str,
        host: str = "gateway.bank.example",
        reserialise: bool = True,
        reserialise_responses: bool = False,
    ) -> None:
        self.network = network
        self.upstream = upstream
        self.reserialise = reserialise
        self.reserialise_responses = reserialise_responses
        self.server = LocalServer(host, network)
        for path in (CONSENTS_PATH, ENCRYPTED_PATH):
            self.server.route("POST", path)(self._forward)

    def _forward(self, request: Request) -> Response:
        content_type = _header(request.headers, "content-type") or _JSON
        body = _rebind(request.body) if self.reserialise and content_type.startswith(_JSON) else request.body
        headers = {HEADER: v} if (v := _header(request.headers, HEADER)) else {}
        try:
            upstream = self.network.post(f"https://{self.upstream}{request.path}", body, content_type, headers)
        except JoselabError:
            return Response(502, b'{"error":"bad_gateway"}', {"Content-Type": _JSON})
        keep = {k: v for k, v in upstream.headers.items() if k in ("content-type", HEADER)}
        reply = upstream.body
        if self.reserialise_responses and keep.get("content-type", "").startswith(_JSON):
            reply = _rebind(reply)
        return Response(upstream.status, reply, keep)


def _rebind(body: bytes) -> bytes:
    """What a JSON framework does to a body it binds to objects and writes back: same value, new bytes
    (Python's defaults: ``", "`` and ``": "`` separators, non-ASCII as ``\\u`` escapes)."""
    try:
        return json.dumps(json.loads(body)).encode("utf-8")
    except (ValueError, RecursionError):
        return body


class HttpSigClient:
    """The TPP calling the bank's RFC 9421 endpoints: it signs each request for the URI it means
    (``https://<api_host><path>``), whichever hop it is sent through."""

    def __init__(self, network: Network, *, signer: HttpSigSigner, api_host: str = cast.API_HOST) -> None:
        self.network = network
        self.signer = signer
        self.api_host = api_host

    def signed_headers(
        self,
        method: str,
        path: str,
        body: bytes,
        headers: Mapping[str, str] | None = None,
        covered: list[str] | None = None,
    ) -> dict[str, str]:
        """The request's fields with Content-Digest, Signature-Input and Signature added; ``covered``
        replaces the signer's default components."""
        fields = {"Content-Type": _JSON, **(headers or {})}
        return {**fields, **self.signer.sign(method, f"https://{self.api_host}{path}", fields, body, covered=covered)}

    def send(
        self,
        path: str,
        body: bytes | Mapping[str, Any],
        *,
        method: str = "POST",
        headers: Mapping[str, str] | None = None,
        via: str | None = None,
        covered: list[str] | None = None,
    ) -> HttpResponse:
        """Sign and send. A mapping is serialised once; those bytes are digested, signed and sent."""
        data = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        fields = self.signed_headers(method, path, data, headers, covered)
        return self.network.request(method, f"https://{via or self.api_host}{path}", body=data, headers=fields)


#: What a :class:`RewritingHop` does to a request: (method, path, headers, body) in and out.
Rewrite = Callable[[str, str, dict[str, str], bytes], tuple[str, str, dict[str, str], bytes]]


class RewritingHop:
    """A hop in front of the API that forwards every request, after ``rewrite`` (None: untouched).
    It plays any compromised or misconfigured intermediary: a proxy that reroutes, a gateway that
    edits headers, an attacker on the path. Every field line goes on as it came, but ``Host``."""

    def __init__(self, network: Network, *, upstream: str, host: str = "edge.bank.example") -> None:
        self.network = network
        self.upstream = upstream
        self.rewrite: Rewrite | None = None
        self.server = LocalServer(host, network)
        for path in (CONSENTS_PATH, PAYMENTS_PATH, SIGNED_CONSENTS_PATH, SIGNED_PAYMENTS_PATH):
            for method in ("POST", "PUT"):
                self.server.route(method, path)(self._forward)

    def _forward(self, request: Request) -> Response:
        skip = {"host", "content-length", "connection", "accept-encoding"}
        headers = {k: v for k, v in request.headers.items() if k.lower() not in skip}
        method, path, body = request.method, request.path, request.body
        if self.rewrite is not None:
            method, path, headers, body = self.rewrite(method, path, headers, body)
        try:
            upstream = self.network.request(method, f"https://{self.upstream}{path}", body=body, headers=headers)
        except JoselabError:
            return Response(502, b'{"error":"bad_gateway"}', {"Content-Type": _JSON})
        keep = {k: v for k, v in upstream.headers.items() if k in ("content-type", HEADER)}
        return Response(upstream.status, upstream.body, keep)


def _other_endpoint(path: str) -> str:
    return {CONSENTS_PATH: PAYMENTS_PATH, SIGNED_CONSENTS_PATH: SIGNED_PAYMENTS_PATH}.get(path, path)


def _body_changed(body: bytes) -> bytes:
    return body.replace(b"165.88", b"965.88")


#: What a hop in the middle may do to a payment request, for :class:`RewritingHop`: one change each.
TAMPERS: dict[str, Rewrite] = {
    "method POST -> PUT": lambda m, p, h, b: ("PUT", p, h, b),
    "path: consent -> payment endpoint": lambda m, p, h, b: (m, _other_endpoint(p), h, b),
    "uncovered header X-Idempotency-Key": lambda m, p, h, b: (m, p, {**h, "X-Idempotency-Key": "pay-0002"}, b),
    "body 165.88 -> 965.88": lambda m, p, h, b: (m, p, h, _body_changed(b)),
    "body and Content-Digest": lambda m, p, h, b: (
        m,
        p,
        {**{k: v for k, v in h.items() if k.lower() != "content-digest"}, "Content-Digest": content_digest(_body_changed(b))},
        _body_changed(b),
    ),
}


#: The demo's trust anchor, the cast's directory: signers write ``tan: directory.example``; keys live at
#: its keystore host.
DEMO_ANCHOR = TrustAnchor(cast.DIRECTORY_NAME, cast.DIRECTORY_HOST)
#: The client (a TPP: organisation and software statement: the cast's Budget Buddy, registered in
#: chapter 1) and the bank (an ASPSP: organisation).
DEMO_TPP = OBParticipant(cast.ORG_ID, cast.SOFTWARE_ID, f"{cast.ORG_NAME}, {cast.CLIENT_NAME} (TPP)")
DEMO_BANK = OBParticipant(cast.BANK_ORG_ID, None, "Demo Bank (ASPSP)")


@dataclass
class MessageDemo:
    """Every party of scenario 4 on one demo network (see :func:`build_demo`)."""

    network: Network
    keystore: Keystore
    api: BankAPI
    client: OBClient
    gateway: JsonGateway
    passthrough: JsonGateway
    anchor: TrustAnchor
    tpp: OBParticipant
    bank: OBParticipant
    signed_client: HttpSigClient | None = None
    edge: RewritingHop | None = None

    def close(self) -> None:
        self.network.close()


def build_demo(clock: Clock, ids: IdSource, *, profile: OBProfile = OB_V314) -> MessageDemo:
    """Start the keystore, the bank's API, the client and two gateways (one re-serialising, one passing
    bytes through) on 127.0.0.1, with the cast's keys (:mod:`joselab.cast`), published RFC 7520
    example keys: the client, Budget Buddy, signs with Bilbo's RSA key (the key it registered in
    chapter 1), signs its RFC 9421 HTTP message signatures with RFC 9421's own RSA-PSS example key,
    and decrypts with Peregrin's P-384 key; the bank's API signs with Frodo's and decrypts
    with Samwise's. Never for production."""
    from ..keys import demo_key

    bilbo, frodo = demo_key(cast.CLIENT_KEY), demo_key(cast.API_KEY)
    samwise, peregrin = demo_key(cast.API_ENCRYPTION_KEY), demo_key(cast.CLIENT_ENCRYPTION_KEY)
    # RFC 9421 rsa-pss-sha512 is another algorithm than PS256: the client signs it with a key of its own.
    http_sig_key = demo_key(cast.CLIENT_HTTPSIG_KEY)
    network = Network()
    keystore = Keystore(network, DEMO_ANCHOR.keystore_host)
    keystore.publish(DEMO_TPP, sig=bilbo, enc=peregrin, http_sig=http_sig_key)
    keystore.publish(DEMO_BANK, sig=frodo, enc=samwise)
    # RFC 9421: the bank verifies with the client's key as the trust anchor publishes it, found by keyid.
    httpsig = HttpSigVerifier(KeystoreKeys(network, DEMO_ANCHOR.jwks_url(DEMO_TPP), clock), clock)
    api = BankAPI(
        network,
        httpsig=httpsig,
        signer=OBSigner(frodo, DEMO_BANK, DEMO_ANCHOR, clock, profile=profile),
        verifier=OBVerifier(DEMO_TPP, [DEMO_ANCHOR], clock, profile=profile, network=network),
        clock=clock,
        ids=ids,
        decryption_key=samwise,
        client_encryption_key=peregrin,
    )
    client = OBClient(
        network,
        signer=OBSigner(bilbo, DEMO_TPP, DEMO_ANCHOR, clock, profile=profile),
        bank_verifier=OBVerifier(DEMO_BANK, [DEMO_ANCHOR], clock, profile=profile, network=network),
        decryption_key=peregrin,
        bank_encryption_key=samwise,
    )
    gateway = JsonGateway(network, upstream=api.server.host)
    passthrough = JsonGateway(network, upstream=api.server.host, host="passthrough.bank.example", reserialise=False)
    signed_client = HttpSigClient(network, signer=HttpSigSigner(http_sig_key, clock), api_host=api.server.host)
    edge = RewritingHop(network, upstream=api.server.host)
    network.start()
    return MessageDemo(
        network, keystore, api, client, gateway, passthrough, DEMO_ANCHOR, DEMO_TPP, DEMO_BANK, signed_client, edge
    )
