/**
 * The outermost middleware: gives each request an id of the server's own (a client's sane
 * `X-Request-Id` is kept beside it as the correlation id, echoed in `X-Correlation-Id`: clients
 * never choose the key under which a decision is audited),
 * and when the response is ready counts it in the metrics, writes the JSON-lines request log and
 * sets the headers every response carries (`nosniff`, `X-Frame-Options: DENY`).
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import type { Logger } from "./log.ts";
import type { ServerMetrics } from "./prometheus.ts";
import type { ServeBindings } from "./context.ts";
import { timeOrderedUuid } from "./audit/request_id.ts";

/** Incoming request ids kept as correlation ids: short, printable, no separators that could forge log lines. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Request id, timing, metrics, request log and common headers. */
export function observe(logger: Logger, metrics: ServerMetrics): MiddlewareHandler {
  return async (c, next) => {
    // A body the server read before the app (server.ts) counts in the request's duration, as any other does.
    const started = (c.env as ServeBindings | undefined)?.receivedAt ?? performance.now();
    const incoming = c.req.header("x-request-id");
    const correlationId = incoming !== undefined && SANE_REQUEST_ID.test(incoming) ? incoming : undefined;
    const requestId = timeOrderedUuid(); // time-ordered: the audit trail indexes it at one end
    c.set("requestId" as never, requestId as never);
    if (correlationId) c.set("correlationId" as never, correlationId as never);
    await next();
    const headers = c.res.headers;
    headers.set("X-Request-Id", requestId);
    if (correlationId) headers.set("X-Correlation-Id", correlationId);
    headers.set("X-Content-Type-Options", "nosniff");
    // CSP frame-ancestors covers current browsers; this header covers old ones.
    headers.set("X-Frame-Options", "DENY");
    const seconds = (performance.now() - started) / 1000;
    const route = routeLabel(c);
    metrics.request(c.req.method, route, c.res.status, seconds);
    if (logger.enabled("info")) {
      logger.info("request", {
        method: c.req.method,
        path: c.req.path,
        route,
        status: c.res.status,
        duration_ms: Math.round(seconds * 1e6) / 1000,
        request_id: requestId,
        ...(correlationId ? { correlation_id: correlationId } : {}),
      });
    }
  };
}

/** The pattern of the route that answered (a bounded label set), `static` for files, `unmatched` for 404s. */
function routeLabel(c: Context): string {
  const route = matchedRoutes(c)[c.req.routeIndex];
  // Only middleware (method ALL) ran: no route matched.
  if (!route || route.method === "ALL") return "unmatched";
  return route.path === "/*" ? "static" : route.path;
}
