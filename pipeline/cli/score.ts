/**
 * `deno task score INPUT.csv [-o OUT.csv]`: offline batch scoring through the same code path as
 * `POST /predict/batch` (the served model, the same chunk parser, the same CSV/JSON output), on
 * worker threads, with a progress bar on stderr. CSV output streams (`streamCsvBytes`: the main
 * thread cuts lines and writes, batch workers parse, score and format whole chunks; memory holds
 * a few chunks, whatever the input's size); `--json`, and `--strict` to stdout, build the answer
 * whole (the forest on the prediction pool).
 *
 * Options: `--strict` (any invalid row fails the run and nothing is written), `--json`,
 * `--model PATH`, `--models-dir DIR`, `--review-margin X`, `--workers N` (0 = main thread only;
 * default: one per core, at most 4).
 * `MODEL`, `MODELS_DIR` and `REVIEW_MARGIN` are read as the server reads them. `SCORE_TIMINGS=1`
 * adds a line on stderr with the run's moments (modules loaded, workers started, model loaded, on the
 * streamed path first rows written and last byte written, workers closed), in seconds since the
 * runtime started.
 * Exit status: 0 scored (rejected rows are listed on stderr and in the output), 1 refused, 2 usage.
 * @module
 */

import { parseArgs } from "node:util";
import { writeFileAtomic } from "../tracking/atomic.ts";
import { ModelLoadError } from "../model/artifact.ts";
import { BatchInputError, type BatchResult, scoreCsv, StrictBatchError } from "../serving/batch.ts";
import { batchToCsv, batchToJson } from "../serving/batch_format.ts";
import { streamCsvBytes, type StreamSummary } from "../serving/batch_stream.ts";
import { BatchWorkers } from "../serving/batch_workers.ts";
import { ConfigError, configFromEnv } from "../serving/config.ts";
import { ModelHolder } from "../serving/model_holder.ts";
import { PredictionPool } from "../serving/predict_pool.ts";
import { runCli } from "./run_cli.ts";

const USAGE = "usage: deno task score INPUT.csv [-o OUT.csv] [--strict] [--json] [--model PATH] " +
  "[--models-dir DIR] [--review-margin X] [--workers N]";

/** Where the command writes: stdout for the scores when no `-o`, stderr for progress and messages. */
export interface ScoreIO {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Whether stderr is a terminal (the bar redraws in place there; elsewhere it prints a few lines). */
  interactive: boolean;
}

const encoder = new TextEncoder();
/** When this module's imports were loaded (for `SCORE_TIMINGS`). */
const modulesLoaded = performance.now();

/** The process's own streams. */
export const processIO: ScoreIO = {
  stdout: (text) => writeAll(Deno.stdout, text),
  stderr: (text) => writeAll(Deno.stderr, text),
  interactive: Deno.stderr.isTerminal(),
};

