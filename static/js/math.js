/* Typesets .arithmatex formulas with the vendored MathJax 4, loading it only when a page has math. */
(function () {
  "use strict";

  // Found from this script's own URL, so it works under any STATIC_URL and with hashed file names.
  var vendor = new URL("../vendor/mathjax/", document.currentScript.src).href;
  var loaded = null;
  var queue = Promise.resolve();
  // Prefix for equation anchor ids, so labels in different numbering scopes never share an id.
  var idPrefix = "";
  // The article's \label names with their numbers and anchors, for \eqref in comments.
  var articleLabels = {};
  var resolveReady;

  window.MathJax = {
    loader: {
      // Every component and font comes from our static files, never from a CDN.
      paths: { mathjax: vendor.slice(0, -1), fonts: vendor + "fonts" },
      // Only what typesetting needs: no menu, and no speech (which would load 300 KB more).
      load: ["core", "input/tex", "output/chtml", "a11y/assistive-mml", "ui/safe", "[tex]/tagformat"],
    },
    tex: {
      inlineMath: [["$", "$"], ["\\(", "\\)"]],
      displayMath: [["$$", "$$"], ["\\[", "\\]"]],
      processEscapes: true,
      processEnvironments: true,
      tags: "ams",
      // ams, newcommand, autoload, ... are already in input/tex.
      packages: { "[+]": ["tagformat"] },
      tagformat: {
        id: function (id) {
          return "mjx-eqn:" + idPrefix + id.replace(/\s/g, "_");
        },
      },
    },
    output: { displayOverflow: "scroll", preFilters: [breakExpressionsToFit] },
    options: {
      ignoreHtmlClass: "mathjax_ignore",
      processHtmlClass: "arithmatex",
    },
    startup: {
      typeset: false,
      pageReady: function () {
        return window.MathJax.startup.defaultPageReady().then(resolveReady);
      },
    },
  };

  // A display formula wider than its column, counting the room its number takes on both sides, is
  // broken into lines when typeset, so that its number stays in view beside it: with "scroll" the
  // number sat at the far end of the scrolled row, and whether a formula fitted depended on the
  // text font's x-height, which sets the math's size. MathJax 4.1 breaks expressions well but
  // squeezes the columns of matrices, cases and arrays until they overlap, so formulas with a
  // table (other than the one holding the equation numbers) keep scrolling.
  function breakExpressionsToFit(data) {
    var root = data.math.root;
    var tables = 0;
    var numbered = false;
    root.walkTree(function (node) {
      if (node.isKind("mtable")) tables++;
      if (node.isKind("mlabeledtr")) numbered = true;
    });
    if (data.math.display && tables <= (numbered ? 1 : 0)) {
      root.attributes.set("overflow", "linebreak");
    } else {
      // The width the last formula was broken to: left set, it would squeeze this one's tables.
      window.MathJax.startup.output.containerWidth = undefined;
    }
  }

  function load() {
    if (!loaded) {
      loaded = new Promise(function (resolve, reject) {
        resolveReady = resolve;
        var script = document.createElement("script");
        script.src = vendor + "startup.js";
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

  function nextTask() {
    return new Promise(function (resolve) {
      setTimeout(resolve, 0);
    });
  }

  function texTags() {
    return window.MathJax.startup.document.inputJax[0].parseOptions.tags;
  }

  // A comment numbers its own equations, and may \eqref the article's: those labels (with the
  // article's numbers and anchors) are lent to it, except names the comment labels itself.
  function lendArticleLabels(scope) {
    var own = {};
    var label = /\\label\{([^}]*)\}/g;
    var found;
    while ((found = label.exec(scope.textContent))) {
      own[found[1]] = true;
    }
    var tags = texTags();
    Object.keys(articleLabels).forEach(function (name) {
      if (!own[name]) {
        tags.allLabels[name] = articleLabels[name];
      }
    });
  }

  // Links in math sit in the visual copy, which is hidden from screen readers (they read the
  // MathML copy): out of the tab order, as nothing hidden from them may take the focus.
  function keyboardSafeLinks(elements) {
    elements.forEach(function (element) {
      element.querySelectorAll("mjx-container a[href]").forEach(function (link) {
        link.setAttribute("tabindex", "-1");
      });
    });
  }

  // Each scope numbers its equations from (1) and keeps its own \label names.
  function typeset(root) {
    var run = queue.then(load).then(function () {
      if (root !== document) {
        forget(root);
      }
      var chain = Promise.resolve();
      scopes(root).forEach(function (elements, scope) {
        // Each scope in a task of its own, so that the page stays responsive meanwhile.
        chain = chain.then(nextTask).then(function () {
          idPrefix = scope.id ? scope.id + ":" : "";
          window.MathJax.texReset();
          if (scope.classList && scope.classList.contains("comment-body")) {
            lendArticleLabels(scope);
          }
          return window.MathJax.typesetPromise(elements).then(function () {
            if (scope.classList && scope.classList.contains("post-body")) {
              articleLabels = Object.assign({}, texTags().allLabels);
            }
            keyboardSafeLinks(elements);
          });
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
