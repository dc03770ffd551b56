"""Showing tokens in a notebook: coloured segments, and the decoded parts beside them.

``TokenView(token)`` renders as HTML in Jupyter (and on the book's pages) and as plain text elsewhere.
The decoded header and payload are labelled UNVERIFIED: displaying a token is not validating it.
"""

from __future__ import annotations

import html
import json
from typing import Any

from . import theme
from .compact import CompactJWE, decode_unverified, parse
from .errors import JoselabError

#: One colour per part; a JWS has three parts (RFC 7515 §7.1), a JWE five (RFC 7516 §7.1). The colour
#: is the light theme's; :mod:`joselab.theme` switches each to its dark twin on a dark page.
_KIND = {
    "protected header": "header",
    "payload": "body",
    "signature": "tag",
    "encrypted key": "key",
    "initialization vector": "iv",
    "ciphertext": "body",
    "authentication tag": "tag",
}
JWS_PARTS = tuple((name, theme.colour(_KIND[name])) for name in ("protected header", "payload", "signature"))
JWE_PARTS = tuple(
    (name, theme.colour(_KIND[name]))
    for name in ("protected header", "encrypted key", "initialization vector", "ciphertext", "authentication tag")
)


def _coloured(name: str, text: str, **attrs: str) -> str:
    """``text`` in the colour of part ``name``, light inline and dark through the theme's class."""
    kind = _KIND[name]
    extra = "".join(f' {k.replace("_", "-")}="{html.escape(v)}"' for k, v in attrs.items())
    return f'<span class="jl-c-{kind}"{extra} style="color:{theme.colour(kind)}">{text}</span>'


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
        title = f"<strong>{html.escape(self.title)}</strong><br>" if self.title else ""
        token_style = "font-family:monospace;overflow-wrap:anywhere;word-break:break-all;font-size:90%;line-height:1.35"
        if self.error is not None:
            # Not a token: shown as the text it is, without part names it does not have.
            return (
                f'<div class="jl-tokenview">{theme.STYLE}{title}'
                f'<div class="jl-token" style="{token_style}">{html.escape(self.token)}</div>'
                f"<p><strong>not a well-formed token:</strong> {html.escape(str(self.error))}</p></div>"
            )
        muted = theme.colour("muted")
        dot = f'<span class="jl-c-muted" style="color:{muted}">.</span>'
        spans = dot.join(
            f'<span class="jl-part jl-c-{_KIND[n]}" title="{html.escape(n)}" data-randomized="{str(r).lower()}" '
            f'style="color:{theme.colour(_KIND[n])}">{html.escape(t)}</span>'
            for n, _, t, r in self.parts
        )
        legend = " ".join(_coloured(n, f"■ {html.escape(n)}") for n, _, _, _ in self.parts)
        body = f'<div class="jl-token" style="{token_style}">{spans}</div><div style="font-size:85%">{legend}</div>'
        assert self.unverified is not None
        cols = [("protected header", "header", self.unverified.header)]
        if self.unverified.payload is not None:
            cols.append(("payload", "payload", self.unverified.payload))
        cells = "".join(
            f'<div style="flex:1 1 16em;min-width:0">{_coloured(part, f"<strong>{label}</strong>")}'
            f'<pre style="margin:0;white-space:pre-wrap;overflow-wrap:anywhere;color:inherit;background:none">'
            f"{html.escape(_pretty(value))}</pre></div>"
            for part, label, value in cols
        )
        warn = theme.colour("warn")
        return (
            f'<div class="jl-tokenview">{theme.STYLE}{title}{body}'
            f'<div style="display:flex;gap:1em;flex-wrap:wrap;margin-top:.5em">{cells}</div>'
            f'<div class="jl-c-warn" style="font-size:85%;color:{warn}">⚠ {html.escape(self.unverified.warning)}</div></div>'
        )


def show(token: str, title: str = "") -> TokenView:
    """Display a token: ``show(token)`` as the last line of a cell."""
    return TokenView(token, title)


def is_jwe(token: str) -> bool:
    try:
        return isinstance(parse(token), CompactJWE)
    except JoselabError:
        return False
