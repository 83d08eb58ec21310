// Entry of the vendored CodeMirror bundle (see README.md): the editor, Markdown with TeX
// highlighting inside $…$, $$…$$, \[…\], \(…\) and \begin{…}…\end{…}, and HTML.
import { autocompletion, closeBrackets } from "@codemirror/autocomplete";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { html } from "@codemirror/lang-html";
import { markdown, markdownLanguage } from "@codemirror/lang-markdown";
import {
  bracketMatching,
  HighlightStyle,
  StreamLanguage,
  syntaxHighlighting,
} from "@codemirror/language";
import { stexMath } from "@codemirror/legacy-modes/mode/stex";
import { highlightSelectionMatches, search, searchKeymap } from "@codemirror/search";
import { Compartment, EditorSelection, EditorState } from "@codemirror/state";
import {
  drawSelection,
  EditorView,
  highlightActiveLine,
  keymap,
  lineNumbers,
  placeholder,
} from "@codemirror/view";
import { parseMixed } from "@lezer/common";
import { Tag, tags } from "@lezer/highlight";

const texParser = StreamLanguage.define(stexMath).parser;
const mathTag = Tag.define();
const mathMarkTag = Tag.define(tags.processingInstruction);
const DOLLAR = 36;
const BACKSLASH = 92;

// Where the math opened at pos ends (exclusive), or -1; escaped characters are skipped.
function mathEnd(cx, pos) {
  const text = cx.slice(pos, cx.end);
  let closer;
  let open;
  if (text.startsWith("$$")) [open, closer] = [2, "$$"];
  else if (text.startsWith("$")) [open, closer] = [1, "$"];
  else if (text.startsWith("\\[")) [open, closer] = [2, "\\]"];
  else if (text.startsWith("\\(")) [open, closer] = [2, "\\)"];
  else {
    const begin = /^\\begin\{([a-zA-Z]+\*?)\}/.exec(text);
    if (!begin) return null;
    const end = text.indexOf("\\end{" + begin[1] + "}", begin[0].length);
    if (end < 0) return null;
    const stop = end + begin[1].length + 6;
    return { open: begin[0].length, close: begin[1].length + 6, end: pos + stop };
  }
  for (let i = open; i < text.length; i++) {
    if (text.charCodeAt(i) === BACKSLASH && closer === "$") {
      i++;
      continue;
    }
    if (text.startsWith(closer, i)) {
      if (closer === "$" && i === open) return null; // "$$" handled above; "$ $"-less empty
      return { open, close: closer.length, end: pos + i + closer.length };
    }
    if (closer !== "$" && closer !== "$$" && text.charCodeAt(i) === BACKSLASH) i++;
  }
  return null;
}

// Display math that starts a line: its closer, or null. Like the site's pipeline, such math
// also interrupts a paragraph.
const DISPLAY_OPENER = /^(\$\$|\\\[|\\begin\{([a-zA-Z]+\*?)\})/;
function displayCloser(text) {
  const open = DISPLAY_OPENER.exec(text);
  if (!open) return null;
  const closer = open[2] ? "\\end{" + open[2] + "}" : open[1] === "$$" ? "$$" : "\\]";
  return { open: open[0].length, closer };
}

// A display-math block runs to its closer, or stops at a blank line (as an unclosed one does
// in the site's renderer).
function parseMathBlock(cx, line) {
  const found = displayCloser(line.text.slice(line.pos));
  if (!found) return false;
  const start = cx.lineStart + line.pos;
  const marks = [cx.elt("MathMark", start, start + found.open)];
  let from = line.pos + found.open;
  let end = -1;
  for (;;) {
    const at = line.text.indexOf(found.closer, from);
    if (at >= 0) {
      end = cx.lineStart + at + found.closer.length;
      marks.push(cx.elt("MathMark", end - found.closer.length, end));
      cx.nextLine();
      break;
    }
    end = cx.lineStart + line.text.length;
    if (!cx.nextLine() || line.text.trim() === "") break;
    from = 0;
  }
  cx.addElement(cx.elt("Math", start, end, marks));
  return true;
}

const mathSyntax = {
  defineNodes: [
    { name: "Math", style: mathTag },
    { name: "MathMark", style: mathMarkTag },
  ],
  parseBlock: [
    {
      name: "MathBlock",
      parse: parseMathBlock,
      endLeaf: (cx, line) => displayCloser(line.text.slice(line.pos)) !== null,
      before: "SetextHeading",
    },
  ],
  parseInline: [
    {
      name: "Math",
      parse(cx, next, pos) {
        if (next !== DOLLAR && next !== BACKSLASH) return -1;
        const found = mathEnd(cx, pos);
        if (!found) return -1;
        return cx.addElement(
          cx.elt("Math", pos, found.end, [
            cx.elt("MathMark", pos, pos + found.open),
            cx.elt("MathMark", found.end - found.close, found.end),
          ]),
        );
      },
      before: "Escape",
    },
  ],
  wrap: parseMixed((node) => {
    if (node.name !== "Math") return null;
    const marks = node.node.getChildren("MathMark");
    const to = marks.length > 1 ? marks[1].from : node.to;
    if (!marks.length || marks[0].to >= to) return null;
    return { parser: texParser, overlay: [{ from: marks[0].to, to }] };
  }),
};

const spacesHighlight = HighlightStyle.define([
  { tag: tags.heading1, fontWeight: "bold", fontSize: "1.25em" },
  { tag: tags.heading2, fontWeight: "bold", fontSize: "1.15em" },
  { tag: [tags.heading3, tags.heading4, tags.heading5, tags.heading6], fontWeight: "bold" },
  { tag: tags.strong, fontWeight: "bold" },
  { tag: tags.emphasis, fontStyle: "italic" },
  { tag: tags.strikethrough, textDecoration: "line-through" },
  { tag: [tags.link, tags.url], color: "#1a5fb4" },
  { tag: tags.monospace, fontFamily: "monospace", color: "#7a3e00" },
  { tag: [tags.quote], color: "#555", fontStyle: "italic" },
  { tag: [tags.processingInstruction, tags.meta, tags.comment], color: "#8a8a8a" },
  { tag: mathTag, color: "#6b2fa3", backgroundColor: "rgba(107, 47, 163, 0.06)" },
  { tag: mathMarkTag, color: "#b45f06", fontWeight: "bold" },
  // stex's tokens inside math: \commands, braces, numbers, ^ and _.
  { tag: [tags.tagName, tags.keyword], color: "#0b6e4f" },
  { tag: [tags.bracket], color: "#9a6700" },
  { tag: [tags.number], color: "#1a5fb4" },
  { tag: [tags.atom, tags.variableName], color: "#a4006a" },
  { tag: [tags.angleBracket, tags.attributeName], color: "#7a3e00" },
  { tag: tags.string, color: "#2e7d32" },
]);

function markdownWithMath() {
  return markdown({ base: markdownLanguage, extensions: [mathSyntax] });
}

const base = [
  lineNumbers(),
  history(),
  drawSelection(),
  highlightActiveLine(),
  bracketMatching(),
  closeBrackets(),
  autocompletion({ activateOnTyping: false }),
  search({ top: true }),
  highlightSelectionMatches(),
  syntaxHighlighting(spacesHighlight),
  EditorView.lineWrapping,
  keymap.of([...defaultKeymap, ...historyKeymap, ...searchKeymap, indentWithTab]),
];

window.SpacesCodeMirror = {
  EditorView,
  EditorState,
  EditorSelection,
  Compartment,
  keymap,
  placeholder,
  base,
  markdown: markdownWithMath,
  html,
};
