/**
 * What the export tests use to run and inspect a graph with independent tools: onnxruntime-node
 * (Microsoft's runtime, the one the README's recipes use) and Debian's python3-onnx (the reference
 * protobuf parser and checker). Only tests/export and bench/onnx_bench.ts import onnxruntime.
 */

import * as ort from "onnxruntime-node";
import type { Applicant } from "../../pipeline/data/schema.ts";
import { feedColumns } from "../../pipeline/export/verify.ts";

/** Debian's Python, which has python3-onnx (the CI installs it). */
export const PYTHON = "/usr/bin/python3";

/** An onnxruntime session for a model's bytes. */
export function openSession(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes);
}

/** Runs a session on named inputs; returns every output's data. */
export async function run(
  session: ort.InferenceSession,
  inputs: Record<
    string,
    { type: "string" | "float64"; data: string[] | Float64Array; dims: readonly number[] }
  >,
): Promise<Record<string, { data: ArrayLike<number>; dims: readonly number[]; type: string }>> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, c] of Object.entries(inputs)) {
    feeds[name] = c.type === "string"
      ? new ort.Tensor("string", c.data as string[], [...c.dims])
      : new ort.Tensor("float64", c.data as Float64Array, [...c.dims]);
  }
  const out = await session.run(feeds);
  return Object.fromEntries(
    Object.entries(out).map((
      [name, t],
    ) => [name, { data: t.data as ArrayLike<number>, dims: t.dims, type: t.type }]),
  );
}

/** The scoring graph's outputs for applicants. */
export async function runScores(
  session: ort.InferenceSession,
  applicants: readonly Applicant[],
): Promise<{ probability: ArrayLike<number>; pd: ArrayLike<number>; dims: readonly number[][] }> {
  const out = await run(session, feedColumns(applicants));
  return {
    probability: out.probability_bad.data,
    pd: out.pd.data,
    dims: [[...out.probability_bad.dims], [...out.pd.dims]],
  };
}

/** Runs a Python script with Debian's python3 (arguments after the script); returns its stdout as JSON. */
export async function python(script: string, ...args: string[]): Promise<unknown> {
  const { code, stdout, stderr } = await new Deno.Command(PYTHON, { args: ["-c", script, ...args] }).output();
  const text = new TextDecoder().decode(stdout);
  if (code !== 0) throw new Error(`python3 failed (${code}): ${new TextDecoder().decode(stderr)}`);
  return JSON.parse(text);
}

/** `onnx.checker.check_model(full_check=True)` on a file: null when it passes, else the checker's message. */
export async function onnxCheck(path: string): Promise<string | null> {
  const result = await python(
    `
import json, sys, onnx
try:
    onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)
    print(json.dumps(None))
except Exception as e:
    print(json.dumps(str(e)))
`,
    path,
  );
  return result as string | null;
}
