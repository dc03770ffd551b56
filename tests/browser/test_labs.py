"""The labs on the static site answer with no kernel: over HTTP and from file://, a changed choice in
each lab shows the answer saved for it when the notebook ran, with no console error.

The expected answer is read from the page's own saved widget state (what the notebook computed for
that choice; tests/test_widgets.py shows each saved answer is what the live lab shows); a few
choices are also checked against what the chapter's text says they show."""

from __future__ import annotations

import html
import json
import re

import pytest

from .conftest import SITE, last_verdict

LAB_PAGES = [
    f"notebooks/{name}.html" for name in ("00_anatomy", "01_registration", "02_access_token", "03_id_token", "04_message")
]


def _page(browser, url: str):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(f"{msg.text} @ {msg.location.get('url', '')}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url, wait_until="networkidle")
    page.wait_for_function("window.joselabLabsReady > 0", timeout=20_000)
    return page, errors


def _lab_errors(errors: list[str]) -> list[str]:
    """Console errors, but Mermaid's: drawing diagrams (also from file://) is checked by test_site.py."""
    return [e for e in errors if "mermaid" not in e.lower()]


def _saved_labs(page) -> list[dict]:
    """Each lab's saved answers, from the page's widget state, in page order."""
    state = json.loads(page.locator('script[type="application/vnd.jupyter.widget-state+json"]').first.inner_text())["state"]
    views = page.locator('script[type="application/vnd.jupyter.widget-view+json"]').all_inner_texts()
    labs = []
    for view in views:
        model = state[json.loads(view)["model_id"]]["state"]
        if "jl-lab" in model.get("_dom_classes", []):
            labs.append(model["static_answers"])
    return labs


def _expected(saved: dict, values: list) -> str:
    ids = saved["answers"][json.dumps(values, ensure_ascii=False, separators=(",", ":"))]
    text = html.unescape(re.sub(r"<style>.*?</style>|<[^>]+>", " ", "".join(saved["pieces"][i] for i in ids), flags=re.S))
    return last_verdict(text)


def _shown(lab) -> str:
    text = lab.locator(".jl-out").inner_text()
    return last_verdict(text) or text[:300]


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())


def _wait_for(page, lab, expected: str) -> None:
    for _ in range(50):
        if _same(_shown(lab), expected):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"shows {_shown(lab)!r}, expected {expected!r}")


def _use_labs(page) -> list[str]:
    """Change one choice in every lab on the page; return the kinds used."""
    saved = _saved_labs(page)
    labs = page.locator(".jl-lab")
    assert labs.count() == len(saved) > 0
    used = []
    for i, answers in enumerate(saved):
        lab = labs.nth(i)
        lab.scroll_into_view_if_needed()
        assert "jl-static" in lab.get_attribute("class")
        assert "computed when the page was built" in lab.locator(".jl-note").inner_text()
        kind = next(c for c in lab.get_attribute("class").split() if c.startswith("jl-lab-"))
        for name in answers["kernel_only"]:  # free text needs a kernel: disabled, and says so
            box = lab.locator(f".jl-c-{name} input, .jl-c-{name} textarea")
            assert box.is_disabled() and "running notebook" in box.get_attribute("placeholder")
        if kind == "jl-lab-inspector":
            select = lab.locator(".jl-c-validator select")
            options = select.locator("option").all_inner_texts()
            if len(options) > 1:  # with one validator, only the (disabled) text box could change
                select.select_option(index=1)
                _wait_for(page, lab, _expected(answers, [options[1].replace("\xa0", " ")]))
        elif kind == "jl-lab-tamper":
            by = answers["options"]["value"]["by"]
            target = next(t for t in by if t.startswith("claims.")) if any(t.startswith("claims.") for t in by) else "header.typ"
            lab.locator(".jl-c-target select").select_option(label=target)
            shown_options = [o.replace("\xa0", " ") for o in lab.locator(".jl-c-value select option").all_inner_texts()]
            assert shown_options == by[target]  # the values follow the member, and start afresh
            _wait_for(page, lab, _expected(answers, [target, by[target][0], False]))
            lab.locator(".jl-c-resign input").check()
            _wait_for(page, lab, _expected(answers, [target, by[target][0], True]))
            lab.locator(".jl-c-value select").select_option(label=by[target][-1])
            _wait_for(page, lab, _expected(answers, [target, by[target][-1], True]))
            lab.locator(".jl-c-target select").select_option(label="signature")
            assert lab.locator(".jl-c-resign input").is_disabled()
            _wait_for(page, lab, _expected(answers, ["signature", by["signature"][0], False]))
        elif kind == "jl-lab-clock":
            positions = sorted(json.loads(key)[0] for key in answers["answers"])
            readout = lab.locator(".widget-readout")
            readout.click()
            page.keyboard.press("Control+A")
            page.keyboard.type(str(positions[-1]))
            page.keyboard.press("Enter")
            _wait_for(page, lab, _expected(answers, [positions[-1]]))
        elif kind == "jl-lab-algorithms":
            buttons = lab.locator(".jl-c-algorithm button")
            buttons.nth(buttons.count() - 1).click()
            name = buttons.nth(buttons.count() - 1).inner_text().strip()
            for _ in range(50):
                if lab.locator(".jl-out .jl-algorithm strong").inner_text() == name:
                    break
                page.wait_for_timeout(100)
            assert lab.locator(".jl-out .jl-algorithm strong").inner_text() == name
        used.append(kind)
    return used


@pytest.mark.parametrize("path", LAB_PAGES)
def test_labs_answer_over_http(browser, site_url, path):
    page, errors = _page(browser, f"{site_url}/{path}")
    used = _use_labs(page)
    assert {"jl-lab-inspector", "jl-lab-tamper"} <= set(used)
    assert _lab_errors(errors) == []
    page.close()


@pytest.mark.parametrize("path", ["notebooks/00_anatomy.html", "notebooks/02_access_token.html"])
def test_labs_answer_from_file(browser, path):
    page, errors = _page(browser, (SITE / path).as_uri())
    _use_labs(page)
    assert _lab_errors(errors) == []
    page.close()


def test_the_answers_are_the_ones_the_chapter_describes(browser, site_url):
    """Chapter 2's text: an insider's aud change is caught at RFC 9068 §4 (4), and the token is
    refused from 60 s after exp at (6)."""
    page, errors = _page(browser, f"{site_url}/notebooks/02_access_token.html")
    tamper = page.locator(".jl-lab-tamper")
    tamper.scroll_into_view_if_needed()
    tamper.locator(".jl-c-target select").select_option(label="claims.aud")
    tamper.locator(".jl-c-value select").select_option(label='"https://payments.bank.example"')
    tamper.locator(".jl-c-resign input").check()
    page.wait_for_timeout(300)
    assert _shown(tamper).startswith("REJECTED at RFC 9068 §4 (4)")
    clock = page.locator(".jl-lab-clock")
    clock.scroll_into_view_if_needed()
    clock.locator(".widget-readout").click()
    page.keyboard.press("Control+A")
    page.keyboard.type("360")  # iat + 360 s = exp + 60 s: the leeway is used up
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)
    assert _shown(clock).startswith("REJECTED at RFC 9068 §4 (6)")
    assert "now = iat + 360 s" in clock.locator(".jl-out").inner_text()
    assert _lab_errors(errors) == []
    page.close()
