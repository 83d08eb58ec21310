/* Live preview of a post's Markdown in the admin, rendered by the site's own pipeline. */
(function () {
  "use strict";
  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  function setUp() {
    var source = document.getElementById("id_body");
    if (!source) return;
    var pane = document.createElement("div");
    pane.className = "spaces-preview post-body";
    pane.setAttribute("aria-live", "polite");
    var heading = document.createElement("h3");
    heading.textContent = source.dataset.previewTitle || "预览 / Preview";
    source.parentNode.appendChild(heading);
    source.parentNode.appendChild(pane);
    var timer = null;
    var sequence = 0;
    function refresh() {
      var mine = ++sequence;
      var body = new FormData();
      body.append("body", source.value);
      body.append("profile", "post");
      fetch("/preview/", {
        method: "POST", body: body, credentials: "same-origin",
        headers: {"X-CSRFToken": csrfToken()}
      }).then(function (response) {
        return response.ok ? response.text() : Promise.reject(response.status);
      }).then(function (html) {
        if (mine !== sequence) return;
        pane.innerHTML = html;  // already sanitised by the server pipeline
        if (window.spacesTypeset) window.spacesTypeset(pane);
      }).catch(function (status) {
        pane.textContent = "Preview failed (" + status + ").";
      });
    }
    source.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(refresh, 600);
    });
    refresh();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();
