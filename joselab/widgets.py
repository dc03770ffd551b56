"""Widgets for poking at tokens in a running notebook (imported by notebooks only, never by joselab).

Four labs, each built on plain callables so that every scenario can use them with its own validator:

* :func:`token_inspector`: paste a token, pick a validator, see the decoded parts and the trace;
* :func:`tamper_lab`: change a header member or a claim (or flip a signature bit), optionally
  re-sign as an insider would, and see which check fails;
* :func:`clock_lab`: move "now" across ``nbf``, ``iat``, ``exp`` (or any named instant) and watch
  the decision;
* :func:`algorithm_chooser`: sign the same claims with each algorithm the book uses and compare
  token size and sign / verify time.

Three helpers let a lab use a scenario's real validator honestly:

* :func:`fresh_replay_store`: a validator with a replay store (``jti``, ``nonce``) refuses a token the
  second time it sees it, so a lab that re-validates one token on every change would show nothing but
  replays. Each try gets a store of its own instead (an empty table in a real sqlite file, emptied
  again after the try): the replay row still runs, and passes because it *is* that store's first use.
* :func:`variant`: a copy of a scenario's validator with one part swapped (that replay store, or
  the clock the clock lab moves), so the lab runs the very checks the scenario runs;
* :class:`FetchOnce`: ``get_json`` over the demo network, each URL fetched once and kept (as a
  verifier caches a JWK Set), so a lab whose validator fetches keys keeps working after the notebook
  has stopped its servers.

Each lab is a :class:`Lab`: its controls are in ``lab.controls``, its output in ``lab.output`` and the
trace it shows in ``lab.trace``. A control that cannot be applied (a value that does not parse, a
validator that cannot fetch a key) shows joselab's error in the output; it never raises.

**On the static site.** Where a lab's choices are finite (the validator, the member to change and its
new value, the clock position, the algorithm), the lab computes the answer to every choice when the
notebook runs and keeps them in ``lab.static_answers``, which is saved with the widget state. The
site's script (``assets/joselab-widgets.js``) shows the saved answer to the reader's choice with no
kernel, and disables the controls that would need one (free text), saying so. In a running notebook
every change is computed live, by the same functions.
"""

from __future__ import annotations

import atexit
import copy
import dataclasses
import html
import itertools
import json
import re
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import ipywidgets as w
import traitlets

from . import cast
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


class _Remove:
    """The tamper lab's "remove the member" choice (JSON ``null`` is a value, not a removal)."""

    def __repr__(self) -> str:
        return "REMOVE"


#: Pass as ``value`` to :func:`tamper` to delete the member.
REMOVE = _Remove()

#: The tamper lab's labels for its two ways of breaking the signature itself.
FLIP, STRIP = "flip one bit of its last byte", "strip it (an empty signature)"
#: The tamper lab's label for "type a value of your own" (needs a kernel).
CUSTOM = "another value: type JSON in the box"
REMOVE_LABEL = "remove the member"

_LIVE_NOTE = '<span class="jl-note-text">Live: every change runs in this notebook\'s kernel.</span>'
_KERNEL_ONLY = "needs a running notebook (make lab)"


def _site_note(answers: str, kernel_only: str = "") -> str:
    """The note a lab shows on the static site: what answers there, and what needs a kernel."""
    text = f"On this page, {answers}: each answer was computed when the page was built."
    if kernel_only:
        text += f" {kernel_only} {_KERNEL_ONLY}."
    return f'<span class="jl-note-text">{html.escape(text)}</span>'


_PIECE = re.compile(r"(?=<(?:tr|details|div|p|table|summary|pre)[\s>])")


