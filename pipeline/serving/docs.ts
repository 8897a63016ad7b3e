/**
 * `GET /docs`: Swagger UI served from this server, no CDN. The UI's files come from the
 * `swagger-ui-dist` npm package as text imports, so `deno compile` embeds them with the program
 * (no `--include` needed); they are loaded on the first visit, not at start.
 * @module
 */

import type { App } from "./context.ts";

/** The page's policy: Swagger UI sets inline styles, never inline script. */
const DOCS_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "frame-ancestors 'none'",
].join("; ");

const PAGE = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Credit risk API · docs</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/swagger-init.js"></script>
</body>
</html>
`;

const INIT = `window.addEventListener("load", () => {
  window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
});
`;

interface Asset {
  readonly type: string;
  readonly load: () => Promise<string>;
}

const ASSETS: Record<string, Asset> = {
  "swagger-ui.css": {
    type: "text/css; charset=utf-8",
    load: async () => (await import("swagger-ui-dist/swagger-ui.css", { with: { type: "text" } })).default,
  },
  "swagger-ui-bundle.js": {
    type: "text/javascript; charset=utf-8",
    load: async () =>
      (await import("swagger-ui-dist/swagger-ui-bundle.js", { with: { type: "text" } })).default,
  },
  "swagger-init.js": { type: "text/javascript; charset=utf-8", load: () => Promise.resolve(INIT) },
};

/** Registers `/docs` and its assets. */
export function registerDocs(app: App): void {
  const cache = new Map<string, Promise<string>>();
  app.get("/docs", (c) => {
    c.header("Content-Security-Policy", DOCS_CSP);
    c.header("Cache-Control", "no-cache");
    return c.html(PAGE);
  });
  app.get("/docs/:asset", async (c) => {
    const name = c.req.param("asset");
    const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
    if (!asset) return c.notFound();
    let text = cache.get(name);
    if (!text) cache.set(name, text = asset.load());
    c.header("Content-Type", asset.type);
    c.header("Cache-Control", "public, max-age=86400");
    return c.body(await text);
  });
}
