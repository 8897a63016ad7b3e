/**
 * Headless rendering of vega-lite specs to SVG strings: vega-lite compiles, vega renders with no
 * browser, no canvas, no network and no filesystem. The same spec always gives the same bytes.
 * @module
 */

import * as vega from "vega";
import { compile } from "vega-lite";
import type { TopLevelSpec } from "vega-lite";
import { CHART_CONFIG } from "./theme.ts";
import { vegaTextWidth } from "./text_width.ts";

/** A vega-lite top-level spec, as the spec builders return and `renderSvg` accepts. */
export type VegaLiteSpec = TopLevelSpec;

/** Options for {@linkcode renderSvg}. */
export interface RenderOptions {
  /** Multiplies the SVG's width and height; the drawing is unchanged. Default 1. */
  scale?: number;
  /**
   * Prefix for the ids of clip paths and gradients. Default: derived from the SVG itself, so two
   * different charts inlined in one page never share an id and the same chart always gets the same.
   */
  idPrefix?: string;
  /** Receives each vega-lite or vega warning. Default: `console.warn`. */
  onWarning?: (message: string) => void;
}

/** Thrown when a spec compiles but vega reports errors while rendering it. */
export class ChartRenderError extends Error {
  override name = "ChartRenderError";
}

// Vega measures all text through this one hook (vl-convert replaces it too); ours is pure, so
// replacing it for the whole process cannot disturb another render.
(vega as unknown as { textMetrics: { width: typeof vegaTextWidth } }).textMetrics.width = vegaTextWidth;

/**
 * A loader that refuses every URL and file, so no spec can reach the network or the disk. Vega only
 * warns when a load fails and draws an empty chart, so each refusal is also recorded as an error.
 */
function refusingLoader(errors: string[]): vega.Loader {
  const refuse = (what: string) => {
    const message = `${what} is disabled; put the data inline in the spec`;
    errors.push(message);
    return Promise.reject(new Error(message));
  };
  return {
    load: (uri) => refuse(`loading "${uri}"`),
    sanitize: (uri, options) => {
      if (options?.context !== "href") return refuse(`loading "${uri}"`);
      // Links are only written into the SVG, never followed, so ordinary ones may stay. Vega crashes
      // on a rejected link, so a script link resolves to no link and is reported as an error.
      if (!/^\s*(?:javascript|vbscript|data):/i.test(uri)) return Promise.resolve({ href: uri });
      errors.push(`the link "${uri}" is not allowed`);
      return Promise.resolve({ href: null } as unknown as { href: string });
    },
    http: (uri) => refuse(`fetching "${uri}"`),
    file: (filename) => refuse(`reading "${filename}"`),
  };
}

function messageOf(args: unknown[]): string {
  return args.map((a) => (a instanceof Error ? a.message : String(a))).join(" ");
}

/** FNV-1a, enough to give each distinct SVG its own short id prefix. */
function shortHash(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(36);
}

/** Where vega writes the ids of its clip paths and gradients: the definition and each reference. */
const DEF_ID_USE = /(id="|url\(#)(clip\d+|gradient_\d+)\b/g;

/**
 * Vega numbers clip paths and gradients with process-wide counters, so the same chart would get
 * different ids on each render. Renumber them in order of appearance under a per-chart prefix.
 */
function stableIds(svg: string, prefix: string | undefined): string {
  const ids = new Map<string, number>();
  for (const [, , id] of svg.matchAll(DEF_ID_USE)) if (!ids.has(id)) ids.set(id, ids.size);
  if (ids.size === 0) return svg;
  const renamed = (chartPrefix: string) =>
    svg.replace(DEF_ID_USE, (_, lead: string, id: string) => `${lead}${chartPrefix}-${ids.get(id)}`);
  return renamed(prefix ?? `vg${shortHash(renamed("vg"))}`);
}

/** NaN in an axis's scale or in a geometry attribute: what vega silently draws from non-numeric data. */
const NAN_IN_CHART =
  /aria-roledescription="axis" aria-label="[^"]*\bNaN\b|\s(?:d|transform|x|y|x2|y2|width|height)="[^"]*NaN/;

/** Renders a vega-lite spec to a standalone SVG string, themed with `CHART_CONFIG`. */
export async function renderSvg(spec: VegaLiteSpec, options: RenderOptions = {}): Promise<string> {
  const { scale = 1, idPrefix, onWarning = (message: string) => console.warn(message) } = options;
  if (!(scale > 0) || !Number.isFinite(scale)) {
    throw new RangeError(`renderSvg: options.scale must be a positive number, got ${scale}`);
  }
  if (idPrefix !== undefined && !/^[A-Za-z][\w-]*$/.test(idPrefix)) {
    throw new RangeError(`renderSvg: options.idPrefix must be a valid XML id, got "${idPrefix}"`);
  }
  const errors: string[] = [];
  const logger = vega.logger(vega.Warn, undefined, (method, _level, args) => {
    if (method === "error") errors.push(messageOf(args));
    else onWarning(messageOf(args));
  });

  const compiled = compile(spec, { config: CHART_CONFIG, logger }).spec;
  const view = new vega.View(vega.parse(compiled), {
    renderer: "none",
    loader: refusingLoader(errors),
    logger,
  });
  try {
    const svg = await view.toSVG(scale);
    if (errors.length > 0) throw new ChartRenderError(`renderSvg: ${errors.join("; ")}`);
    if (NAN_IN_CHART.test(svg)) {
      throw new ChartRenderError("renderSvg: the chart has NaN scales or coordinates; check the spec's data");
    }
    return stableIds(svg, idPrefix);
  } finally {
    view.finalize();
  }
}
