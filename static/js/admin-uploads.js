/* Media library list and form: "copy Markdown" buttons (no inline scripts: a CSP forbids them). */
(function () {
  "use strict";
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var ok = document.execCommand("copy");
    document.body.removeChild(area);
    return ok ? Promise.resolve() : Promise.reject(new Error("copy failed"));
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.upload-copy");
    if (!button) return;
    event.preventDefault();
    var label = button.textContent;
    copyText(button.dataset.copy).then(function () {
      button.textContent = button.dataset.done || "✓";
      setTimeout(function () { button.textContent = label; }, 1500);
    }, function () {
      window.prompt("Markdown", button.dataset.copy);
    });
  });
})();
