"""Widgets for poking at tokens in a running notebook (imported by notebooks only, never by joselab).

Four labs, each built on plain callables so that every scenario can use them with its own validator:

* :func:`token_inspector`: paste a token, pick a validator, see the decoded parts and the trace;
* :func:`tamper_lab`: change a header member or a claim (or flip a signature byte), optionally
  re-sign as an insider would, and see which check fails;
* :func:`clock_lab`: move "now" across ``nbf``, ``iat``, ``exp`` (or any named instant) and the
  leeway, and watch the decision;
* :func:`algorithm_chooser`: sign the same claims with each algorithm the book uses and compare
  token size and sign / verify time.

Two helpers let a lab use a scenario's real validator honestly:

* :func:`fresh_replay_store`: a validator with a replay store (``jti``, ``nonce``) refuses a token the
  second time it sees it, so a lab that re-validates one token on every change would show nothing but
  replays. Each try gets its own new sqlite store instead: the replay row still runs, and passes
  because it *is* that store's first use.
* :func:`variant`: a copy of a scenario's validator with one part swapped (that replay store, or
  the clock the clock lab moves), so the lab runs the very checks the scenario runs;
* :class:`FetchOnce`: ``get_json`` over the demo network, each URL fetched once and kept (as a
  verifier caches a JWK Set), so a lab whose validator fetches keys keeps working after the notebook
  has stopped its servers.

Each lab is a :class:`Lab`: its controls are in ``lab.controls``, its output in ``lab.output`` and the
trace it shows in ``lab.trace``. A control that cannot be applied (a value that does not parse, a
validator that cannot fetch a key) shows joselab's error in the output; it never raises.

On the static site the widgets show the state they were saved in; interaction needs a running kernel
(``make lab``).
"""

from __future__ import annotations

import copy
import html
import json
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import ipywidgets as w

from .clock import FixedClock
from .compact import MAX_TOKEN_LENGTH, b64url_decode, b64url_encode, parse_jws
from .display import TokenView
from .errors import JoselabError
from .jws import encode_claims, encode_header, sign_compact, verify_jws
from .keys import demo_key, load_jwks, public_jwks
from .parties import Database, Network, ReplayStore
from .trace import Trace

Validate = Callable[[str], Trace]
Resign = Callable[[dict, "dict | None"], str]

#: The key each algorithm is demonstrated with in :func:`algorithm_chooser` (published RFC keys).
ALGORITHM_KEYS = {
    "RS256": "rfc7515-a2-rsa",
    "PS256": "rfc7520-bilbo-rsa",
    "ES256": "rfc7515-a3-p256",
    "Ed25519": "rfc8037-ed25519",
    "HS256": "rfc7515-a1-hmac",
}

#: Members an attacker likes to add to a header (RFC 8725 §3.10: keys named by the token itself).
ADDED_HEADER_TARGETS = ("header.jku", "header.jwk", "header.x5u")

_LIVE_NOTE = (
    '<p style="font-size:85%;color:#666">Interactive in a running notebook (<code>make lab</code>); '
    "on the static site this shows the state the page was built with.</p>"
)


class Lab(w.VBox):
    """A VBox whose plain-text form is one line (what a terminal or a diff shows)."""

    def __init__(
        self,
        title: str,
        children: list[w.Widget],
        *,
        controls: Mapping[str, w.Widget] | None = None,
        output: w.HTML | None = None,
    ) -> None:
        super().__init__([w.HTML(f"<strong>{title}</strong>{_LIVE_NOTE}"), *children])
        self.title = title
        self.controls: dict[str, w.Widget] = dict(controls or {})
        self.output = output
        #: The trace the output shows now (None when it shows an error or a prompt).
        self.trace: Trace | None = None

    def __repr__(self) -> str:
        return f"<{self.title}: an interactive widget; run the notebook to use it>"


def _error_html(exc: Exception) -> str:
    return f'<p class="jl-error"><strong>{html.escape(type(exc).__name__)}</strong>: {html.escape(str(exc))}</p>'


