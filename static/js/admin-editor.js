/* The post editor in the admin: CodeMirror with a toolbar, word count, autosave, the restore
   offer, the unsaved-changes warning, and edit/preview tabs on narrow screens.
   Others insert text with window.SpacesEditor.insertAtCursor(text), or by dispatching
   new CustomEvent("spaces:insert", {detail: {text: "…"}}) on the body field (#id_body). */
(function () {
  "use strict";

  var MOD = /Mac|iPhone|iPad/.test(navigator.platform) ? "⌘" : "Ctrl+";

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  // Words as a Chinese writer counts them: each CJK character, plus each run of Latin letters/digits.
  function countWords(text) {
    var cjk = text.match(/[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]/g);
    var latin = text.match(/[A-Za-z0-9\u00c0-\u024f]+(?:['’-][A-Za-z0-9\u00c0-\u024f]+)*/g);
    return (cjk ? cjk.length : 0) + (latin ? latin.length : 0);
  }

  // Toolbar actions: [name, label, title, shortcut, markdown, html]; an insertion is
  // [before, placeholder, after]; the placeholder ends up selected.
  var ACTIONS = [
    ["bold", "B", "粗体", "Mod-b", ["**", "粗体", "**"], ["<strong>", "粗体", "</strong>"]],
    ["italic", "I", "斜体", "Mod-i", ["*", "斜体", "*"], ["<em>", "斜体", "</em>"]],
    ["link", "链接", "链接", "Mod-k", ["[", "文字", "](https://)"], ['<a href="https://">', "文字", "</a>"]],
    ["image", "图片", "图片", "Mod-Shift-i", ["![", "图片说明", "](/media/)"],
      ['<img src="/media/" alt="', "图片说明", '">']],
    ["math", "$x$", "行内公式", "Mod-m", ["$", "x^2", "$"], ["$", "x^2", "$"]],
    ["display", "$$", "行间公式", "Mod-Shift-m", ["\n$$\n", "\\int_0^1 f(x)\\,dx", "\n$$\n"],
      ["\n$$\n", "\\int_0^1 f(x)\\,dx", "\n$$\n"]],
    ["equation", "(1)", "带编号的公式（\\label 之后用 \\eqref 引用）", "Mod-Shift-e",
      ["\n\\begin{equation}\n", "E = mc^2", "\\label{eq:name}\n\\end{equation}\n"],
      ["\n\\begin{equation}\n", "E = mc^2", "\\label{eq:name}\n\\end{equation}\n"]],
    ["code", "</>", "代码块", "Mod-Shift-c", ["\n```python\n", "print(1)", "\n```\n"],
      ["\n<pre><code>", "print(1)", "</code></pre>\n"]],
    ["table", "表格", "表格", "Mod-Shift-t", ["\n| 列 1 | 列 2 |\n| --- | --- |\n| ", "内容", " |  |\n"],
      ["\n<table>\n<tr><th>列 1</th><th>列 2</th></tr>\n<tr><td>", "内容", "</td><td></td></tr>\n</table>\n"]],
    ["more", "more", "摘要分隔（<!--more-->）", "Mod-Shift-.", ["\n<!--more-->\n", "", ""],
      ["\n<!--more-->\n", "", ""]],
  ];

  function hasFiles(transfer) {
    return Boolean(transfer) && Array.prototype.indexOf.call(transfer.types || [], "Files") >= 0;
  }

  function shortcutLabel(key) {
    return key.replace("Mod-", MOD).replace("Shift-", "Shift+").replace(/-(.)$/, "+$1");
  }

  function setUp() {
    var source = document.getElementById("id_body");
    var CM = window.SpacesCodeMirror;
    if (!source || !CM || source.dataset.spacesEditor) return;
    source.dataset.spacesEditor = "1";
    var form = source.form;
    var config = (document.getElementById("spaces-editor-config") || {dataset: {}}).dataset;
    var formatField = document.getElementById("id_format");
    var titleField = document.getElementById("id_title");

    // Layout: tabs (narrow screens), toolbar, then editor and preview side by side.
    var root = element("div", "spaces-editor");
    root.dataset.view = "edit";
    var tabs = element("div", "spaces-editor-tabs");
    tabs.setAttribute("role", "tablist");
    [["edit", "编辑"], ["preview", "预览"]].forEach(function (tab) {
      var button = element("button", "", tab[1]);
      button.type = "button";
      button.setAttribute("role", "tab");
      button.dataset.view = tab[0];
      button.addEventListener("click", function () { show(tab[0]); });
      tabs.appendChild(button);
    });
    var toolbar = element("div", "spaces-toolbar");
    toolbar.setAttribute("role", "toolbar");
    toolbar.setAttribute("aria-label", "格式");
    var panes = element("div", "spaces-editor-panes");
    var editorPane = element("div", "spaces-editor-source");
    var previewSlot = element("div", "spaces-editor-preview");
    var status = element("div", "spaces-editor-status");
    var words = element("span", "spaces-word-count");
    var saveState = element("span", "spaces-autosave-state");
    saveState.setAttribute("aria-live", "polite");
    status.append(words, saveState);
    panes.append(editorPane, previewSlot);
    root.append(tabs, toolbar, panes, status);
    source.parentNode.insertBefore(root, source);
    source.hidden = true;

    function show(view) {
      root.dataset.view = view;
      tabs.querySelectorAll("button").forEach(function (button) {
        button.setAttribute("aria-selected", String(button.dataset.view === view));
      });
      if (view === "preview") source.dispatchEvent(new CustomEvent("spaces:preview-shown"));
    }
    show("edit");

    var language = new CM.Compartment();
    function languageFor() {
      return formatField && formatField.value === "html" ? CM.html() : CM.markdown();
    }
    function syntax() {
      return formatField && formatField.value === "html" ? 5 : 4;
    }

    function insert(view, parts) {
      var range = view.state.selection.main;
      var selected = view.state.sliceDoc(range.from, range.to);
      var middle = selected || parts[1];
      var text = parts[0] + middle + parts[2];
      var start = range.from + parts[0].length;
      view.dispatch({
        changes: {from: range.from, to: range.to, insert: text},
        selection: CM.EditorSelection.range(start, start + middle.length),
        scrollIntoView: true,
        userEvent: "input.toolbar",
      });
      view.focus();
      return true;
    }

    var bindings = ACTIONS.map(function (action) {
      return {key: action[3], run: function (view) { return insert(view, action[syntax()]); }};
    });
    bindings.push({key: "Mod-s", run: function () { saveAndContinue(); return true; }});

    var view = new CM.EditorView({
      parent: editorPane,
      state: CM.EditorState.create({
        doc: source.value,
        extensions: [
          CM.keymap.of(bindings),
          CM.base,
          language.of(languageFor()),
          CM.placeholder("正文（Markdown，公式用 $…$ 与 $$…$$）"),
          CM.EditorView.contentAttributes.of({"aria-label": "正文", spellcheck: "false"}),
          // Dropped or pasted files are the media library's (admin-media.js), not text to insert.
          CM.EditorView.domEventHandlers({
            drop: function (event) { return hasFiles(event.dataTransfer); },
            paste: function (event) { return hasFiles(event.clipboardData); },
          }),
          CM.EditorView.updateListener.of(function (update) {
            if (!update.docChanged) return;
            source.value = update.state.doc.toString();
            source.dispatchEvent(new Event("input", {bubbles: true}));
          }),
        ],
      }),
    });

    ACTIONS.forEach(function (action) {
      var button = element("button", "spaces-tool spaces-tool-" + action[0], action[1]);
      button.type = "button";
      button.title = action[2] + "（" + shortcutLabel(action[3]) + "）";
      button.setAttribute("aria-label", action[2]);
      button.addEventListener("click", function () { insert(view, action[syntax()]); });
      toolbar.appendChild(button);
    });
    if (formatField) {
      formatField.addEventListener("change", function () {
        view.dispatch({effects: language.reconfigure(languageFor())});
      });
    }

    // Replaces the selection with text and leaves the cursor after it.
    function insertAtCursor(text) {
      var range = view.state.selection.main;
      view.dispatch({
        changes: {from: range.from, to: range.to, insert: text},
        selection: {anchor: range.from + text.length},
        scrollIntoView: true,
        userEvent: "input.insert",
      });
      view.focus();
      return true;
    }
    source.addEventListener("spaces:insert", function (event) {
      if (!event.detail || typeof event.detail.text !== "string") return;
      insertAtCursor(event.detail.text);
      event.preventDefault();  // tells a cancelable event's sender the text is in
    });
    window.SpacesEditor = {view: view, insertAtCursor: insertAtCursor};

    // Word count, refreshed as the text changes.
    function updateCount() {
      words.textContent = "字数：" + countWords(source.value);
    }
    source.addEventListener("input", updateCount);
    updateCount();

    // The preview pane (built by admin-preview.js) scrolls with the editor.
    view.scrollDOM.addEventListener("scroll", function () {
      var pane = previewSlot.querySelector(".spaces-preview");
      var scroller = view.scrollDOM;
      var range = scroller.scrollHeight - scroller.clientHeight;
      if (!pane || range <= 0) return;
      pane.scrollTop = (scroller.scrollTop / range) * (pane.scrollHeight - pane.clientHeight);
    });

    // Unsaved changes: anything typed since the page was opened (or a refused save's text).
    var initial = {title: titleField ? titleField.value : "", body: source.value};
    var touched = Boolean(document.querySelector(".errornote"));
    var submitting = false;
    form.addEventListener("input", function (event) {
      if (event.target !== source) touched = true;
    });
    form.addEventListener("change", function () { touched = true; });
    form.addEventListener("submit", function () { submitting = true; });
    function unsaved() {
      return touched || source.value !== initial.body ||
        (titleField && titleField.value !== initial.title);
    }
    window.addEventListener("beforeunload", function (event) {
      if (submitting || !unsaved()) return;
      event.preventDefault();
      event.returnValue = "";
    });

    function saveAndContinue() {
      var button = form.querySelector("input[name=_continue]");
      submitting = true;
      if (button) button.click();
      else form.requestSubmit();
    }

    // Autosave: every so often while the text changes, to the user's own autosave record.
    var seconds = Number(config.autosaveSeconds || 30);
    var lastSaved = initial.title + "\u0000" + initial.body;
    function autosave() {
      var title = titleField ? titleField.value : "";
      var current = title + "\u0000" + source.value;
      if (!config.autosaveUrl || submitting || current === lastSaved) return Promise.resolve();
      var body = new FormData();
      body.append("title", title);
      body.append("body", source.value);
      return fetch(config.autosaveUrl, {
        method: "POST", body: body, credentials: "same-origin",
        headers: {"X-CSRFToken": csrfToken(), "X-Requested-With": "XMLHttpRequest"},
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          if (!response.ok) throw new Error(data.error || "HTTP " + response.status);
          lastSaved = current;
          saveState.textContent = data.message || "已自动保存";
          saveState.classList.remove("spaces-error");
        });
      }).catch(function (error) {
        saveState.textContent = "自动保存失败：" + error.message;
        saveState.classList.add("spaces-error");
      });
    }
    setInterval(autosave, seconds * 1000);
    window.SpacesEditor.autosave = autosave;

    // The offer to restore an autosave newer than the saved post.
    var offer = document.querySelector(".spaces-autosave-offer");
    var offered = document.getElementById("spaces-autosave-data");
    if (offer && offered) {
      offer.addEventListener("click", function (event) {
        var action = event.target.dataset && event.target.dataset.autosaveAction;
        if (action === "restore") {
          var data = JSON.parse(offered.textContent);
          if (titleField) titleField.value = data.title;
          view.dispatch({changes: {from: 0, to: view.state.doc.length, insert: data.body}});
          touched = true;
          offer.remove();
        } else if (action === "discard") {
          var body = new FormData();
          body.append("discard", "1");
          fetch(config.autosaveUrl, {
            method: "POST", body: body, credentials: "same-origin",
            headers: {"X-CSRFToken": csrfToken()},
          });
          offer.remove();
        }
      });
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();
