/**
 * Flows as text: the list `deno task flows` prints (one aligned row per flow, the decision or where
 * it failed) and one flow's steps with its outcome.
 */
import assert from "node:assert/strict";
import { formatFlow, formatFlowList } from "../../pipeline/flow/format.ts";
import type { FlowRecord } from "../../pipeline/flow/record.ts";

const step = (
  name: string,
  state: "completed" | "failed" | "pending",
  extra: Partial<FlowRecord["steps"][0]> = {},
) => ({
  name,
  state,
  attempts: state === "pending" ? [] : [{
    attempt: 1,
    started_at: "2026-11-28T02:15:00Z",
    ended_at: "2026-11-28T02:15:01Z",
    duration_ms: 1000,
    error: null,
  }],
  duration_ms: state === "pending" ? null : 1000,
  session: 1,
  summary: null,
  error: null,
  ...extra,
});

function flow(id: string, outcome: FlowRecord["outcome"], error: FlowRecord["error"] = null): FlowRecord {
  return {
    format_version: 1,
    flow_id: id,
    key: "a".repeat(64),
    key_inputs: { data_path: "data/new.data", data_sha256: "b", config_sha256: "c", code_version: "d" },
    config: {},
    models_dir: "models",
    status: outcome ? "succeeded" : "failed",
    sessions: [],
    created_at: "2026-11-28T02:15:00Z",
    updated_at: "2026-11-28T02:15:00Z",
    finished_at: null,
    duration_ms: outcome ? 21_500 : 1000,
    steps: outcome
      ? [step("validate", "completed", { summary: { rows: 1000, skipped: null } }), step("gate", "completed")]
      : [step("validate", "failed", { error: "line 3: bad" }), step("gate", "pending")],
    outcome,
    links: { runs: {} },
    error,
  };
}

const promoted = flow("20261128-021500-aaaaaaaaaaaa", {
  decision: "promoted",
  reason: "passed",
  challenger: { version: 7, run_id: "r7" },
  champion: { version: 6, run_id: "r6" },
  production_version: 7,
  deployed: [],
});
const failed = flow("20261127-021500-aaaaaaaaaaaa", null, { step: "validate", message: "line 3: bad" });

Deno.test("the list: one aligned row per flow, with the decision or the failing step", () => {
  const lines = formatFlowList([promoted, failed]).split("\n");
  assert.equal(lines.length, 4);
  assert.match(
    lines[0],
    /^flow {26}status {5}decision {12}challenger {2}production {2}steps {2}duration {2}data$/,
  );
  assert.match(
    lines[2],
    /^20261128-021500-aaaaaaaaaaaa {2}succeeded {2}promoted {12}v7 {10}v7 {10}2\/2 {4}21\.50 s {3}data\/new\.data$/,
  );
  assert.match(lines[3], /^20261127-021500-aaaaaaaaaaaa {2}failed {5}failed at validate {2}– .* 0\/2 /);
  assert.equal(formatFlowList([]), "no flows yet (deno task flow --data FILE)");
});

Deno.test("one flow: steps with their summary (nulls left out) or error, then the outcome", () => {
  const text = formatFlow(promoted);
  assert.match(text, /\n {2}validate {2}completed {3}1 attempt\(s\) {4}1\.00 s {2}rows 1000\n/);
  assert.match(text, /outcome: v7 promoted \(production v7\); passed$/);
  assert.match(formatFlow(failed), /error: line 3: bad[\s\S]*failed at step validate: line 3: bad$/);
});
