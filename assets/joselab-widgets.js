// Loaded before require.js and the ipywidgets manager (embed-amd.js) on pages with widgets.
//
// 1. Fonts. The manager's bundled modules compute where their fonts are from their RequireJS module
//    URIs, which default to paths relative to the page. Map those module ids onto the site's own copy
//    in _static/vendor/html-manager, so every font comes from this site, never a CDN or a 404.
// 2. Labs that answer with no kernel. joselab's labs (joselab/widgets.py) save, with their widget
//    state, the answer to each combination of their finite choices (`static_answers` on the lab's
//    model). Once the manager has restored the saved state, this script listens to each lab's
//    controls and shows the saved answer to the reader's choice; it disables the controls that need a
//    kernel (free text) and replaces the lab's note with one that says so. It changes the widget
//    models only, so the manager's own views draw every change.
(function () {
  "use strict";
  var here = new URL("html-manager", document.currentScript.src).href;
  var paths = { "@jupyter-widgets/html-manager/dist": here };
  ["base", "base7", "controls", "controls7", "output", "html-manager"].forEach(function (name) {
    paths["@jupyter-widgets/" + name] = here + "/" + name;
  });
  window.require = { paths: paths }; // RequireJS reads a global `require` object as its config
  window.__jupyter_widgets_assets_path__ = here + "/";

  function classes(model) {
    return model.get("_dom_classes") || [];
  }

  // Every model under `model` (a lab is a VBox of HTML, boxes and controls), depth first.
  function descendants(model, found) {
    found = found || [];
    (model.get("children") || []).forEach(function (child) {
      if (child && typeof child.get === "function") {
        found.push(child);
        descendants(child, found);
      }
    });
    return found;
  }

  // What a control's value is in the lab's answer keys: a selection's label, else its value.
  function read(model) {
    var labels = model.get("_options_labels");
    if (labels !== undefined) {
      var index = model.get("index");
      return index === null || index === undefined ? null : labels[index];
    }
    return model.get("value");
  }

  function wire(lab) {
    var data = lab.get("static_answers");
    if (!data || !data.keys || !data.answers) {
      return;
    }
    var named = {};
    var out = null;
    var note = null;
    descendants(lab).forEach(function (model) {
      classes(model).forEach(function (name) {
        if (name.indexOf("jl-c-") === 0) {
          named[name.slice(5)] = model;
        } else if (name === "jl-out") {
          out = model;
        } else if (name === "jl-note") {
          note = model;
        }
      });
    });
    if (out === null) {
      return;
    }
    (data.kernel_only || []).forEach(function (name) {
      if (named[name]) {
        named[name].set({ disabled: true, placeholder: "needs a running notebook (make lab)" });
        named[name].set("tooltip", "needs a running notebook (make lab)");
      }
    });
    if (note !== null && data.note) {
      note.set("value", data.note);
    }
    lab.set("_dom_classes", classes(lab).concat(["jl-static"]));

    // A control whose options follow another's value (the tamper lab's values follow its member).
    function followOptions(name, keepCurrent) {
      var rule = data.options[name];
      var model = named[name];
      var source = named[rule.from];
      if (!model || !source) {
        return;
      }
      var labels = rule.by[read(source)] || [];
      var current = read(model);
      var index = keepCurrent ? labels.indexOf(current) : -1;
      model.set({ _options_labels: labels, index: index < 0 ? (labels.length ? 0 : null) : index });
    }

    // A control disabled (and unticked) while another shows one of some labels.
    function followDisabled(name) {
      var rule = data.disabled_when[name];
      var model = named[name];
      var source = named[rule.from];
      if (!model || !source) {
        return;
      }
      var off = rule.labels.indexOf(read(source)) >= 0;
      model.set(off ? { disabled: true, value: false } : { disabled: false });
    }

    var showing = false;
    function show() {
      if (showing) {
        return;
      }
      showing = true;
      try {
        var key = JSON.stringify(
          data.keys.map(function (name) {
            return named[name] ? read(named[name]) : null;
          })
        );
        var ids = data.answers[key];
        out.set(
          "value",
          ids
            ? ids
                .map(function (i) {
                  return data.pieces[i];
                })
                .join("")
            : data.missing || "<p><em>This choice needs a running notebook (make lab).</em></p>"
        );
      } finally {
        showing = false;
      }
    }

    var options = data.options || {};
    var disabledWhen = data.disabled_when || {};
    Object.keys(options).forEach(function (name) {
      followOptions(name, true);
    });
    Object.keys(disabledWhen).forEach(followDisabled);
    data.keys.forEach(function (name) {
      var model = named[name];
      if (!model) {
        return;
      }
      model.on("change:index change:value", function () {
        Object.keys(options).forEach(function (dependent) {
          if (options[dependent].from === name) {
            followOptions(dependent, false);
          }
        });
        Object.keys(disabledWhen).forEach(function (dependent) {
          if (disabledWhen[dependent].from === name) {
            followDisabled(dependent);
          }
        });
        show();
      });
    });
    show();
  }

  function patch(htmlmanager) {
    var proto = htmlmanager.HTMLManager.prototype;
    if (proto.__joselabLabs) {
      return;
    }
    proto.__joselabLabs = true;
    var setState = proto.set_state;
    proto.set_state = function (state) {
      return setState.apply(this, arguments).then(function (models) {
        models.forEach(function (model) {
          if (classes(model).indexOf("jl-lab") >= 0) {
            try {
              wire(model);
            } catch (err) {
              console.warn("joselab: a lab could not be wired for the static page", err);
            }
          }
        });
        window.joselabLabsReady = (window.joselabLabsReady || 0) + 1;
        return models;
      });
    };
  }

  // embed-amd.js defines its modules when it runs, after this script, and renders the saved widgets
  // on the page's load event; DOMContentLoaded comes in between.
  document.addEventListener("DOMContentLoaded", function () {
    if (typeof window.requirejs === "function") {
      window.requirejs(["@jupyter-widgets/html-manager"], patch);
    }
  });
})();
