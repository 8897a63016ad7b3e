/**
 * Prometheus metrics in the text exposition format (version 0.0.4): requests by route and status,
 * a latency histogram per route, predictions by decision, batch rows, model reloads and the
 * served model's version. Counting is a map lookup and a few additions per request.
 * @module
 */

import type { Decision } from "../model/artifact.ts";
import type { ServingModel } from "./model_holder.ts";

/** Latency bucket bounds in seconds (Prometheus convention), fine below 10 ms where `/predict` lives. */
export const LATENCY_BUCKETS = [
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
] as const;

interface Histogram {
  counts: Float64Array;
  sum: number;
  count: number;
}

/** The HTTP methods that get their own `method` label; every other name is "other". */
export const METHOD_LABELS: ReadonlySet<string> = new Set([
  "GET",
  "POST",
  "PUT",
  "DELETE",
  "PATCH",
  "HEAD",
  "OPTIONS",
]);

/** The `method` label of a request method: itself when in {@link METHOD_LABELS}, else "other". */
export function methodLabel(method: string): string {
  return METHOD_LABELS.has(method) ? method : "other";
}

/** The server's metrics. */
export class ServerMetrics {
  readonly #started = performance.now();
  readonly #requests = new Map<string, { method: string; route: string; status: number; count: number }>();
  readonly #latency = new Map<string, Histogram>();
  readonly #predictions = new Map<string, number>();
  readonly #batchRows = { scored: 0, rejected: 0 };
  readonly #reloads = { swapped: 0, unchanged: 0, failed: 0 };
  readonly #connectionsClosed = new Map<string, number>();
  #openConnections: (() => number) | null = null;

  /**
   * Counts one finished request; `route` is the matched pattern, not the raw path, and a method
   * outside {@link METHOD_LABELS} counts as "other", so clients cannot mint series.
   */
  request(rawMethod: string, route: string, status: number, seconds: number): void {
    const method = methodLabel(rawMethod);
    const key = `${method} ${route} ${status}`;
    const entry = this.#requests.get(key);
    if (entry) entry.count++;
    else this.#requests.set(key, { method, route, status, count: 1 });
    let histogram = this.#latency.get(route);
    if (!histogram) {
      histogram = { counts: new Float64Array(LATENCY_BUCKETS.length), sum: 0, count: 0 };
      this.#latency.set(route, histogram);
    }
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
      if (seconds <= LATENCY_BUCKETS[i]) {
        histogram.counts[i]++;
        break;
      }
    }
    histogram.sum += seconds;
    histogram.count++;
  }

  /** Counts decisions made (one for `/predict`, one per scored row of a batch). */
  predictions(decision: Decision, n = 1): void {
    this.#predictions.set(decision, (this.#predictions.get(decision) ?? 0) + n);
  }

  /** Counts rows of batches. */
  batchRows(scored: number, rejected: number): void {
    this.#batchRows.scored += scored;
    this.#batchRows.rejected += rejected;
  }

  /** Counts a reload by outcome. */
  reload(outcome: "swapped" | "unchanged" | "failed"): void {
    this.#reloads[outcome]++;
  }

  /** Counts a client connection the server closed (a deadline, the cap, a shutdown), by a fixed reason. */
  connectionClosed(reason: string): void {
    this.#connectionsClosed.set(reason, (this.#connectionsClosed.get(reason) ?? 0) + 1);
  }

  /** Where the open client connections are counted (the client guard), for a gauge. */
  countConnections(open: () => number): void {
    this.#openConnections = open;
  }

  /** The exposition text, with the model gauges taken from `serving`. */
  render(serving: ServingModel | null): string {
    const out: string[] = [];
    const help = (name: string, type: string, text: string) =>
      out.push(`# HELP ${name} ${text}`, `# TYPE ${name} ${type}`);

    help("http_requests_total", "counter", "HTTP requests by method, route pattern and status.");
    for (const r of this.#requests.values()) {
      out.push(
        `http_requests_total{method="${r.method}",route="${
          escape(r.route)
        }",status="${r.status}"} ${r.count}`,
      );
    }

    help("http_request_duration_seconds", "histogram", "Time from request to response, by route pattern.");
    for (const [route, h] of this.#latency) {
      const label = `route="${escape(route)}"`;
      let cumulative = 0;
      LATENCY_BUCKETS.forEach((bound, i) => {
        cumulative += h.counts[i];
        out.push(`http_request_duration_seconds_bucket{${label},le="${bound}"} ${cumulative}`);
      });
      out.push(`http_request_duration_seconds_bucket{${label},le="+Inf"} ${h.count}`);
      out.push(`http_request_duration_seconds_sum{${label}} ${h.sum}`);
      out.push(`http_request_duration_seconds_count{${label}} ${h.count}`);
    }

    help("predictions_total", "counter", "Decisions made, single and batch, by decision.");
    for (const decision of ["approve", "decline", "review"] as const) {
      out.push(`predictions_total{decision="${decision}"} ${this.#predictions.get(decision) ?? 0}`);
    }

    help("batch_rows_total", "counter", "Rows received in batches, by outcome.");
    out.push(`batch_rows_total{outcome="scored"} ${this.#batchRows.scored}`);
    out.push(`batch_rows_total{outcome="rejected"} ${this.#batchRows.rejected}`);

    help("model_reloads_total", "counter", "Model reloads by outcome.");
    for (const [outcome, n] of Object.entries(this.#reloads)) {
      out.push(`model_reloads_total{outcome="${outcome}"} ${n}`);
    }

    help("http_connections_closed_total", "counter", "Client connections closed by the server, by reason.");
    for (const [reason, n] of this.#connectionsClosed) {
      out.push(`http_connections_closed_total{reason="${reason}"} ${n}`);
    }
    if (this.#openConnections) {
      help("http_connections_open", "gauge", "Client connections open now.");
      out.push(`http_connections_open ${this.#openConnections()}`);
    }

    help("model_loaded", "gauge", "1 when a model is loaded and predictions are served.");
    out.push(`model_loaded ${serving ? 1 : 0}`);
    help("model_info", "gauge", "The served model: always 1, identified by its labels.");
    if (serving) {
      out.push(
        `model_info{version="${serving.version ?? ""}",run_id="${
          escape(serving.runId)
        }",sha256="${serving.sha256}",` +
          `schema_version="${escape(serving.model.artifact.schema_version)}"} 1`,
      );
    }

    help("process_uptime_seconds", "gauge", "Seconds since the server started.");
    out.push(`process_uptime_seconds ${((performance.now() - this.#started) / 1000).toFixed(3)}`);
    help("process_resident_memory_bytes", "gauge", "Resident set size.");
    out.push(`process_resident_memory_bytes ${Deno.memoryUsage().rss}`);
    return out.join("\n") + "\n";
  }
}

function escape(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}
