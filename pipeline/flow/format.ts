/**
 * Flows as text: one flow's steps and outcome ({@link formatFlow}, printed by `deno task flow`) and
 * the list of flows ({@link formatFlowList}, `deno task flows`).
 * @module
 */

import type { FlowRecord } from "./record.ts";

const seconds = (ms: number | null) => ms === null ? "–" : `${(ms / 1000).toFixed(2)} s`;

/** One flow: its steps (state, attempts, duration, summary or error) and its outcome. */
export function formatFlow(record: FlowRecord): string {
  const lines = [
    `flow ${record.flow_id}  ${record.status}  (data ${record.key_inputs.data_path}, key ${
      record.key.slice(0, 12)
    }…)`,
    ...record.steps.map((s) => {
      const detail = s.error
        ? `error: ${s.error}`
        : Object.entries(s.summary ?? {}).filter(([, v]) => v !== null).map(([k, v]) => `${k} ${short(v)}`)
          .join(", ");
      return `  ${s.name.padEnd(9)} ${s.state.padEnd(10)} ${
        String(s.attempts.length).padStart(2)
      } attempt(s) ${seconds(s.duration_ms).padStart(9)}  ${detail}`.trimEnd();
    }),
  ];
  if (record.outcome) {
    const o = record.outcome;
    lines.push(
      `outcome: ${
        o.decision === "promoted"
          ? `v${o.challenger?.version} promoted`
          : `v${o.challenger?.version} kept as challenger`
      }` +
        ` (production v${o.production_version ?? "none"}); ${o.reason}`,
    );
    if (o.deployed.length) lines.push(`deployed to ${o.deployed.map((d) => d.url).join(", ")}`);
  }
  if (record.error) lines.push(`failed at step ${record.error.step}: ${record.error.message}`);
  return lines.join("\n");
}

function short(value: unknown): string {
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : value.toFixed(4);
  if (Array.isArray(value)) return `[${value.map(short).join(", ")}]`;
  if (value && typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** Every flow, newest first, one line each. */
export function formatFlowList(flows: readonly FlowRecord[]): string {
  if (flows.length === 0) return "no flows yet (deno task flow --data FILE)";
  const header = ["flow", "status", "decision", "challenger", "production", "steps", "duration", "data"];
  const rows = flows.map((f) => [
    f.flow_id,
    f.status,
    f.outcome?.decision ?? (f.error ? `failed at ${f.error.step}` : "–"),
    f.outcome?.challenger ? `v${f.outcome.challenger.version}` : "–",
    f.outcome?.production_version ? `v${f.outcome.production_version}` : "–",
    `${f.steps.filter((s) => s.state === "completed").length}/${f.steps.length}`,
    seconds(f.duration_ms),
    f.key_inputs.data_path,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
