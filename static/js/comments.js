/* Comment form enhancements: reply under a comment, quote, and preview with the site's pipeline.
   Without JavaScript the same links work through ?replyTo=<id>#respond and ?quote=<id>#respond. */
(function () {
  "use strict";

  var respond = document.getElementById("respond");
  if (!respond) {
    return;
  }
  var home = document.getElementById("respond-home");
  var form = respond.querySelector("form.comment-form");
  var replyInput = form.querySelector("input[name=reply_to]");
  var body = form.querySelector("textarea[name=body]");
  var label = respond.querySelector(".respond-label");
  var cancel = respond.querySelector(".cancel-reply");
  var previewButton = form.querySelector(".comment-preview-button");
  var preview = document.getElementById("comment-preview");
  var csrfInput = form.querySelector("input[name=csrfmiddlewaretoken]");
  var tokenInput = form.querySelector("input[name=token]");
  var tokensAsked = null;

  /* Cached pages carry neither the CSRF token nor the form's token: both are asked for once, when
     the reader first uses the form. Without them (no script, or the request failed) the server
     gives the form back, with the reader's text, to submit again. */
  function tokens() {
    if (csrfInput.value && tokenInput.value) {
      return Promise.resolve(csrfInput.value);
    }
    if (!tokensAsked) {
      tokensAsked = fetch(form.dataset.tokensUrl, { credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) {
            throw new Error(response.status);
          }
          return response.json();
        })
        .then(function (data) {
          csrfInput.value = data.csrf;
          tokenInput.value = data.token;
          return data.csrf;
        })
        .catch(function (error) {
          tokensAsked = null;
          throw error;
        });
    }
    return tokensAsked;
  }

  function replyTo(link) {
    var comment = link.closest(".comment");
    comment.appendChild(respond);
    replyInput.value = link.dataset.replyTo;
    label.textContent = form.dataset.replyTemplate.replace("%(name)s", link.dataset.replyName);
    cancel.hidden = false;
    body.focus();
  }

  function cancelReply() {
    if (home) {
      home.after(respond);
    }
    replyInput.value = "";
    label.textContent = label.dataset.default;
    cancel.hidden = true;
  }

  function quote(link) {
    var text = link.dataset.quote + " ";
    var start = body.selectionStart || 0;
    body.value = body.value.slice(0, start) + text + body.value.slice(body.selectionEnd || start);
    body.focus();
    body.selectionStart = body.selectionEnd = start + text.length;
  }

  function showPreview() {
    var data = new FormData();
    data.append("body", body.value);
    data.append("profile", "comment");
    previewButton.disabled = true;
    tokens()
      .then(function (token) {
        return fetch(form.dataset.previewUrl, {
          method: "POST",
          body: data,
          credentials: "same-origin",
          headers: { "X-CSRFToken": token },
        });
      })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(response.status);
        }
        return response.text();
      })
      .then(function (html) {
        // Sanitised by the server with the same allowlist as stored comments.
        preview.innerHTML = html;
        preview.hidden = false;
        return window.spacesTypeset ? window.spacesTypeset(preview) : null;
      })
      .catch(function () {
        preview.textContent = preview.dataset.error;
        preview.hidden = false;
      })
      .finally(function () {
        previewButton.disabled = false;
      });
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest("a.comment-reply, a.comment-quote-link, a.cancel-reply");
    if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) {
      return;
    }
    event.preventDefault();
    if (link.classList.contains("comment-reply")) {
      replyTo(link);
    } else if (link.classList.contains("comment-quote-link")) {
      quote(link);
    } else {
      cancelReply();
    }
  });

  form.addEventListener("focusin", function () {
    tokens().catch(function () {});
  });
  form.addEventListener("submit", function (event) {
    if (csrfInput.value && tokenInput.value) {
      return;
    }
    event.preventDefault();
    tokens()
      .catch(function () {})
      .then(function () {
        form.submit();
      });
  });

  if (previewButton && preview) {
    previewButton.hidden = false;
    previewButton.addEventListener("click", showPreview);
  }
})();
