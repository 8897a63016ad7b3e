/**
 * Serves the browser app's folder: correct content types, a Content-Security-Policy without
 * inline script, revalidated caching by ETag, and no way out of the folder (dot segments in any
 * encoding, separators inside a segment, hidden files and symbolic links leading elsewhere are
 * all refused as not found). The folder's tooling configuration is not served either.
 * @module
 */

import type { Context } from "hono";
import { accepts } from "hono/accepts";
import { ApiError } from "./errors.ts";

/** The policy of every page served: scripts, styles and data from this origin only. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const CONTENT_TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  mjs: "text/javascript; charset=utf-8",
  json: "application/json; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  webp: "image/webp",
  ico: "image/x-icon",
  txt: "text/plain; charset=utf-8",
  woff2: "font/woff2",
  map: "application/json; charset=utf-8",
};

/**
 * File names in the folder that belong to the tooling, not to the app: `static/deno.json` makes
 * the folder a workspace member so that `deno check` types its JavaScript with the DOM's types.
 */
const NOT_SERVED = new Set(["deno.json", "deno.jsonc"]);

/** The content type for a file name (by extension). */
export function contentType(name: string): string {
  const dot = name.lastIndexOf(".");
  return (dot >= 0 && CONTENT_TYPES[name.slice(dot + 1).toLowerCase()]) || "application/octet-stream";
}

/**
 * The file under `root` that a URL path names, or null when the path is not a plain relative file
 * name (traversal, hidden files, bad encoding) or names the tooling's configuration. `/` and
 * folders mean their `index.html`.
 */
export function resolveStaticPath(root: URL, pathname: string): URL | null {
  const segments: string[] = [];
  for (const raw of pathname.split("/").slice(1)) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return null;
    }
    if (segment === "" || segment.startsWith(".") || /[\/\\\0]/.test(segment)) {
      if (segment === "" && raw === "") continue; // "//" or a trailing slash
      return null;
    }
    segments.push(segment);
  }
  if (NOT_SERVED.has(segments.at(-1)?.toLowerCase() ?? "")) return null;
  const url = new URL(segments.map(encodeURIComponent).join("/"), root);
  return url.href.startsWith(root.href) ? url : null;
}

/** A handler serving files from `root` (a file URL ending in `/`). */
export function staticFiles(root: URL) {
  let realRoot: Promise<string | null> | undefined;
  return async (c: Context): Promise<Response> => {
    const notFound = new ApiError(404, "not_found", `no file at ${c.req.path}`);
    let url = resolveStaticPath(root, new URL(c.req.url).pathname);
    if (!url) throw notFound;
    let info = await stat(url);
    if (info?.isDirectory) {
      url = new URL(url.href.endsWith("/") ? `${url.href}index.html` : `${url.href}/index.html`);
      info = await stat(url);
    }
    if (!info?.isFile) throw notFound;
    // A symbolic link inside the folder must not lead out of it.
    realRoot ??= Deno.realPath(root).catch(() => null);
    const [base, real] = await Promise.all([realRoot, Deno.realPath(url).catch(() => null)]);
    if (!base || !real || !real.startsWith(base + "/")) throw notFound;

    return await serveFile(c, url, info);
  };
}

/** Answers with one file's bytes and the headers of every served page or asset. */
export async function serveFile(c: Context, url: URL, info?: Deno.FileInfo): Promise<Response> {
  info ??= await Deno.stat(url);
  const etag = `W/"${info.size.toString(36)}-${(info.mtime?.getTime() ?? 0).toString(36)}"`;
  const type = contentType(url.pathname);
  const headers = new Headers({
    "Content-Type": type,
    "Cache-Control": type.startsWith("text/html") ? "no-cache" : "public, max-age=3600, must-revalidate",
    ETag: etag,
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
  });
  if (c.req.header("if-none-match") === etag) return new Response(null, { status: 304, headers });
  return new Response(await Deno.readFile(url), { status: 200, headers });
}

/**
 * The page `name` under `root` when the client asks for HTML (a browser's navigation), else null:
 * one URL serves a page to browsers and JSON to everyone else.
 */
export async function htmlPageFor(c: Context, root: URL, name: string): Promise<Response | null> {
  const wantsHtml = accepts(c, {
    header: "Accept",
    supports: ["application/json", "text/html"],
    default: "application/json",
  }) === "text/html";
  const page = wantsHtml ? await hasStaticFile(root, name) : null;
  return page ? await serveFile(c, page) : null;
}

/** Whether `name` exists as a file under `root`. */
export async function hasStaticFile(root: URL, name: string): Promise<URL | null> {
  const url = new URL(name, root);
  return (await stat(url))?.isFile ? url : null;
}

async function stat(url: URL): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.stat(url);
  } catch {
    return null;
  }
}
