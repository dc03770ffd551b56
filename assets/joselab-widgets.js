// Loaded before require.js and the ipywidgets manager (embed-amd.js) on pages with widgets.
// The manager's bundled modules compute where their fonts are from their RequireJS module URIs,
// which default to paths relative to the page. Map those module ids onto the site's own copy in
// _static/vendor/html-manager, so every font comes from this site, never a CDN or a 404.
(function () {
  var here = new URL("html-manager", document.currentScript.src).href;
  var paths = { "@jupyter-widgets/html-manager/dist": here };
  ["base", "base7", "controls", "controls7", "output", "html-manager"].forEach(function (name) {
    paths["@jupyter-widgets/" + name] = here + "/" + name;
  });
  window.require = { paths: paths }; // RequireJS reads a global `require` object as its config
  window.__jupyter_widgets_assets_path__ = here + "/";
})();