def _render(token: str, trace: Trace | None) -> str:
    if len(token) > MAX_TOKEN_LENGTH:
        # Do not echo an oversized paste back into the page; the validator's own cap reports it.
        parts = [f"<p>{len(token)} characters: over the {MAX_TOKEN_LENGTH} cap, not displayed</p>"]
    else:
        parts = [TokenView(token)._repr_html_()]
    if trace is not None:
        parts.append(trace._repr_html_())
    return "".join(parts)


def _show_validation(lab: Lab, token: str, validate: Validate) -> None:
    """Validate ``token`` and show the token and its trace, or joselab's error, in ``lab.output``."""
    try:
        trace = validate(token)
    except JoselabError as exc:  # e.g. a key that can no longer be fetched: shown, never raised
        lab.trace = None
        lab.output.value = _render(token, None) + _error_html(exc)
        return
    lab.trace = trace
    lab.output.value = _render(token, trace)


def token_inspector(validators: Mapping[str, Validate], token: str = "") -> Lab:
    """Paste a token, choose a validator, see the decoded parts and the validation trace."""
    if not validators:
        raise ValueError("token_inspector needs at least one validator")
    text = w.Textarea(value=token, placeholder="paste a compact JWS or JWE", layout=w.Layout(width="100%", height="6em"))
    choice = w.Dropdown(options=list(validators), description="validator", style={"description_width": "initial"})
    out = w.HTML()
    lab = Lab("Token inspector", [text, choice, out], controls={"token": text, "validator": choice}, output=out)

    def update(_: Any = None) -> None:
        value = text.value.strip()
        if not value:
            lab.trace = None
            out.value = "<em>paste a token</em>"
            return
        _show_validation(lab, value, validators[choice.value])

    text.observe(update, "value")
    choice.observe(update, "value")
    update()
    return lab


def tamper(token: str, target: str, value: Any, resign: Resign | None = None) -> str:
    """Return ``token`` with ``target`` changed: ``"header.<name>"``, ``"claims.<name>"`` or
    ``"signature"`` (flip a bit of the last byte). ``value`` None removes the member.

    With ``resign`` the result is signed again (an insider with the key): ``resign(header, claims)``
    returns the new token; ``claims`` is None for a detached JWS (RFC 7515 Appendix F), whose payload
    travels elsewhere. Otherwise the original signature is kept, and only the changed part is
    re-encoded (an unchanged part keeps its exact bytes)."""
    parsed = parse_jws(token)
    if target == "signature":
        sig = bytearray(parsed.signature) or bytearray(1)  # an unsigned token gets a one-byte "signature"
        sig[-1] ^= 0x01
        return f"{parsed.protected_b64}.{parsed.payload_segment}.{b64url_encode(bytes(sig))}"
    where, _, name = target.partition(".")
    if where not in ("header", "claims") or not name:
        raise ValueError(f"target is header.<name>, claims.<name> or signature, not {target!r}")
    if where == "claims" and parsed.detached:
        raise ValueError("a detached JWS carries no claims: its payload travels elsewhere")
    header = dict(parsed.header)
    claims = None if parsed.detached else parsed.claims()
    place = header if where == "header" else claims
    assert place is not None
    if value is None:
        place.pop(name, None)
    else:
        place[name] = value
    if resign is not None:
        return resign(header, claims)
    if where == "header":
        protected = encode_header(header) if "alg" in header else b64url_encode(json.dumps(header).encode())
        return f"{protected}.{parsed.payload_segment}.{parsed.signature_b64}"
    assert claims is not None
    return f"{parsed.protected_b64}.{b64url_encode(encode_claims(claims))}.{parsed.signature_b64}"


