// The ipywidgets manager loads its fonts from __jupyter_widgets_assets_path__: point it at the
// site's own copy in _static/vendor/html-manager, never a CDN.
(function () {
  window.__jupyter_widgets_assets_path__ = new URL("html-manager/", document.currentScript.src).href;
})();