class _Answers:
    """The saved answer to each combination of a lab's finite choices, for the static site.

    An answer is HTML; answers share most of their HTML (a trace's passing rows, a token's unchanged
    header), so each is kept as a list of indices into a table of distinct pieces, split before a few
    block tags. Joining the pieces gives the answer back exactly, whatever the HTML looks like."""

    def __init__(self, keys: Sequence[str]) -> None:
        self.keys = list(keys)
        self.pieces: list[str] = []
        self._index: dict[str, int] = {}
        self.answers: dict[str, list[int]] = {}

    @staticmethod
    def key(values: Iterable[Any]) -> str:
        # The same text as the site script's JSON.stringify of the controls' values.
        return json.dumps(list(values), ensure_ascii=False, separators=(",", ":"))

    def add(self, values: Iterable[Any], answer: str) -> None:
        ids = []
        for piece in _PIECE.split(answer):
            if piece:
                ids.append(self._index.setdefault(piece, len(self.pieces)))
                if ids[-1] == len(self.pieces):
                    self.pieces.append(piece)
        self.answers[self.key(values)] = ids

    def answer(self, values: Iterable[Any]) -> str | None:
        ids = self.answers.get(self.key(values))
        return None if ids is None else "".join(self.pieces[i] for i in ids)

    def export(self, **extra: Any) -> dict[str, Any]:
        return {"keys": self.keys, "pieces": self.pieces, "answers": self.answers, **extra}


class Lab(w.VBox):
    """A lab: a title, a note, its controls and its output. Its plain-text form is one line (what a
    terminal or a diff shows).

    ``static_answers`` (saved with the widget state) holds what the static site needs to answer the
    reader's choices with no kernel: the controls whose values form the key, the saved answers, the
    controls that need a kernel, and the note to show instead of the live one."""

    static_answers = traitlets.Dict().tag(sync=True)

    def __init__(
        self,
        title: str,
        kind: str,
        children: list[w.Widget],
        *,
        controls: Mapping[str, w.Widget] | None = None,
        output: w.HTML | None = None,
    ) -> None:
        self.note = w.HTML(_LIVE_NOTE).add_class("jl-note")
        super().__init__([w.HTML(f"<strong>{html.escape(title)}</strong>"), self.note, *children])
        self.add_class("jl-lab").add_class(f"jl-lab-{kind}")
        self.title = title
        self.controls: dict[str, w.Widget] = dict(controls or {})
        for name, control in self.controls.items():
            control.add_class(f"jl-c-{name}")
        self.output = output
        if output is not None:
            output.add_class("jl-out")
        #: The trace the output shows now (None when it shows an error or a prompt).
        self.trace: Trace | None = None

    def __repr__(self) -> str:
        return f"<{self.title}: an interactive widget; run the notebook to use it>"


def _error_html(exc: Exception) -> str:
    return f'<p class="jl-error"><strong>{html.escape(type(exc).__name__)}</strong>: {html.escape(str(exc))}</p>'


def _checked_note(trace: Trace) -> str:
    """What the decoded header and payload are worth, given the trace below them."""
    if trace.ok:
        return f"ACCEPTED by the validation below ({len(trace)} checks passed, the signature included)"
    failed = trace.failed
    where = f"{failed.section} ({failed.name})" if failed is not None else "a check"
    return f"REFUSED at {where}: decoded for display only; nothing in it may be trusted"


def _render(token: str, trace: Trace | None) -> str:
    """The token (its parts, decoded) above its trace. Input that is not a JOSE object is said to be
    so, not shown as a "protected header"; the decoded parts are labelled by what the trace found."""
    if len(token) > MAX_TOKEN_LENGTH:
        # Do not echo an oversized paste back into the page; the validator's own cap reports it.
        parts = [f"<p>{len(token)} characters: over the {MAX_TOKEN_LENGTH} cap, not displayed</p>"]
    else:
        view = TokenView(token)
        if view.error is not None:
            shown = token if len(token) <= 200 else token[:197] + "..."
            parts = [
                '<div class="jl-not-jose"><p><strong>Not a JOSE object.</strong> A compact JWS is three '
                "base64url parts separated by dots (RFC 7515 §7.1), a compact JWE five (RFC 7516 §7.1); "
                f"this is neither: {html.escape(str(view.error))}</p>"
                f'<pre class="jl-not-jose-input">{html.escape(shown)}</pre></div>'
            ]
        else:
            if trace is not None and view.unverified is not None:
                view.unverified = dataclasses.replace(view.unverified, warning=_checked_note(trace))
            parts = [view._repr_html_()]
    if trace is not None:
        parts.append(trace._repr_html_())
    return "".join(parts)


