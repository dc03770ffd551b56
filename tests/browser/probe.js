// What a reader of one page notices, measured in one pass (tests/browser/test_reading.py runs it
// through page.evaluate). Returns plain JSON:
//   diagrams: how many Mermaid blocks the page has, how many are drawn (hold an <svg>), and the
//             smallest label on screen in CSS px (font size times the SVG's scale on screen);
//   clipped:  blocks whose content is wider than their box and that the reader cannot scroll
//             (no visible horizontal scrollbar on them or on a scrolling ancestor);
//   pageOverflow: how far the page itself is wider than the window (the phone's sideways scroll);
//   offRight: what is drawn past the window's right edge, outside any box of the content (the
//             theme clips the page there, so it is cut off, not scrolled to);
//   lowContrast: text under 4.5:1 (WCAG 2.x AA, normal text) against the colour behind it, split
//             into table cells and the text of tokens, traces and widgets.
() => {
  const px = (v) => parseFloat(v) || 0;
  const visible = (el) => {
    if (!el.getClientRects().length) return false;
    const s = getComputedStyle(el);
    return s.visibility !== "hidden" && s.display !== "none";
  };
  const describe = (el) => {
    const id = el.id ? `#${el.id}` : "";
    const cls = typeof el.className === "string" && el.className ? `.${el.className.trim().split(/\s+/).slice(0, 2).join(".")}` : "";
    const text = (el.textContent || "").trim().replace(/\s+/g, " ").slice(0, 60);
    return `${el.tagName.toLowerCase()}${id}${cls} "${text}"`;
  };

  // -- diagrams ---------------------------------------------------------------------------------
  const blocks = [...document.querySelectorAll("pre.mermaid, div.mermaid")];
  let minLabel = null;
  let smallest = "";
  for (const svg of document.querySelectorAll(".mermaid svg")) {
    for (const t of svg.querySelectorAll("text, foreignObject span, foreignObject div, foreignObject p")) {
      if (!t.textContent.trim() || !visible(t)) continue;
      if (t.tagName.toLowerCase() !== "text" && [...t.children].some((c) => c.textContent.trim())) continue;
      const graphic = t.closest("text, foreignObject");
      const ctm = graphic && graphic.getScreenCTM();
      if (!ctm) continue;
      const size = px(getComputedStyle(t).fontSize) * Math.hypot(ctm.a, ctm.b);
      if (minLabel === null || size < minLabel) {
        minLabel = size;
        smallest = t.textContent.trim().slice(0, 40);
      }
    }
  }
  const diagrams = {
    count: blocks.length,
    drawn: blocks.filter((b) => b.querySelector("svg") && b.querySelector("svg").getBoundingClientRect().height > 20).length,
    minLabel: minLabel === null ? null : Math.round(minLabel * 10) / 10,
    smallest,
  };

  // -- clipped blocks ---------------------------------------------------------------------------
  // A scroll box the reader sees: it scrolls sideways, its scrollbar is drawn (the browser runs
  // without --hide-scrollbars), and the site styles that scrollbar (scrollbar-color), which keeps it
  // drawn where scrollbars are otherwise overlays that appear only while scrolling (phones, macOS).
  const hScrollbar = (el) => {
    const s = getComputedStyle(el);
    if (!["auto", "scroll"].includes(s.overflowX)) return false;
    const bar = el.offsetHeight - el.clientHeight - px(s.borderTopWidth) - px(s.borderBottomWidth);
    return bar >= 4 && el.scrollWidth > el.clientWidth + 1 && s.scrollbarColor !== "auto" && s.scrollbarColor !== "";
  };
  const candidates = document.querySelectorAll(
    "article pre, article table, article .cell_output, article .output, article .jl-trace, article .jl-tokenview," +
      " article .jl-token, article .jupyter-widgets, article .mermaid, article .highlight, article .math, article dl, article p, article li"
  );
  const clipped = [];
  for (const el of candidates) {
    if (!visible(el) || el.closest("details:not([open])")) continue;
    if (el.scrollWidth <= el.clientWidth + 1) continue;
    if (hScrollbar(el)) continue;
    let reachable = false;
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      if (hScrollbar(a)) {
        reachable = true;
        break;
      }
    }
    if (!reachable) clipped.push(describe(el));
  }
  const root = document.scrollingElement;
  const pageOverflow = Math.max(0, root.scrollWidth - root.clientWidth);

  // -- past the right edge ----------------------------------------------------------------------
  // The page, its footer and their icons, outside the off-canvas sidebars: anything whose right edge
  // is past the window's and that no scroll box of the content holds (a box that clips without
  // scrolling, as the theme's footer links do, cuts it off just the same).
  const main = document.querySelector(".bd-main") || document.body;
  const edge = document.documentElement.clientWidth; // the window less its scrollbar, if one is drawn
  const offRight = [];
  for (const el of main.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    if (!box.width || box.right <= edge + 1) continue;
    if (el.closest(".bd-sidebar-primary, .bd-sidebar-secondary, details:not([open])") || !visible(el)) continue;
    let held = false;
    for (let a = el.parentElement; a && a !== main; a = a.parentElement) {
      if (["auto", "scroll"].includes(getComputedStyle(a).overflowX)) {
        held = true;
        break;
      }
    }
    if (!held) offRight.push(`${describe(el)} right=${Math.round(box.right)}`);
  }

  // -- contrast ---------------------------------------------------------------------------------
  const parse = (c) => {
    const m = c.match(/rgba?\(([^)]+)\)/);
    if (!m) {
      const o = c.match(/color\(srgb ([^)]+)\)/);
      if (!o) return null;
      const [r, g, b, a] = o[1].replace("/", " ").split(/\s+/).filter(Boolean).map(Number);
      return [r * 255, g * 255, b * 255, a === undefined || Number.isNaN(a) ? 1 : a];
    }
    const p = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, bottom) => {
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + bottom[i] * (1 - a)).concat(1);
  };
  const backgrounds = new Map();
  const background = (el) => {
    if (backgrounds.has(el)) return backgrounds.get(el);
    const bg = backgroundOf(el);
    backgrounds.set(el, bg);
    return bg;
  };
  const backgroundOf = (el) => {
    const layers = [];
    for (let a = el; a; a = a.parentElement) {
      const c = parse(getComputedStyle(a).backgroundColor);
      if (c && c[3] > 0) {
        layers.push(c);
        if (c[3] >= 1) break;
      }
    }
    let bg = parse(getComputedStyle(document.documentElement).backgroundColor);
    if (!bg || bg[3] < 1) bg = [255, 255, 255, 1];
    if (layers.length && layers[layers.length - 1][3] >= 1) bg = layers.pop();
    while (layers.length) bg = over(layers.pop(), bg);
    return bg;
  };
  const lum = (c) => {
    const ch = c.slice(0, 3).map((v) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * ch[0] + 0.7152 * ch[1] + 0.0722 * ch[2];
  };
  const ratio = (a, b) => {
    const [l1, l2] = [lum(a), lum(b)].sort((x, y) => y - x);
    return (l1 + 0.05) / (l2 + 0.05);
  };
  const cells = new Set();
  const lowCells = new Set();
  const lowText = [];
  let minRatio = null;
  const TEXT = ".jl-token, .jl-tokenview, .jl-trace, .jupyter-widgets, .jl-lab";
  const walker = document.createTreeWalker(document.querySelector("article") || document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!n.textContent.trim()) continue;
    const el = n.parentElement;
    if (!el || seen.has(el)) continue;
    seen.add(el);
    const cell = el.closest("td, th");
    const inToken = el.closest(TEXT);
    if (!cell && !inToken) continue;
    if (!visible(el) || el.closest("details:not([open])") || el.closest(".mermaid")) continue;
    if (cell) cells.add(cell);
    const bg = background(el);
    const fg = parse(getComputedStyle(el).color);
    if (!fg) continue;
    const r = ratio(over(fg, bg), bg);
    if (minRatio === null || r < minRatio) minRatio = r;
    if (r < 4.5) {
      if (cell) lowCells.add(cell);
      else lowText.push(`${describe(el)} ${r.toFixed(2)}:1`);
    }
  }
  return {
    diagrams,
    clipped: clipped.length,
    clippedBlocks: clipped.slice(0, 12),
    pageOverflow,
    offRight: offRight.length,
    offRightSamples: offRight.slice(0, 6),
    cells: cells.size,
    lowContrastCells: lowCells.size,
    lowContrastCellSamples: [...lowCells].slice(0, 6).map(describe),
    lowContrastText: lowText.length,
    lowContrastTextSamples: lowText.slice(0, 6),
    minRatio: minRatio === null ? null : Math.round(minRatio * 100) / 100,
    theme: document.documentElement.dataset.theme || "",
  };
};