def _parse_value(raw: str) -> Any:
    """The tamper lab's value box: JSON, a bare word as a string, empty as "remove"."""
    raw = raw.strip()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def tamper_lab(token: str, validate: Validate, resign: Resign | None = None) -> Lab:
    """Pick a header member or a claim, give it a new JSON value (empty removes it), see which check
    fails. ``resign(header, claims)`` lets the reader play an insider who holds the signing key."""
    parsed = parse_jws(token)
    targets = [f"header.{k}" for k in parsed.header]
    targets += [t for t in ADDED_HEADER_TARGETS if t not in targets]
    if not parsed.detached:
        targets += [f"claims.{k}" for k in parsed.claims()]
    targets.append("signature")
    target = w.Dropdown(options=targets, value="signature", description="change")
    value = w.Text(value="", placeholder='new JSON value, e.g. "https://evil.example" or 0', description="to")
    insider = w.Checkbox(value=False, description="re-sign with the issuer's key (an insider)", disabled=resign is None)
    out = w.HTML()
    lab = Lab(
        "Tamper lab",
        [w.HBox([target, value]), insider, out],
        controls={"target": target, "value": value, "resign": insider},
        output=out,
    )

    def update(_: Any = None) -> None:
        try:
            forged = tamper(token, target.value, _parse_value(value.value), resign if insider.value else None)
        except (JoselabError, ValueError, TypeError) as exc:  # e.g. an alg the insider's key cannot sign
            lab.trace = None
            out.value = "<p>No token to validate: the change could not be made.</p>" + _error_html(exc)
            return
        _show_validation(lab, forged, validate)

    for control in (target, value, insider):
        control.observe(update, "value")
    update()
    return lab


def _token_times(token: str) -> dict[str, int]:
    claims = parse_jws(token).claims()
    return {
        name: int(claims[name])
        for name in ("nbf", "iat", "exp")
        if isinstance(claims.get(name), int | float) and not isinstance(claims.get(name), bool)
    }


def clock_lab(
    token: str,
    validate_at: Callable[[FixedClock], Trace],
    *,
    leeway: int = 60,
    times: Mapping[str, int] | None = None,
    step: int = 10,
) -> Lab:
    """Move "now" from before the earliest instant to after the latest (plus twice the leeway) and
    watch the decision change. ``validate_at(clock)`` validates the token with that clock.

    ``times`` names the instants to mark, by default the token's ``nbf``, ``iat`` and ``exp``; pass
    it for a token whose times are elsewhere (a detached JWS with its signing time in the header)."""
    marks_at = dict(times) if times is not None else _token_times(token)
    if not marks_at:
        raise ValueError("clock_lab needs an instant: the token has no nbf, iat or exp; pass times=")
    base_name, base = min(marks_at.items(), key=lambda item: item[1])
    margin = 2 * leeway + 60
    slider = w.IntSlider(
        value=0,
        min=-margin,
        max=max(marks_at.values()) - base + margin,
        step=step,
        description=f"now = {base_name} +",
        continuous_update=False,
        style={"description_width": "initial"},
        layout=w.Layout(width="90%"),
    )
    marks = ", ".join(f"<code>{html.escape(name)}</code> at {at - base} s" for name, at in marks_at.items())
    legend = w.HTML(f"{marks}; leeway {leeway} s")
    out = w.HTML()
    lab = Lab("Clock", [slider, legend, out], controls={"now": slider}, output=out)

    def update(_: Any = None) -> None:
        clock = FixedClock(base + slider.value)
        heading = f"<p>now = {html.escape(base_name)} + {slider.value} s</p>"
        try:
            trace = validate_at(clock)
        except JoselabError as exc:
            lab.trace = None
            out.value = heading + _error_html(exc)
            return
        lab.trace = trace
        out.value = heading + trace._repr_html_()

    slider.observe(update, "value")
    update()
    return lab


@contextmanager
def fresh_replay_store(table: str = "seen_jti", directory: str | Path | None = None) -> Iterator[ReplayStore]:
    """A replay store in a new sqlite file (under ``directory``), removed when the block ends.

    For a lab that validates one token again and again: each try is then the store's first sight of
    the token, as it was for the validator the first time. The replay row still runs and passes."""
    with tempfile.TemporaryDirectory(dir=directory) as folder:
        db = Database(Path(folder) / "lab.sqlite")
        try:
            yield ReplayStore(db, table)
        finally:
            db.close()


