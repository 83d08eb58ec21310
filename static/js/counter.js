// Counts a read of the article once the page is really shown: a prerendered page the reader
// never opens sends nothing. The server applies the counting rules (bots, reloads, authors).
(function () {
  "use strict";
  var script = document.currentScript;
  var url = script && script.getAttribute("data-hit-url");
  if (!url || !navigator.sendBeacon) {
    return;
  }
  function send() {
    navigator.sendBeacon(url);
  }
  if (document.prerendering) {
    document.addEventListener("prerenderingchange", send, { once: true });
  } else {
    send();
  }
})();
