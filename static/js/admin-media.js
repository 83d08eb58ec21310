/* The post editor's media: drop or paste an image onto the body, or pick one from the library;
   it is uploaded to the media library and `![alt](url)` is inserted at the cursor.

   Inserts through window.SpacesEditor.insertAtCursor(text) when the code editor provides it,
   or a cancelable CustomEvent "spaces:insert" (detail.text) on the field that an editor handles,
   else into the plain <textarea id="id_body">. window.SpacesMedia.open() opens the dialog (for a
   toolbar button). Endpoints come from the body field's data-upload-url / data-library-url. */
(function () {
  "use strict";

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  function imageFiles(dataTransfer) {
    if (!dataTransfer) return [];
    var files = Array.prototype.slice.call(dataTransfer.files || []);
    if (!files.length && dataTransfer.items) {
      Array.prototype.forEach.call(dataTransfer.items, function (item) {
        if (item.kind === "file") {
          var file = item.getAsFile();
          if (file) files.push(file);
        }
      });
    }
    return files;
  }

  function hasFiles(dataTransfer) {
    return !!dataTransfer && Array.prototype.indexOf.call(dataTransfer.types || [], "Files") >= 0;
  }

  function setUp() {
    var source = document.getElementById("id_body");
    if (!source || !source.dataset.uploadUrl) return;
    var uploadUrl = source.dataset.uploadUrl;
    var libraryUrl = source.dataset.libraryUrl;
    var maxBytes = parseInt(source.dataset.maxBytes || "0", 10);
    var zone = source.closest(".form-row") || source.parentNode;

    // Where the cursor was when the dialog opened: showing a modal dialog may move it.
    var saved = null;
    function insert(markdown) {
      var block = "\n\n" + markdown + "\n\n";
      var editor = window.SpacesEditor;
      if (editor && typeof editor.insertAtCursor === "function") {
        editor.insertAtCursor(block);
        return;
      }
      // An editor may instead listen for this event on the field and cancel it once it inserted.
      var event = new CustomEvent("spaces:insert", {detail: {text: block}, cancelable: true});
      if (!source.dispatchEvent(event)) return;
      // A figure is an image alone in its paragraph: blank lines around it as needed.
      var start = saved ? saved[0] : source.selectionStart;
      var end = saved ? saved[1] : source.selectionEnd;
      saved = null;
      var before = source.value.slice(0, start), after = source.value.slice(end);
      var lead = !before || /\n\n$/.test(before) ? "" : /\n$/.test(before) ? "\n" : "\n\n";
      var tail = !after || /^\n\n/.test(after) ? "" : /^\n/.test(after) ? "\n" : "\n\n";
      source.focus();
      source.setRangeText(lead + markdown + tail, start, end, "end");
      source.dispatchEvent(new Event("input", {bubbles: true}));
    }

    // --- the dialog ---------------------------------------------------------------------------
    var chosen = null;
    var pasted = false;  // a pasted image's name says nothing ("image.png"): title it by its alt
    var fileInput = el("input", {type: "file", name: "file", accept: "image/*,.pdf,.zip,.txt,.csv,.tex,.bib"});
    var preview = el("img", {class: "spaces-media-preview", alt: "", hidden: ""});
    var fileName = el("span", {class: "spaces-media-name"});
    var alt = el("input", {type: "text", name: "alt_text", maxlength: "300"});
    var caption = el("input", {type: "text", name: "caption", maxlength: "500"});
    var error = el("p", {class: "spaces-media-error", role: "alert"});
    var submit = el("button", {type: "submit", class: "default", text: "上传并插入"});
    var cancel = el("button", {type: "button", class: "spaces-media-cancel", text: "取消"});
    var drop = el("div", {class: "spaces-media-drop"}, [
      el("span", {text: "把文件拖到这里，或者："}), fileInput, fileName, preview,
    ]);
    var uploadPane = el("form", {class: "spaces-media-upload"}, [
      drop,
      el("label", {}, [el("span", {text: "替代文字（描述图片内容，图片必填）"}), alt]),
      el("label", {}, [el("span", {text: "图注（可选，显示在图片下方）"}), caption]),
      error,
      el("div", {class: "spaces-media-actions"}, [submit, cancel]),
    ]);
    var search = el("input", {type: "search", placeholder: "搜索媒体库", "aria-label": "搜索媒体库"});
    var grid = el("ul", {class: "spaces-media-grid"});
    var libraryPane = el("div", {class: "spaces-media-library", hidden: ""}, [search, grid]);
    var uploadTab = el("button", {type: "button", class: "spaces-media-tab", "aria-pressed": "true", text: "上传"});
    var libraryTab = el("button", {type: "button", class: "spaces-media-tab", "aria-pressed": "false", text: "从媒体库选择"});
    var dialog = el("dialog", {class: "spaces-media", "aria-label": "插入图片或文件"}, [
      el("div", {class: "spaces-media-tabs"}, [uploadTab, libraryTab]), uploadPane, libraryPane,
    ]);
    document.body.appendChild(dialog);

    function showTab(library) {
      uploadTab.setAttribute("aria-pressed", String(!library));
      libraryTab.setAttribute("aria-pressed", String(library));
      uploadPane.hidden = library;
      libraryPane.hidden = !library;
      if (library) loadLibrary();
    }
    uploadTab.addEventListener("click", function () { showTab(false); });
    libraryTab.addEventListener("click", function () { showTab(true); });

    function choose(file) {
      chosen = file;
      error.textContent = "";
      fileName.textContent = file ? file.name + "（" + Math.ceil(file.size / 1024) + " KB）" : "";
      preview.hidden = !(file && /^image\//.test(file.type));
      preview.removeAttribute("src");
      if (!preview.hidden && file.size <= 10485760) {
        // A data: URL, not blob:, which the Content-Security-Policy's img-src does not list.
        var reader = new FileReader();
        reader.onload = function () { if (chosen === file) preview.src = reader.result; };
        reader.readAsDataURL(file);
      }
      alt.required = !!file && /^image\//.test(file.type);
      if (file && maxBytes && file.size > maxBytes) {
        error.textContent = "文件太大，上限为 " + Math.round(maxBytes / 1048576) + " MB。";
      }
    }
    fileInput.addEventListener("change", function () { choose(fileInput.files[0] || null); });
    drop.addEventListener("dragover", function (event) { event.preventDefault(); });
    drop.addEventListener("drop", function (event) {
      event.preventDefault();
      var files = imageFiles(event.dataTransfer);
      if (files.length) choose(files[0]);
    });

    function open(file, fromClipboard) {
      pasted = !!fromClipboard;
      saved = [source.selectionStart, source.selectionEnd];
      uploadPane.reset();
      choose(file || null);
      showTab(false);
      if (!dialog.open) dialog.showModal();
      (file ? alt : fileInput).focus();
    }
    function close() {
      if (dialog.open) dialog.close();
      chosen = null;
    }
    cancel.addEventListener("click", close);

    uploadPane.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!chosen) { error.textContent = "请先选择一个文件。"; return; }
      if (maxBytes && chosen.size > maxBytes) return;
      var body = new FormData();
      body.append("file", chosen, chosen.name || "pasted.png");
      body.append("alt_text", alt.value);
      body.append("caption", caption.value);
      if (pasted) body.append("title", alt.value);
      submit.disabled = true;
      error.textContent = "上传中…";
      fetch(uploadUrl, {
        method: "POST", body: body, credentials: "same-origin",
        headers: {"X-CSRFToken": csrfToken(), "Accept": "application/json"}
      }).then(function (response) {
        return response.json().catch(function () {
          return {error: "上传失败（" + response.status + "）。"};
        }).then(function (data) { return {ok: response.ok, data: data}; });
      }).then(function (result) {
        if (!result.ok) { error.textContent = result.data.error || "上传失败。"; return; }
        close();
        insert(result.data.markdown);
      }).catch(function () {
        error.textContent = "网络错误，没有上传。";
      }).then(function () { submit.disabled = false; });
    });

    var searchTimer = null;
    function loadLibrary() {
      var url = libraryUrl + "?q=" + encodeURIComponent(search.value.trim());
      fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (response) { return response.json(); })
        .then(function (data) {
          grid.textContent = "";
          (data.results || []).forEach(function (item) {
            var pick = el("button", {type: "button", class: "spaces-media-pick", title: item.title}, [
              item.thumbnail ? el("img", {src: item.thumbnail, alt: "", loading: "lazy"})
                             : el("span", {class: "spaces-media-fileicon", text: item.url.split(".").pop().toUpperCase()}),
              el("span", {class: "spaces-media-title", text: item.title}),
            ]);
            pick.addEventListener("click", function () { close(); insert(item.markdown); });
            grid.appendChild(el("li", {}, [pick]));
          });
          if (!grid.children.length) grid.appendChild(el("li", {class: "spaces-media-empty", text: "没有找到文件。"}));
        });
    }
    search.addEventListener("input", function () {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(loadLibrary, 300);
    });

    // --- drop and paste onto the editor (capturing: before a code editor reads the files) ---
    function inZone(target) { return target instanceof Node && zone.contains(target); }
    document.addEventListener("dragover", function (event) {
      if (inZone(event.target) && hasFiles(event.dataTransfer)) event.preventDefault();
    }, true);
    document.addEventListener("drop", function (event) {
      if (!inZone(event.target)) return;
      var files = imageFiles(event.dataTransfer);
      if (!files.length) return;
      event.preventDefault();
      event.stopPropagation();
      open(files[0]);
    }, true);
    document.addEventListener("paste", function (event) {
      if (!inZone(event.target)) return;
      var files = imageFiles(event.clipboardData).filter(function (file) {
        return /^image\//.test(file.type);
      });
      if (!files.length) return;
      event.preventDefault();
      event.stopPropagation();
      open(files[0], true);
    }, true);

    var button = el("button", {type: "button", class: "button spaces-media-open", text: "插入图片或文件"});
    button.addEventListener("click", function () { open(null); });
    var bar = el("div", {class: "spaces-media-bar"}, [
      button, el("span", {class: "help", text: "也可以把图片拖到正文里，或直接粘贴。"}),
    ]);
    zone.insertBefore(bar, zone.firstChild);
    window.SpacesMedia = {open: function () { open(null); }, insert: insert};
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();