/** Runs the command; returns the exit status. */
export async function runScore(
  args: string[],
  io: ScoreIO = processIO,
  env = (n: string) => Deno.env.get(n),
): Promise<number> {
  let values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        out: { type: "string", short: "o" },
        strict: { type: "boolean", default: false },
        json: { type: "boolean", default: false },
        model: { type: "string" },
        "models-dir": { type: "string" },
        "review-margin": { type: "string" },
        workers: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    io.stderr(`score: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    io.stdout(USAGE + "\n");
    return 0;
  }
  if (positionals.length !== 1) {
    io.stderr(`score: expected one input file\n${USAGE}\n`);
    return 2;
  }
  let config;
  try {
    config = configFromEnv((name) => {
      if (name === "MODEL") return values.model ?? env(name);
      if (name === "MODELS_DIR") return values["models-dir"] ?? env(name);
      if (name === "REVIEW_MARGIN") return values["review-margin"] ?? env(name);
      // Workers parse and score whole chunks: one per core.
      if (name === "BATCH_WORKERS") return values.workers ?? env(name) ?? String(defaultWorkers());
      return ["LOG", "LOG_LEVEL"].includes(name) ? undefined : env(name);
    });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr(
      `score: ${
        error.message.replace("REVIEW_MARGIN", "--review-margin").replace("BATCH_WORKERS", "--workers")
      }\n`,
    );
    return 2;
  }

  const [input] = positionals;
  const started = performance.now();
  const timeline = env("SCORE_TIMINGS") ? new Timeline() : null;
  timeline?.at("modules loaded", modulesLoaded);
  timeline?.mark("arguments read");
  // The whole-text paths (--json, --strict to stdout) score on the prediction pool; the streamed
  // one hands whole chunks to batch workers, started now so they load while the model does.
  const wholeText = values.json || (values.strict && !values.out);
  const workers = !wholeText && config.batchWorkers > 0 ? new BatchWorkers(config.batchWorkers).warm() : null;
  timeline?.mark("workers started");
  let holder: ModelHolder;
  try {
    holder = await ModelHolder.open({ modelsDir: config.modelsDir, modelPath: config.modelPath });
  } catch (error) {
    workers?.close();
    if (!(error instanceof ModelLoadError)) throw error;
    io.stderr(`score: ${error.message}\n`);
    return 1;
  }
  const serving = holder.current!;
  timeline?.mark("model loaded");
  const pool = wholeText && config.batchWorkers > 0 ? new PredictionPool(config.batchWorkers) : null;
  const bar = new ProgressBar(io, started);
  const header = { serving, reviewMargin: config.reviewMargin };
  let summary: Pick<BatchResult, "rows" | "errors" | "errorsTotal">;
  try {
    // JSON answers carry counts before the rows, and a strict run to stdout must print nothing
    // on failure: both are built whole. Every other run streams.
    if (wholeText) {
      let text: string;
      try {
        text = await Deno.readTextFile(input);
      } catch (error) {
        io.stderr(`score: cannot read ${input}: ${(error as Error).message}\n`);
        return 1;
      }
      const result = await scoreCsv(serving, text, {
        strict: values.strict,
        pool,
        source: input,
        onProgress: (done, total) => bar.update(done, total),
      });
      bar.end();
      const output = values.json
        ? JSON.stringify(batchToJson(result, header)) + "\n"
        : batchToCsv(result, header);
      if (values.out) await writeFileAtomic(values.out, output);
      else io.stdout(output);
      summary = result;
    } else {
      let file: Deno.FsFile;
      try {
        file = await Deno.open(input);
      } catch (error) {
        io.stderr(`score: cannot read ${input}: ${(error as Error).message}\n`);
        return 1;
      }
      const size = (await file.stat()).size;
      let bytesRead = 0;
      const counted = readPieces(file, (n) => bytesRead += n);
      const streamed: StreamSummary = { rows: 0, errors: [], errorsTotal: 0 };
      let firstRows = true;
      const pieces = streamCsvBytes(serving, counted, streamed, {
        strict: values.strict,
        workers,
        source: input,
        reviewMargin: config.reviewMargin,
        // The last line is held until the input ends: 100 % is shown only by the final update.
        onProgress: (done) => {
          if (firstRows) timeline?.mark("first rows written");
          firstRows = false;
          bar.update(done, Math.max(done + 1, Math.round(done * size / Math.max(1, bytesRead))));
        },
      });
      if (values.out) {
        await writeFileAtomic(values.out, ReadableStream.from(pieces));
      } else {
        const decoder = new TextDecoder();
        for await (const piece of pieces) io.stdout(decoder.decode(piece, { stream: true }));
      }
      timeline?.mark("last byte written");
      bar.update(streamed.rows, streamed.rows);
      bar.end();
      summary = streamed;
    }
  } catch (error) {
    bar.end();
    if (error instanceof BatchInputError) {
      io.stderr(
        `score: ${input} cannot be scored:\n${
          error.issues.map((i) => `  ${i.field}: ${i.message}`).join("\n")
        }\n`,
      );
      return 1;
    }
    if (error instanceof StrictBatchError) {
      io.stderr(`score: ${error.message}; nothing written\n${describeErrors(error.result)}`);
      return 1;
    }
    throw error;
  } finally {
    pool?.close();
    workers?.close();
  }
  timeline?.mark("workers closed");
  if (timeline) io.stderr(timeline.report());

  const seconds = (performance.now() - started) / 1000;
  io.stderr(
    `scored ${summary.rows - summary.errorsTotal} of ${summary.rows} rows with model v${
      serving.version ?? "?"
    } ` +
      `(run ${serving.runId}) in ${seconds.toFixed(2)} s` + (values.out ? ` → ${values.out}` : "") + "\n" +
      describeErrors(summary),
  );
  return 0;
}

/** Workers by default: one per core (the main thread only cuts lines and writes), at most 4. */
function defaultWorkers(): number {
  return Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1));
}

/** Bytes read from this size of block: fewer, larger pieces than the file's stream gives. */
const READ_BYTES = 1 << 20;

/** The file's bytes in pieces (one buffer, refilled), each counted by `onRead`; the file is closed at the end. */
async function* readPieces(file: Deno.FsFile, onRead: (bytes: number) => void): AsyncGenerator<Uint8Array> {
  try {
    // One buffer for every read: the consumer copies what it keeps before asking for more.
    const buffer = new Uint8Array(READ_BYTES);
    for (;;) {
      let filled = 0;
      while (filled < buffer.length) {
        const n = await file.read(buffer.subarray(filled));
        if (n === null) break;
        filled += n;
      }
      if (filled === 0) return;
      onRead(filled);
      yield filled === buffer.length ? buffer : buffer.subarray(0, filled);
      if (filled < buffer.length) return;
    }
  } finally {
    file.close();
  }
}

function describeErrors(result: Pick<BatchResult, "errors" | "errorsTotal">, shown = 10): string {
  if (!result.errorsTotal) return "";
  const lines = result.errors.slice(0, shown).map((e) =>
    `  line ${e.line ?? "?"}: ${e.issues.map((i) => `${i.field}: ${i.message}`).join("; ")}`
  );
  const more = result.errorsTotal - lines.length;
  return `${result.errorsTotal} row(s) rejected:\n${lines.join("\n")}\n${
    more > 0 ? `  … and ${more} more\n` : ""
  }`;
}

/** A one-line progress bar: redrawn in place on a terminal, a line per quarter elsewhere. */
export class ProgressBar {
  readonly #io: ScoreIO;
  readonly #started: number;
  #shown = -1;
  #active = false;

  constructor(io: ScoreIO, started = performance.now()) {
    this.#io = io;
    this.#started = started;
  }

  /** Shows `done` of `total` rows. */
  update(done: number, total: number): void {
    const fraction = total === 0 ? 1 : done / total;
    const step = this.#io.interactive ? Math.floor(fraction * 100) : Math.floor(fraction * 4) * 25;
    if (step === this.#shown) return;
    this.#shown = step;
    const width = 30;
    const filled = Math.round(fraction * width);
    const seconds = ((performance.now() - this.#started) / 1000).toFixed(1);
    const text =
      `scoring [${"█".repeat(filled)}${"░".repeat(width - filled)}] ${String(step).padStart(3)}% ` +
      `${done.toLocaleString("en")}/${total.toLocaleString("en")} rows ${seconds} s`;
    if (this.#io.interactive) {
      this.#io.stderr(`\r${text}`);
      this.#active = true;
    } else {
      this.#io.stderr(text + "\n");
    }
  }

  /** Ends the bar's line. */
  end(): void {
    if (this.#active) this.#io.stderr("\n");
    this.#active = false;
  }
}

/** Moments of a run (`SCORE_TIMINGS=1`), in seconds since the runtime started: where start-up goes. */
class Timeline {
  readonly #marks = new Map<string, number>();

  /** Notes that `name` happened now. */
  mark(name: string): void {
    this.at(name, performance.now());
  }

  /** Notes that `name` happened at `time` (from `performance.now()`). */
  at(name: string, time: number): void {
    this.#marks.set(name, time);
  }

  /** One line for stderr. */
  report(): string {
    const marks = [...this.#marks].map(([name, time]) => `${name} ${(time / 1000).toFixed(3)}`);
    return `timings (s since the runtime started): ${marks.join(", ")}\n`;
  }
}

function writeAll(stream: { writeSync(p: Uint8Array): number }, text: string): void {
  const bytes = encoder.encode(text);
  let written = 0;
  while (written < bytes.length) written += stream.writeSync(bytes.subarray(written));
}

if (import.meta.main) await runCli("score", (args) => runScore(args));
