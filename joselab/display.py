"""Showing tokens in a notebook: coloured segments, and the decoded parts beside them.

``TokenView(token)`` renders as HTML in Jupyter (and on the book's pages) and as plain text elsewhere.
The decoded header and payload are labelled UNVERIFIED: displaying a token is not validating it.
"""

from __future__ import annotations

import html
import json
from typing import Any

from .compact import CompactJWE, decode_unverified, parse
from .errors import JoselabError

#: One colour per part; a JWS has three parts (RFC 7515 §7.1), a JWE five (RFC 7516 §7.1).
JWS_PARTS = (("protected header", "#d63aff"), ("payload", "#0a7d8c"), ("signature", "#e05d00"))
JWE_PARTS = (
    ("protected header", "#d63aff"),
    ("encrypted key", "#b8860b"),
    ("initialization vector", "#2e7d32"),
    ("ciphertext", "#0a7d8c"),
    ("authentication tag", "#e05d00"),
)


def _pretty(value: Any) -> str:
    if isinstance(value, bytes):
        return repr(value)
    return json.dumps(value, indent=2, ensure_ascii=False)


class TokenView:
    """A compact JWS or JWE, ready to display. Malformed input is shown with joselab's error."""

    def __init__(self, token: str, title: str = "") -> None:
        # Anything that is not a string is shown as its repr, next to the parse error, never a TypeError.
        self.token = token if isinstance(token, str) else repr(token)
        self.title = title
        try:
            self.unverified = decode_unverified(token)
            self.error: JoselabError | None = None
        except JoselabError as exc:
            self.unverified = None
            self.error = exc

    @property
    def parts(self) -> list[tuple[str, str, str, bool]]:
        """(name, colour, text, randomized) for each part. A part is randomized when the same input
        gives other bytes on every run: an ECDSA or RSASSA-PSS signature, and every JWE part after the
        header (a fresh content key and IV each time)."""
        segments = self.token.split(".")
        if len(segments) == 5:
            return [(n, c, s, i > 0) for i, ((n, c), s) in enumerate(zip(JWE_PARTS, segments, strict=False))]
        header = self.unverified.header if self.unverified is not None else {}
        alg = header.get("alg") if isinstance(header.get("alg"), str) else ""
        random_sig = alg[:2] in ("ES", "PS")
        return [(n, c, s, random_sig and n == "signature") for (n, c), s in zip(JWS_PARTS, segments, strict=False)]

    def __str__(self) -> str:
        lines = [self.title] if self.title else []
        if self.error is not None:
            return "\n".join([*lines, self.token, f"not a well-formed token: {self.error}"])
        assert self.unverified is not None
        lines.append(f"{self.unverified.kind}, {len(self.parts)} parts, {len(self.token)} characters")
        for name, _, text, randomized in self.parts:
            label = name + (" (randomized)" if randomized else "")
            lines.append(f"  {label:<35} {text if len(text) <= 60 else text[:57] + '...'}")
        lines.append(f"header ({self.unverified.warning}):")
        lines.append(_pretty(self.unverified.header))
        if self.unverified.payload is not None:
            lines.append("payload (UNVERIFIED):")
            lines.append(_pretty(self.unverified.payload))
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        spans = '<span style="color:#888">.</span>'.join(
            f'<span class="jl-part" title="{html.escape(n)}" data-randomized="{str(r).lower()}" style="color:{c}">'
            f"{html.escape(t)}</span>"
            for n, c, t, r in self.parts
        )
        legend = " ".join(f'<span style="color:{c}">■ {html.escape(n)}</span>' for n, c, _, _ in self.parts)
        title = f"<strong>{html.escape(self.title)}</strong><br>" if self.title else ""
        body = (
            f'<div class="jl-token" style="font-family:monospace;word-break:break-all;font-size:90%">{spans}</div>'
            f'<div style="font-size:85%">{legend}</div>'
        )
        if self.error is not None:
            return f'<div class="jl-tokenview">{title}{body}<p><strong>not a well-formed token:</strong> {html.escape(str(self.error))}</p></div>'
        assert self.unverified is not None
        cols = [("header", self.unverified.header)]
        if self.unverified.payload is not None:
            cols.append(("payload", self.unverified.payload))
        colour = dict((n, c) for n, c in JWS_PARTS)
        cells = "".join(
            f'<div style="flex:1;min-width:16em"><div style="color:{colour["protected header" if name == "header" else name]}">'
            f'<strong>{name}</strong></div><pre style="margin:0">{html.escape(_pretty(value))}</pre></div>'
            for name, value in cols
        )
        return (
            f'<div class="jl-tokenview">{title}{body}'
            f'<div style="display:flex;gap:1em;flex-wrap:wrap;margin-top:.5em">{cells}</div>'
            f'<div style="font-size:85%;color:#a15c00">⚠ {html.escape(self.unverified.warning)}</div></div>'
        )


def show(token: str, title: str = "") -> TokenView:
    """Display a token: ``show(token)`` as the last line of a cell."""
    return TokenView(token, title)


def is_jwe(token: str) -> bool:
    try:
        return isinstance(parse(token), CompactJWE)
    except JoselabError:
        return False
