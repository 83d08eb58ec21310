/* Typesets .arithmatex formulas with the vendored MathJax 4, loading it only when a page has math. */
(function () {
  "use strict";

  // Found from this script's own URL, so it works under any STATIC_URL and with hashed file names.
  var vendor = new URL("../vendor/mathjax/", document.currentScript.src).href;
  var loaded = null;
  var queue = Promise.resolve();
  // Prefix for equation anchor ids, so labels in different numbering scopes never share an id.
  var idPrefix = "";
  var resolveReady;

  window.MathJax = {
    loader: {
      // Every component, font and speech file comes from our static files, never from a CDN.
      paths: { mathjax: vendor.slice(0, -1), fonts: vendor + "fonts" },
      load: ["ui/safe", "[tex]/tagformat"],
    },
    tex: {
      inlineMath: [["$", "$"], ["\\(", "\\)"]],
      displayMath: [["$$", "$$"], ["\\[", "\\]"]],
      processEscapes: true,
      processEnvironments: true,
      tags: "ams",
      // ams, newcommand, textmacros, autoload, ... are already in the tex-chtml defaults.
      packages: { "[+]": ["tagformat"] },
      tagformat: {
        id: function (id) {
          return "mjx-eqn:" + idPrefix + id.replace(/\s/g, "_");
        },
      },
    },
    output: { displayOverflow: "scroll" },
    options: {
      ignoreHtmlClass: "mathjax_ignore",
      processHtmlClass: "arithmatex",
    },
    startup: {
      typeset: false,
      pageReady: function () {
        var startup = window.MathJax.startup;
        return startup.defaultPageReady().then(function () {
          resolveReady();
          // SVG output is not vendored: a reader choosing it would break math on every later visit.
          startup.document.menu.menu.findID("Settings", "Renderer", "SVG").disable();
        });
      },
    },
  };

  function load() {
    if (!loaded) {
      loaded = new Promise(function (resolve, reject) {
        resolveReady = resolve;
        var script = document.createElement("script");
        script.src = vendor + "tex-chtml.js";
        script.async = true;
        script.onerror = reject;
        document.head.appendChild(script);
      });
    }
    return loaded;
  }

  // Formulas grouped by numbering scope: the closest [data-math-scope] inside root, else root.
  function scopes(root) {
    var groups = new Map();
    root.querySelectorAll(".arithmatex").forEach(function (element) {
      var scope = element.closest("[data-math-scope]");
      if (!scope || !root.contains(scope)) {
        scope = root;
      }
      if (!groups.has(scope)) {
        groups.set(scope, []);
      }
      groups.get(scope).push(element);
    });
    return groups;
  }

  // Drops math items of root's previous content (and of any content removed from the page).
  function forget(root) {
    var math = window.MathJax.startup.document.math;
    var stale = [];
    for (var item of math) {
      if (!item.start.node.isConnected || root.contains(item.start.node)) {
        stale.push(item);
      }
    }
    math.remove.apply(math, stale);
  }

  // Each scope numbers its equations from (1) and keeps its own \label names.
  function typeset(root) {
    var run = queue.then(load).then(function () {
      if (root !== document) {
        forget(root);
      }
      var chain = Promise.resolve();
      scopes(root).forEach(function (elements, scope) {
        chain = chain.then(function () {
          idPrefix = scope.id ? scope.id + ":" : "";
          window.MathJax.texReset();
          return window.MathJax.typesetPromise(elements);
        });
      });
      return chain;
    });
    queue = run.catch(function (error) {
      console.error("MathJax typesetting failed:", error);
    });
    return run;
  }

  // For previews: typesets element's new content, loading MathJax first if the page had no math.
  window.spacesTypeset = typeset;

  function start() {
    if (document.querySelector(".arithmatex")) {
      typeset(document);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
