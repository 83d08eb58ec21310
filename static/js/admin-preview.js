/* Live preview of a post's body in the admin, rendered by the site's own pipeline (Markdown or
   HTML, as the format field says) and typeset with MathJax, numbering and \eqref included.
   Placed in the editor's preview pane (admin-editor.js) when there is one. */
(function () {
  "use strict";
  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  function setUp() {
    var source = document.getElementById("id_body");
    if (!source) return;
    var config = document.getElementById("spaces-editor-config");
    var url = (config && config.dataset.previewUrl) || "/preview/";
    var format = document.getElementById("id_format");
    var slot = document.querySelector(".spaces-editor-preview") || source.parentNode;
    var pane = document.createElement("div");
    // The site's article classes, so headings, figures and tables look as they will on the site.
    pane.className = "spaces-preview post-body";
    pane.setAttribute("aria-live", "polite");
    var heading = document.createElement("h3");
    heading.className = "spaces-preview-heading";
    heading.textContent = source.dataset.previewTitle || "预览";
    slot.appendChild(heading);
    slot.appendChild(pane);
    var timer = null;
    var sequence = 0;
    var pending = false;
    // MathJax measures the pane to size the math and to break wide formulas, and a hidden pane (the
    // edit tab on narrow screens) measures as nothing: its math waits until the pane is shown.
    function typesetIfShown() {
      if (!pending || !window.spacesTypeset || !pane.getClientRects().length) return;
      pending = false;
      window.spacesTypeset(pane);
    }
    function refresh() {
      var mine = ++sequence;
      var body = new FormData();
      body.append("body", source.value);
      body.append("profile", "post");
      if (format) body.append("format", format.value);
      fetch(url, {
        method: "POST", body: body, credentials: "same-origin",
        headers: {"X-CSRFToken": csrfToken()}
      }).then(function (response) {
        return response.ok ? response.text() : Promise.reject(response.status);
      }).then(function (html) {
        if (mine !== sequence) return;
        var scroll = pane.scrollTop;
        pane.innerHTML = html;  // already sanitised by the server pipeline
        pane.scrollTop = scroll;
        pending = true;
        typesetIfShown();
      }).catch(function (status) {
        pane.textContent = "预览失败（" + status + "）。";
      });
    }
    function later() {
      clearTimeout(timer);
      timer = setTimeout(refresh, 600);
    }
    source.addEventListener("spaces:preview-shown", typesetIfShown);
    source.addEventListener("input", later);
    if (format) format.addEventListener("change", later);
    refresh();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();