def variant(validator: Any, **changes: Any) -> Any:
    """A shallow copy of ``validator`` with the named attributes replaced, e.g. its replay store or
    its clock: the same checks and the same configuration, with the one part a lab must swap. A name
    the validator does not have is an error, so a renamed attribute cannot be swapped silently."""
    for name in changes:
        if not hasattr(validator, name):
            raise AttributeError(f"{type(validator).__name__} has no attribute {name!r} to replace")
    copied = copy.copy(validator)
    for name, value in changes.items():
        setattr(copied, name, value)
    return copied


class FetchOnce:
    """``get_json`` over ``network``, each URL fetched once over real HTTP and then kept.

    A verifier that fetches its keys for every validation stops working when the notebook stops its
    servers at the end; a lab built on this one keeps the documents it fetched, as a production
    verifier caches a JWK Set. A URL it has not fetched before is fetched (and fails once the servers
    are stopped, with joselab's :class:`~joselab.errors.FetchError`). At most ``limit`` documents."""

    def __init__(self, network: Network, limit: int = 32) -> None:
        self.network = network
        self.limit = limit
        self._kept: dict[str, Any] = {}

    def get_json(self, url: str, **options: Any) -> Any:
        if url not in self._kept:
            document = self.network.get_json(url, **options)
            if len(self._kept) >= self.limit:
                self._kept.pop(next(iter(self._kept)))
            self._kept[url] = document
        return copy.deepcopy(self._kept[url])


def measure(fn: Callable[[], Any], repeat: int = 30) -> float:
    """Median wall time of ``fn`` in seconds over ``repeat`` calls."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def algorithm_table(
    claims: Mapping[str, Any], algorithms: Mapping[str, str] = ALGORITHM_KEYS, repeat: int = 30
) -> list[dict[str, Any]]:
    """Sign ``claims`` with each algorithm's demo key; token size and median sign / verify times."""
    rows = []
    for alg, name in algorithms.items():
        key = demo_key(name)
        header = {"alg": alg, "typ": "JWT", "kid": key.kid}
        token = sign_compact(claims, key.jwk, header)
        keys = (
            load_jwks({"keys": [key.jwk.export(as_dict=True)]}, public_only=False)
            if alg.startswith("HS")
            else load_jwks(public_jwks(key))
        )

        def verify(token: str = token, keys: Any = keys, alg: str = alg) -> None:
            trace = Trace(alg)
            with trace.run():
                verify_jws(trace, token, keys, [alg])
            trace.raise_for_failure()

        verify()
        rows.append(
            {
                "alg": alg,
                "key": key.source,
                "token characters": len(token),
                "signature bytes": len(b64url_decode(token.rsplit(".", 1)[1])),
                "sign": measure(lambda key=key, header=header: sign_compact(claims, key.jwk, header), repeat),
                "verify": measure(verify, repeat),
            }
        )
    return rows


def _fmt(seconds: float) -> str:
    return f"{seconds * 1e3:.3f} ms"


def algorithm_chooser(claims: Mapping[str, Any], algorithms: Mapping[str, str] = ALGORITHM_KEYS, repeat: int = 30) -> Lab:
    """Sign the same claims with each algorithm; compare sizes and times (measured in this kernel)."""
    picks = w.SelectMultiple(options=list(algorithms), value=tuple(algorithms), description="algorithms")
    out = w.HTML()
    lab = Lab("Algorithm chooser", [picks, out], controls={"algorithms": picks}, output=out)

    def update(_: Any = None) -> None:
        rows = algorithm_table(claims, {a: algorithms[a] for a in picks.value}, repeat)
        head = "".join(
            f"<th>{h}</th>" for h in ("alg", "token characters", "signature bytes", "sign (median)", "verify (median)")
        )
        body = "".join(
            f"<tr><td>{r['alg']}</td><td>{r['token characters']}</td><td>{r['signature bytes']}</td>"
            f"<td>{_fmt(r['sign'])}</td><td>{_fmt(r['verify'])}</td></tr>"
            for r in rows
        )
        out.value = f'<table class="jl-trace-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'

    picks.observe(update, "value")
    update()
    return lab