def _validation_html(token: str, validate: Validate) -> tuple[Trace | None, str]:
    """Validate ``token``; the trace and the token above it, or joselab's error (never raised)."""
    try:
        trace = validate(token)
    except JoselabError as exc:  # e.g. a key that can no longer be fetched: shown, never raised
        return None, _render(token, None) + _error_html(exc)
    return trace, _render(token, trace)


def _label_width(control: w.Widget) -> w.Widget:
    """A description shown in full (ipywidgets cuts a long one at its default width)."""
    control.style.description_width = "initial"
    return control


# -- the token inspector ---------------------------------------------------------------------------
def token_inspector(validators: Mapping[str, Validate], token: str = "") -> Lab:
    """Paste a token, choose a validator, see the decoded parts and the validation trace.

    On the static site the validator choice answers for the token the page was built with; the text
    box needs a kernel."""
    if not validators:
        raise ValueError("token_inspector needs at least one validator")
    text = w.Textarea(value=token, placeholder="paste a compact JWS or JWE", layout=w.Layout(width="100%", height="6em"))
    choice = _label_width(w.Dropdown(options=list(validators), description="validator", layout=w.Layout(width="auto")))
    out = w.HTML()
    lab = Lab("Token inspector", "inspector", [text, choice, out], controls={"token": text, "validator": choice}, output=out)

    def answer(value: str, name: str) -> tuple[Trace | None, str]:
        if not value:
            return None, "<em>paste a token</em>"
        return _validation_html(value, validators[name])

    def update(_: Any = None) -> None:
        lab.trace, out.value = answer(text.value.strip(), choice.value)

    text.observe(update, "value")
    choice.observe(update, "value")
    update()
    saved = _Answers(["validator"])
    for name in validators:
        saved.add([name], answer(token.strip(), name)[1])
    lab.static_answers = saved.export(
        kernel_only=["token"],
        note=_site_note("pick a validator for the token shown", "Pasting another token"),
        missing="",
    )
    return lab


# -- the tamper lab --------------------------------------------------------------------------------
def tamper(token: str, target: str, value: Any = REMOVE, resign: Resign | None = None) -> str:
    """Return ``token`` with ``target`` changed: ``"header.<name>"``, ``"claims.<name>"`` or
    ``"signature"``. ``value`` is the member's new JSON value, or :data:`REMOVE` to delete it; for
    ``"signature"`` it is :data:`FLIP` (flip a bit of the last byte, the default) or :data:`STRIP`.

    With ``resign`` the result is signed again (an insider with the key): ``resign(header, claims)``
    returns the new token; ``claims`` is None for a detached JWS (RFC 7515 Appendix F), whose payload
    travels elsewhere. Otherwise the original signature is kept, and only the changed part is
    re-encoded (an unchanged part keeps its exact bytes). A signature is never re-signed: changing
    it is what an outsider, who has no key, can do."""
    parsed = parse_jws(token)
    if target == "signature":
        if value == STRIP:
            return f"{parsed.protected_b64}.{parsed.payload_segment}."
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
    if value is REMOVE:
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


#: An attacker's own public key, for ``header.jwk``: Mallory's, which no other party uses (:mod:`joselab.cast`).
_ATTACKER_JWK = cast.ATTACKER_KEY


