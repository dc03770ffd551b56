"""Colours for joselab's HTML (tokens, traces), readable on light and dark pages alike (WCAG AA, 4.5:1).

Every element carries its light colour inline, so the HTML reads where styles are stripped. A small
``<style>`` block (:data:`STYLE`, sent with each rendered object) switches to the dark colours when
the page is dark: the book's site (pydata theme, ``html[data-theme=dark]``, which follows the
reader's system setting by default), JupyterLab (``body[data-jp-theme-light=false]``) and VS Code
(``body.vscode-dark``). Text takes the page's own colour; passes and failures are marked by a
translucent tint and a sign (✓/✗), never by a text colour alone.
"""

from __future__ import annotations

#: (light, dark) text colour of each kind of token part; each is at least 4.5:1 on its page.
PALETTE = {
    "header": ("#a11fc7", "#e29bff"),
    "key": ("#7a5c00", "#e0c060"),
    "iv": ("#1e6b24", "#7ad87e"),
    "body": ("#0a6e7a", "#5fd3e0"),
    "tag": ("#9c4000", "#ffa260"),
    "muted": ("#555555", "#b0b0b0"),
    "warn": ("#8a5300", "#ffb454"),
}

#: Row tints (translucent: the page's text stays readable on them in both themes).
PASS_TINT = "rgba(46, 160, 67, 0.15)"
FAIL_TINT = "rgba(248, 81, 73, 0.2)"

_DARK = ("html[data-theme=dark]", "body[data-jp-theme-light=false]", "body.vscode-dark")


def colour(kind: str) -> str:
    """The light colour of ``kind``, for an inline style; :data:`STYLE` supplies the dark one."""
    return PALETTE[kind][0]


def _dark_rules() -> str:
    rules = []
    for kind, (_, dark) in PALETTE.items():
        rules.append(",".join(f"{d} .jl-c-{kind}" for d in _DARK) + f"{{color:{dark}!important}}")
    return "".join(rules)


#: Sent once with each rendered token or trace (a browser applies the same rules once).
STYLE = (
    "<style>"
    ".jl-trace table{border-collapse:collapse;text-align:left;color:inherit}"
    ".jl-trace td,.jl-trace th{padding:2px 8px;vertical-align:top;color:inherit;background-clip:padding-box}"
    ".jl-trace code,.jl-tokenview code{color:inherit;background:none;white-space:pre-wrap;overflow-wrap:anywhere}"
    ".jl-trace details>summary{cursor:pointer}"
    ".jl-tokenview pre{white-space:pre-wrap;overflow-wrap:anywhere;color:inherit;background:none}"
    f"{_dark_rules()}"
    "</style>"
)
