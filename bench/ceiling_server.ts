/**
 * The least a `/predict` server must do, for `deno task bench:ceiling` (ceiling_bench.ts): not the
 * product, a yardstick. On `Deno.serve` alone (no framework, no middleware, no metrics, no client
 * guard), it reads the JSON body, validates it with the schema's `applicantOrNull`, scores it with
 * the served model and answers; `--explain` adds the attribute-level TreeSHAP and the points,
 * computed on the request thread; `--audit FILE` answers only after the decision's row is committed
 * to a SQLite file (WAL, `synchronous = FULL`, or `NORMAL` with `--sync-normal`) by a writer thread with group commit: the audit
 * trail's contract, with none of its reads, checkpointer, key indexing, restarts or health checks.
 * Several of these processes share a port (`reusePort`), as the server's replicas do.
 *
 * Usage: `deno run --unstable-net … bench/ceiling_server.ts PORT MODEL_JSON [--explain] [--audit FILE [--sync-normal]]`.
 * @module
 */

import { CreditModel } from "../pipeline/model/artifact.ts";
import { applicantOrNull } from "../pipeline/data/schema.ts";
import { GroupCommit, type PendingGroup } from "../pipeline/serving/audit/store.ts";

const [portArg, modelPath, ...flags] = Deno.args;
const explain = flags.includes("--explain");
const auditAt = flags.indexOf("--audit");
const auditPath = auditAt >= 0 ? flags[auditAt + 1] : null;
const { model, sha256 } = await CreditModel.load(modelPath);

/**
 * The trail's own group commit (audit/store.ts): the rows of one turn of the event loop go to the
 * writer thread as one message, and each resolves once the writer says its group is committed.
 * Resolves once the writer has opened the file and created the schema, so that the server, like
 * the product, listens only when it can record.
 */
function groupWriter(path: string, synchronous: "FULL" | "NORMAL"): Promise<GroupCommit> {
  const worker = new Worker(new URL("./ceiling_writer.ts", import.meta.url), { type: "module" });
  const sent = new Map<number, PendingGroup>();
  let next = 0;
  const opened = Promise.withResolvers<void>();
  worker.postMessage({ path, synchronous });
  worker.onerror = (event) => opened.reject(new Error(`audit writer: ${event.message}`));
  worker.onmessage = ({ data }: MessageEvent<number[] | "opened">) => {
    if (data === "opened") return opened.resolve();
    for (const id of data) {
      sent.get(id)!.resolve();
      sent.delete(id);
    }
  };
  const commit = new GroupCommit((group) => {
    const id = next++;
    sent.set(id, group);
    worker.postMessage({ id, rows: group.rows });
  }, () => null);
  return opened.promise.then(() => commit);
}

const writer = auditPath
  ? await groupWriter(auditPath, flags.includes("--sync-normal") ? "NORMAL" : "FULL")
  : null;

Deno.serve(
  { port: Number(portArg), hostname: "127.0.0.1", reusePort: true, onListen() {} },
  async (request) => {
    if (request.method === "GET") return new Response("ready"); // what waitReady asks
    const applicant = applicantOrNull(await request.json());
    if (applicant === null) return Response.json({ error: "invalid applicant" }, { status: 422 });
    const probability = model.probabilityOne(applicant);
    const decision = model.decide(probability);
    const answer: Record<string, unknown> = {
      probability_bad: probability,
      decision,
      pd: model.pd(probability),
      request_id: crypto.randomUUID(),
    };
    if (explain) {
      const { baseValue, contributions, reasons } = model.explain(applicant);
      const { basePoints, points } = model.points(probability, baseValue, contributions);
      // Typed arrays would serialise as objects keyed by index.
      Object.assign(answer, {
        base_value: baseValue,
        contributions: Array.from(contributions),
        base_points: basePoints,
        points: Array.from(points),
        reasons,
      });
    }
    await writer?.record({
      requestId: answer.request_id as string,
      correlationId: null,
      row: null,
      time: new Date().toISOString(),
      modelVersion: null,
      runId: "ceiling",
      modelSha256: sha256,
      threshold: model.threshold,
      reviewMargin: 0,
      inputs: applicant,
      probability,
      pd: answer.pd as number,
      decision,
      reasons: (answer.reasons as unknown[] | undefined) ?? null,
    });
    return Response.json(answer);
  },
);
