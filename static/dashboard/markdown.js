// @ts-check
// The small Markdown the model cards use, built as DOM nodes: headings, paragraphs, lists, tables,
// bold and code. Text only, never HTML, so a model card cannot inject markup.

import { h } from "../common.js";

/** Heading tags by the count of `#`: a card's `#` is a level-3 heading under the run's own. */
const HEADINGS = /** @type {const} */ (["h3", "h4", "h5", "h6", "h6", "h6"]);

/**
 * The small Markdown the model cards use: headings, paragraphs, lists, tables, bold and code. Text only, never HTML.
 * @param {string} text
 * @returns {HTMLElement[]}
 */
export function markdown(text) {
  /** @type {HTMLElement[]} */
  const blocks = [];
  const lines = text.replace(/\r\n/g, "\n").split("\n");
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (!line.trim()) {
      i++;
    } else if (/^#{1,6}\s/.test(line)) {
      const hashes = line.match(/^#+/)?.[0].length ?? 1;
      blocks.push(h(HEADINGS[hashes - 1], {}, inline(line.replace(/^#+\s*/, ""))));
      i++;
    } else if (/^\s*\|/.test(line)) {
      const rows = [];
      while (i < lines.length && /^\s*\|/.test(lines[i])) rows.push(lines[i++]);
      /** @param {string} row */
      const cells = (row) => row.trim().replace(/^\||\|$/g, "").split("|").map((cell) => cell.trim());
      const [header, , ...body] = rows;
      blocks.push(h(
        "div",
        { class: "table-wrap", tabindex: "0" },
        h(
          "table",
          {},
          h("thead", {}, h("tr", {}, cells(header).map((c) => h("th", { scope: "col" }, inline(c))))),
          h("tbody", {}, body.map((row) => h("tr", {}, cells(row).map((c) => h("td", {}, inline(c)))))),
        ),
      ));
    } else if (/^\s*[-*]\s/.test(line)) {
      /** @type {string[]} */
      const items = [];
      while (
        i < lines.length && (/^\s*[-*]\s/.test(lines[i]) || (/^\s{2,}\S/.test(lines[i]) && items.length))
      ) {
        if (/^\s*[-*]\s/.test(lines[i])) items.push(lines[i].replace(/^\s*[-*]\s/, ""));
        else items[items.length - 1] += ` ${lines[i].trim()}`;
        i++;
      }
      blocks.push(h("ul", {}, items.map((item) => h("li", {}, inline(item)))));
    } else {
      const paragraph = [];
      while (i < lines.length && lines[i].trim() && !/^(#{1,6}\s|\s*\||\s*[-*]\s)/.test(lines[i])) {
        paragraph.push(lines[i++].trim());
      }
      blocks.push(h("p", {}, inline(paragraph.join(" "))));
    }
  }
  return blocks;
}

/**
 * Bold (`**…**`) and code (`` `…` ``) spans of one line; the rest stays text.
 * @param {string} text
 * @returns {(HTMLElement | string)[]}
 */
function inline(text) {
  return text.split(/(\*\*[^*]+\*\*|`[^`]+`)/g).filter(Boolean).map((part) => {
    if (part.startsWith("**") && part.endsWith("**")) return h("strong", {}, part.slice(2, -2));
    if (part.startsWith("`") && part.endsWith("`")) return h("code", {}, part.slice(1, -1));
    return part;
  });
}