def _label(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def tamper_choices(target: str, current: Any = REMOVE, extra: Sequence[Any] = ()) -> list[tuple[str, Any]]:
    """The new values the tamper lab offers for ``target`` (label, value): ``extra`` first, then a few
    an attacker would try for a member of that kind, then "remove the member" if it is there.

    ``current`` is the member's value in the token (:data:`REMOVE` if it has none)."""
    if target == "signature":
        return [(FLIP, FLIP), (STRIP, STRIP)]
    name = target.partition(".")[2]
    values: list[Any] = list(extra)
    if name == "alg":
        swap = {"RS": "PS", "PS": "RS", "ES": "PS", "HS": "RS"}.get(str(current)[:2], "RS")
        values += ["none", "HS256", f"{swap}256"]
    elif name == "jku":
        values += [f"https://{cast.ATTACKER_HOST}/jwks.json"]
    elif name == "x5u":
        values += [f"https://{cast.ATTACKER_HOST}/cert.pem"]
    elif name == "jwk":
        values += [public_jwks(demo_key(_ATTACKER_JWK))["keys"][0]]
    elif name == "kid":
        values += ["mallory-key-1"]
    elif name == "typ":
        values += ["at+jwt" if current == "JWT" else "JWT"]
    elif isinstance(current, bool):
        values += [not current]
    elif isinstance(current, int | float):
        values += [current + 3600, current - 86400]
    elif isinstance(current, str):
        values += ["https://evil.example" if current.startswith("https://") else "mallory"]
    elif isinstance(current, list):
        if len(current) > 1:
            values += [current[:-1]]
        values += [["https://evil.example/callback"] if any(str(v).startswith("https://") for v in current) else ["mallory"]]
    choices, seen = [], set()
    for value in values:
        label = _label(value)
        if value != current and label not in seen:
            seen.add(label)
            choices.append((label, value))
    if current is not REMOVE:
        choices.append((REMOVE_LABEL, REMOVE))
    return choices


def _what_changed(target: str, label: str, value: Any, signed: bool) -> str:
    """One line above the tamper lab's answer: the change made, and whose signature the token carries."""
    if target == "signature":
        done = f"The signature: {label}."
    elif value is REMOVE:
        done = f"Removed <code>{html.escape(target)}</code>;"
    else:
        done = f"Set <code>{html.escape(target)}</code> to <code>{html.escape(_label(value))}</code>;"
    if target != "signature":
        done += (
            " re-signed with the issuer's key (an insider): the signature is valid for the change."
            if signed
            else " the signature is the original one (an outsider has no key)."
        )
    return f'<p class="jl-tamper-what">{done}</p>'


def _parse_value(raw: str) -> Any:
    """The tamper lab's free-text box: JSON, or a bare word as a string."""
    raw = raw.strip()
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def tamper_lab(
    token: str,
    validate: Validate,
    resign: Resign | None = None,
    values: Mapping[str, Sequence[Any]] | None = None,
) -> Lab:
    """Pick a header member or a claim and its new value (or remove it), see which check fails.

    ``resign(header, claims)`` lets the reader play an insider who holds the signing key. The values
    offered for each member are :func:`tamper_choices`, after those in ``values`` (by target, e.g.
    ``{"claims.aud": ["https://payments.bank.example"]}``); any other value can be typed as JSON in
    a running notebook. On the static site every offered choice, with and without re-signing,
    answers with the result computed when the notebook ran."""
    parsed = parse_jws(token)
    current: dict[str, Any] = {f"header.{k}": v for k, v in parsed.header.items()}
    current.update({t: REMOVE for t in ADDED_HEADER_TARGETS if t not in current})
    if not parsed.detached:
        current.update({f"claims.{k}": v for k, v in parsed.claims().items()})
    current["signature"] = None
    extra = dict(values or {})
    unknown = set(extra) - set(current)
    if unknown:
        raise ValueError(f"tamper_lab values for targets the token does not offer: {sorted(unknown)}")
    choices = {t: tamper_choices(t, cur, extra.get(t, ())) for t, cur in current.items()}

    target = _label_width(w.Dropdown(options=list(choices), value="signature", description="change"))
    to = _label_width(w.Dropdown(description="to", layout=w.Layout(width="auto")))
    custom = w.Text(value="", placeholder="a JSON value, or a bare word", disabled=True)
    insider = w.Checkbox(
        value=False,
        description="re-sign with the issuer's key (an insider)",
        disabled=True,
        indent=False,
        layout=w.Layout(width="auto"),
    )
    out = w.HTML()
    lab = Lab(
        "Tamper lab",
        "tamper",
        [w.HBox([target, to], layout=w.Layout(flex_flow="row wrap")), custom, insider, out],
        controls={"target": target, "value": to, "custom": custom, "resign": insider},
        output=out,
    )

    def value_options(t: str) -> list[str]:
        return [label for label, _ in choices[t]] + ([] if t == "signature" else [CUSTOM])

    def answer(t: str, label: str, raw: str, signed: bool) -> tuple[Trace | None, str]:
        value = _parse_value(raw) if label == CUSTOM else dict(choices[t])[label]
        what = _what_changed(t, label, value, signed)
        try:
            forged = tamper(token, t, value, resign if signed else None)
        except (JoselabError, ValueError, TypeError) as exc:  # e.g. an alg the insider's key cannot sign
            return None, what + "<p>No token to validate: the change could not be made.</p>" + _error_html(exc)
        trace, shown = _validation_html(forged, validate)
        return trace, what + shown

    busy = False

    def update(_: Any = None) -> None:
        if busy:
            return
        custom.disabled = to.value != CUSTOM
        if to.value == CUSTOM and not custom.value.strip():
            lab.trace, out.value = None, "<em>type a JSON value in the box</em>"
            return
        lab.trace, out.value = answer(target.value, to.value, custom.value, insider.value)

    def retarget(_: Any = None) -> None:
        # A new member starts from its first offered value, never the last member's.
        nonlocal busy
        busy = True
        try:
            to.options = value_options(target.value)
            to.value = to.options[0]
            custom.value = ""
            # Re-signing a flipped signature would undo the flip: only a member's change is re-signed.
            insider.disabled = resign is None or target.value == "signature"
            if insider.disabled:
                insider.value = False
        finally:
            busy = False
        update()

    target.observe(retarget, "value")
    for control in (to, custom, insider):
        control.observe(update, "value")
    retarget()

    saved = _Answers(["target", "value", "resign"])
    for t, offered in choices.items():
        for label, _ in offered:
            for signed in (False, True) if resign is not None and t != "signature" else (False,):
                saved.add([t, label, signed], answer(t, label, "", signed)[1])
    lab.static_answers = saved.export(
        options={"value": {"from": "target", "by": {t: [label for label, _ in offered] for t, offered in choices.items()}}},
        disabled_when={"resign": {"from": "target", "labels": ["signature"] if resign is not None else list(choices)}},
        kernel_only=["custom"],
        note=_site_note("pick a member, its new value, and whether to re-sign", "Typing a value of your own"),
        missing="",
    )
    return lab


# -- the clock lab ---------------------------------------------------------------------------------
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
    it for a token whose times are elsewhere (a detached JWS with its signing time in the header).
    On the static site every position of the slider answers with the result computed when the
    notebook ran."""
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
    lab = Lab("Clock", "clock", [slider, legend, out], controls={"now": slider}, output=out)

    def answer(offset: int) -> tuple[Trace | None, str]:
        heading = f"<p>now = {html.escape(base_name)} + {offset} s</p>"
        try:
            trace = validate_at(FixedClock(base + offset))
        except JoselabError as exc:
            return None, heading + _error_html(exc)
        return trace, heading + trace._repr_html_()

    def update(_: Any = None) -> None:
        lab.trace, out.value = answer(slider.value)

    slider.observe(update, "value")
    update()
    saved = _Answers(["now"])
    for offset in range(slider.min, slider.max + 1, step):
        saved.add([offset], answer(offset)[1])
    lab.static_answers = saved.export(kernel_only=[], note=_site_note("move the slider"), missing="")
    return lab


# -- helpers for the labs --------------------------------------------------------------------------
@contextmanager
def fresh_replay_store(table: str = "seen_jti", directory: str | Path | None = None) -> Iterator[ReplayStore]:
    """A replay store no one has used yet: an empty table in a real sqlite file, emptied again when
    the block ends.

    For a lab that validates one token again and again: each try is then the store's first sight of
    the token, as it was for the validator the first time. The replay row still runs and passes. The
    tries of one process share one sqlite file (under ``directory``, by default the system's
    temporary folder): a new file for every try cost more than the validation (creating, flushing
    and deleting a file), and a lab makes a hundred tries. A try takes a table no other try is using
    (tries may nest) and empties it when it ends, for the next one: emptying a table costs a quarter
    of creating and dropping one. The file is removed when the process ends."""
    db = _lab_database(directory)
    free = _LAB_FREE_TABLES.setdefault((str(directory) if directory is not None else "", table), [])
    name = free.pop() if free else f"{table}_{next(_LAB_TABLES)}"
    try:
        yield ReplayStore(db, name)
    finally:
        db.execute(f"DELETE FROM {name}")
        free.append(name)


_LAB_TABLES = itertools.count(1)
#: Emptied tables, by directory and table prefix, ready for the next try.
_LAB_FREE_TABLES: dict[tuple[str, str], list[str]] = {}
_LAB_DATABASES: dict[str, tuple[Database, str]] = {}


def _lab_database(directory: str | Path | None) -> Database:
    where = str(directory) if directory is not None else ""
    found = _LAB_DATABASES.get(where)
    if found is None:
        folder = tempfile.mkdtemp(prefix="joselab-lab-", dir=directory)
        found = _LAB_DATABASES[where] = (Database(Path(folder) / "lab.sqlite"), folder)
    return found[0]


@atexit.register
def _remove_lab_databases() -> None:
    for db, folder in _LAB_DATABASES.values():
        db.close()
        shutil.rmtree(folder, ignore_errors=True)
    _LAB_DATABASES.clear()
    _LAB_FREE_TABLES.clear()


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


# -- the algorithm chooser -------------------------------------------------------------------------
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
    """Sign ``claims`` with each algorithm's demo key; the token, its size and median sign / verify
    times."""
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
                "token": token,
                "token characters": len(token),
                "signature bytes": len(b64url_decode(token.rsplit(".", 1)[1])),
                "sign": measure(lambda key=key, header=header: sign_compact(claims, key.jwk, header), repeat),
                "verify": measure(verify, repeat),
            }
        )
    return rows


def _verified_view(token: str) -> str:
    view = TokenView(token)
    assert view.unverified is not None
    view.unverified = dataclasses.replace(view.unverified, warning="signed here, and verified with that key before it was timed")
    return view._repr_html_()


_CHOSEN = ' class="jl-chosen" style="font-weight:bold"'


def _fmt(seconds: float) -> str:
    return f"{seconds * 1e3:.3f} ms"


def algorithm_chooser(claims: Mapping[str, Any], algorithms: Mapping[str, str] = ALGORITHM_KEYS, repeat: int = 30) -> Lab:
    """Sign the same claims with each algorithm; pick one to see its token beside the others' sizes
    and times (measured once, in the kernel that ran the notebook; on the static site, the build's)."""
    rows = {row["alg"]: row for row in algorithm_table(claims, algorithms, repeat)}
    pick = _label_width(w.ToggleButtons(options=list(rows), description="algorithm"))
    out = w.HTML()
    lab = Lab("Algorithm chooser", "algorithms", [pick, out], controls={"algorithm": pick}, output=out)
    head = "".join(f"<th>{h}</th>" for h in ("alg", "token characters", "signature bytes", "sign (median)", "verify (median)"))

    def answer(alg: str) -> str:
        chosen = rows[alg]
        body = "".join(
            f"<tr{_CHOSEN if r is chosen else ''}><td>{r['alg']}</td>"
            f"<td>{r['token characters']}</td><td>{r['signature bytes']}</td>"
            f"<td>{_fmt(r['sign'])}</td><td>{_fmt(r['verify'])}</td></tr>"
            for r in rows.values()
        )
        return (
            f'<p class="jl-algorithm"><strong>{html.escape(alg)}</strong> with {html.escape(chosen["key"])}: '
            f"{chosen['token characters']} characters, a signature of {chosen['signature bytes']} bytes.</p>"
            + _verified_view(chosen["token"])
            + f'<table class="jl-trace-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
        )

    def update(_: Any = None) -> None:
        out.value = answer(pick.value)

    pick.observe(update, "value")
    update()
    saved = _Answers(["algorithm"])
    for alg in rows:
        saved.add([alg], answer(alg))
    lab.static_answers = saved.export(
        kernel_only=[], note=_site_note("pick an algorithm (timed when the page was built)"), missing=""
    )
    return lab
