// Draws the site's Mermaid diagrams with Mermaid's classic build (no ES module, so it works from
// file:// as well as over HTTP), at their natural size: a diagram wider than the page scrolls inside
// its own box (joselab.css) instead of being shrunk to unreadable labels. Redrawn when the reader
// switches the theme (the pydata theme's html[data-theme], or the system's colour scheme).
(function () {
  "use strict";
  var drawnDark = null;
  var busy = Promise.resolve();

  function isDark() {
    var theme = document.documentElement.getAttribute("data-theme");
    if (theme === "dark" || theme === "light") return theme === "dark";
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  }

  function draw() {
    var dark = isDark();
    if (dark === drawnDark || typeof window.mermaid === "undefined") return busy;
    drawnDark = dark;
    var nodes = Array.prototype.slice.call(document.querySelectorAll("pre.mermaid, div.mermaid"));
    nodes.forEach(function (el) {
      if (!el.hasAttribute("data-source")) el.setAttribute("data-source", el.innerHTML);
      el.removeAttribute("data-processed");
      el.innerHTML = el.getAttribute("data-source");
    });
    window.mermaid.initialize({
      startOnLoad: false,
      securityLevel: "strict",
      theme: dark ? "dark" : "default",
      darkMode: dark,
      // Natural size: labels keep their font size (16 px messages, 14 px actors and notes).
      sequence: { useMaxWidth: false, actorMargin: 30, width: 170, wrap: true, mirrorActors: false },
      flowchart: { useMaxWidth: false },
    });
    busy = busy.then(function () {
      return window.mermaid.run({ nodes: nodes });
    }).then(function () {
      // Which theme the diagrams were last drawn in (the browser tests wait for it).
      document.documentElement.setAttribute("data-jl-mermaid", dark ? "dark" : "light");
    }).catch(function (err) {
      console.error("Mermaid could not draw a diagram:", err);
    });
    return busy;
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
  new MutationObserver(draw).observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
  if (window.matchMedia) window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", draw);
})();
