"""Widgets for poking at tokens in a running notebook (imported by notebooks only, never by joselab).

Four labs, each built on plain callables so that every scenario can use them with its own validator:

* :func:`token_inspector`: paste a token, pick a validator, see the decoded parts and the trace;
* :func:`tamper_lab`: change a header member or a claim (or flip a signature byte), optionally
  re-sign as an insider would, and see which check fails;
* :func:`clock_lab`: move "now" across ``nbf``, ``exp`` and the leeway and watch the decision;
* :func:`algorithm_chooser`: sign the same claims with each algorithm the book uses and compare
  token size and sign / verify time.

On the static site the widgets show the state they were saved in; interaction needs a running kernel
(``make lab``).
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as w

from .clock import FixedClock
from .compact import b64url_decode, b64url_encode, parse_jws
from .display import TokenView
from .errors import JoselabError
from .jws import encode_claims, sign_compact, verify_jws
from .keys import demo_key, load_jwks, public_jwks
from .trace import Trace

Validate = Callable[[str], Trace]

#: The key each algorithm is demonstrated with in :func:`algorithm_chooser` (published RFC keys).
ALGORITHM_KEYS = {
    "RS256": "rfc7515-a2-rsa",
    "PS256": "rfc7520-bilbo-rsa",
    "ES256": "rfc7515-a3-p256",
    "Ed25519": "rfc8037-ed25519",
    "HS256": "rfc7515-a1-hmac",
}

_LIVE_NOTE = (
    '<p style="font-size:85%;color:#666">Interactive in a running notebook (<code>make lab</code>); '
    "on the static site this shows the state the page was built with.</p>"
)


class Lab(w.VBox):
    """A VBox whose plain-text form is one line (what a terminal or a diff shows)."""

    def __init__(self, title: str, children: list[w.Widget]) -> None:
        super().__init__([w.HTML(f"<strong>{title}</strong>{_LIVE_NOTE}"), *children])
        self.title = title

    def __repr__(self) -> str:
        return f"<{self.title}: an interactive widget; run the notebook to use it>"


def _render(token: str, trace: Trace | None) -> str:
    parts = [TokenView(token)._repr_html_()]
    if trace is not None:
        parts.append(trace._repr_html_())
    return "".join(parts)


def token_inspector(validators: Mapping[str, Validate], token: str = "") -> Lab:
    """Paste a token, choose a validator, see the decoded parts and the validation trace."""
    text = w.Textarea(value=token, placeholder="paste a compact JWS or JWE", layout=w.Layout(width="100%", height="6em"))
    choice = w.Dropdown(options=list(validators), description="validator")
    out = w.HTML()

    def update(_: Any = None) -> None:
        value = text.value.strip()
        if not value:
            out.value = "<em>paste a token</em>"
            return
        out.value = _render(value, validators[choice.value](value))

    text.observe(update, "value")
    choice.observe(update, "value")
    update()
    return Lab("Token inspector", [text, choice, out])


def tamper(token: str, target: str, value: Any, resign: Callable[[dict, dict], str] | None = None) -> str:
    """Return ``token`` with ``target`` changed: ``"header.<name>"``, ``"claims.<name>"`` or
    ``"signature"`` (flip the last byte). ``value`` None removes the member. With ``resign`` the result
    is signed again (an insider with the key); otherwise the original signature is kept."""
    parsed = parse_jws(token)
    header, claims = dict(parsed.header), parsed.claims()
    if target == "signature":
        sig = bytearray(parsed.signature)
        sig[-1] ^= 0x01
        return f"{parsed.protected_b64}.{parsed.payload_segment}.{b64url_encode(bytes(sig))}"
    where, _, name = target.partition(".")
    place = header if where == "header" else claims
    if value is None:
        place.pop(name, None)
    else:
        place[name] = value
    if resign is not None:
        return resign(header, claims)
    protected = b64url_encode(json.dumps(header, separators=(",", ":")).encode())
    return f"{protected}.{b64url_encode(encode_claims(claims))}.{parsed.signature_b64}"


def tamper_lab(token: str, validate: Validate, resign: Callable[[dict, dict], str] | None = None) -> Lab:
    """Pick a header member or a claim, give it a new JSON value (empty removes it), see which check fails."""
    parsed = parse_jws(token)
    targets = [f"header.{k}" for k in parsed.header] + [f"claims.{k}" for k in parsed.claims()] + ["signature"]
    target = w.Dropdown(options=targets, value=targets[-1], description="change")
    value = w.Text(value="", placeholder='new JSON value, e.g. "https://evil.example" or 0', description="to")
    insider = w.Checkbox(value=False, description="re-sign with the issuer's key (an insider)", disabled=resign is None)
    out = w.HTML()

    def update(_: Any = None) -> None:
        raw = value.value.strip()
        try:
            new = json.loads(raw) if raw else None
        except ValueError:
            new = raw  # a bare word is taken as a string
        try:
            forged = tamper(token, target.value, new, resign if insider.value else None)
        except JoselabError as exc:
            out.value = f"<p>{exc}</p>"
            return
        out.value = _render(forged, validate(forged))

    for control in (target, value, insider):
        control.observe(update, "value")
    update()
    return Lab("Tamper lab", [w.HBox([target, value]), insider, out])


def clock_lab(token: str, validate_at: Callable[[FixedClock], Trace], *, leeway: int = 60) -> Lab:
    """Move "now" from before ``iat`` to after ``exp`` + leeway and watch the decision change.

    ``validate_at(clock)`` validates ``token`` with that clock."""
    claims = parse_jws(token).claims()
    iat = int(claims.get("iat", claims.get("nbf", 0)))
    exp = int(claims.get("exp", iat + 3600))
    slider = w.IntSlider(
        value=0,
        min=-2 * leeway - 60,
        max=exp - iat + 2 * leeway + 60,
        step=10,
        description="now = iat +",
        continuous_update=False,
    )
    marks = w.HTML(f"<code>iat</code> at 0 s, <code>exp</code> at {exp - iat} s, leeway {leeway} s")
    out = w.HTML()
    clock = FixedClock(iat)

    def update(_: Any = None) -> None:
        clock.set(iat + slider.value)
        trace = validate_at(clock)
        out.value = f"<p>now = iat + {slider.value} s</p>" + trace._repr_html_()

    slider.observe(update, "value")
    update()
    return Lab("Clock", [slider, marks, out])


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


def algorithm_chooser(claims: Mapping[str, Any], algorithms: Mapping[str, str] = ALGORITHM_KEYS) -> Lab:
    """Sign the same claims with each algorithm; compare sizes and times (measured in this kernel)."""
    picks = w.SelectMultiple(options=list(algorithms), value=tuple(algorithms), description="algorithms")
    out = w.HTML()

    def update(_: Any = None) -> None:
        rows = algorithm_table(claims, {a: algorithms[a] for a in picks.value})
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
    return Lab("Algorithm chooser", [picks, out])
