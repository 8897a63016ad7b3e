/**
 * Text widths for vega's headless renderer. Without a canvas, vega guesses every glyph as 0.8 em,
 * which pads axes far too much and truncates labels early. We measure instead with the advance widths
 * of DejaVu Sans, the widest of the usual `system-ui` fonts, so a label that fits here fits in a
 * browser too (Segoe UI, San Francisco and Roboto are all narrower).
 * @module
 */

/** Advance widths (1/1000 em) of DejaVu Sans Book for the printable ASCII range 32..126. */
// deno-fmt-ignore
const REGULAR_WIDTHS = [
  318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337, 636, 636, 636,
  636, 636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 531, 1000, 684, 686, 698, 770, 632,
  575, 775, 752, 295, 295, 656, 557, 863, 748, 787, 603, 787, 695, 635, 611, 732, 684, 989, 685,
  611, 685, 390, 337, 390, 838, 500, 500, 613, 635, 550, 635, 615, 352, 635, 634, 278, 278, 579,
  278, 974, 634, 612, 635, 635, 411, 521, 392, 634, 592, 818, 592, 592, 525, 636, 337, 636, 838,
];

/** Advance widths (1/1000 em) of DejaVu Sans Bold for the printable ASCII range 32..126. */
// deno-fmt-ignore
const BOLD_WIDTHS = [
  348, 456, 521, 838, 696, 1002, 872, 306, 457, 457, 523, 838, 380, 415, 380, 365, 696, 696, 696,
  696, 696, 696, 696, 696, 696, 696, 400, 400, 838, 838, 838, 580, 1000, 774, 762, 734, 830, 683,
  683, 821, 837, 372, 372, 775, 637, 995, 837, 850, 733, 850, 770, 720, 682, 812, 774, 1103, 771,
  724, 725, 457, 365, 457, 838, 500, 500, 675, 716, 593, 716, 678, 435, 716, 712, 343, 343, 665,
  343, 1042, 712, 687, 716, 716, 493, 595, 478, 712, 652, 924, 645, 652, 582, 712, 365, 712, 838,
];

/** Widths of the few non-ASCII glyphs our charts print (ellipsis, dashes, minus, middle dot). */
const EXTRA_WIDTHS: Record<string, number> = {
  "\u2026": 1000,
  "\u2013": 500,
  "\u2014": 1000,
  "\u2212": 838,
  "\u00b7": 318,
  "\u2264": 838,
  "\u2265": 838,
  "\u00d7": 838,
};

/** Width of any other glyph: wide enough for most Latin, Greek and Cyrillic letters. */
const FALLBACK_WIDTH = 700;
/** Width of CJK and other full-width glyphs. */
const WIDE_WIDTH = 1000;

/** Default font size vega assumes when a text item has none. */
const VEGA_DEFAULT_FONT_SIZE = 11;

/** The parts of a vega text item that decide its width. */
export interface TextStyle {
  fontSize?: number;
  fontWeight?: string | number;
}

/** True for the weights at which browsers pick the bold face. */
export function isBold(fontWeight: string | number | undefined): boolean {
  if (fontWeight === undefined) return false;
  if (typeof fontWeight === "number") return fontWeight >= 600;
  return fontWeight === "bold" || fontWeight === "bolder" || Number(fontWeight) >= 600;
}

function glyphWidth(char: string, widths: readonly number[]): number {
  const code = char.codePointAt(0)!;
  if (code >= 32 && code <= 126) return widths[code - 32];
  const extra = EXTRA_WIDTHS[char];
  if (extra !== undefined) return extra;
  const base = char.normalize("NFD")[0];
  const baseCode = base.codePointAt(0)!;
  if (baseCode >= 32 && baseCode <= 126) return widths[baseCode - 32];
  return code >= 0x2e80 ? WIDE_WIDTH : FALLBACK_WIDTH;
}

/** Estimated width in pixels of `text` set in `system-ui` at the item's size and weight. */
export function estimateTextWidth(text: string, style: TextStyle): number {
  const fontSize = style.fontSize ?? VEGA_DEFAULT_FONT_SIZE;
  if (!(fontSize > 0) || text.length === 0) return 0;
  const widths = isBold(style.fontWeight) ? BOLD_WIDTHS : REGULAR_WIDTHS;
  let total = 0;
  for (const char of text) total += glyphWidth(char, widths);
  return (total * fontSize) / 1000;
}

/**
 * The `textMetrics.width` function vega calls. Vega asks both for the width of raw text (to size
 * bounds) and of candidate prefixes (to truncate at `limit`); clamping at the limit keeps both right.
 */
export function vegaTextWidth(item: TextStyle & { limit?: number }, text: unknown): number {
  const line = text == null ? "" : String(text).trim();
  const width = estimateTextWidth(line, item);
  const limit = Number(item.limit);
  return limit > 0 ? Math.min(width, limit) : width;
}
