/**
 * A 128 MiB CSV batch (the default body limit, 1.4 million rows) POSTed to a real server process,
 * with the audit trail on and default workers, raises the server's peak resident memory (`VmHWM`
 * in /proc/<pid>/status) by less than {@link GROWTH_BOUND_MB} over the peak a 200,000-row (19 MB)
 * batch reached, and the peak stays under {@link PEAK_RSS_BOUND_MB}. Before streaming, the route held
 * the body, its text and the whole result: a 15 MB batch took RSS from 530 MB to 966 MB (issue 17).
 *
 * The bounds. Any batch starts the fixed costs: two scoring workers and the audit writer (each a
 * V8 isolate with its heap), SQLite's caches and V8's headroom between collections; measured here
 * at 250–450 MB of peak once a batch has run a while, whatever its size (10,000 rows: 254 MB;
 * 100,000: 494 MB; 200,000: 564–607 MB; 1.4 million: 537–592 MB). What streaming bounds is the
 * growth with size: a few chunks of 8,192 rows in flight, the rows themselves on disk (trail,
 * spool). Holding the body and its decoded text alone would add 268 MB (and the old route added
 * about 29 times its body: 436 MB for 15 MB), hence 256 MB, which leaves room for GC timing: the
 * growth measured 82–157 MB across runs. The absolute bound catches any return to holding batches.
 */
import assert from "node:assert/strict";
import { germanCsv, serveProcess, trainFixtureModel } from "../fixtures.ts";
import { listeningUrl } from "../serving/audit_backends.ts";
import { afterAllTests, moduleTempDir } from "../temp.ts";

/** Peak RSS the server may reach while scoring the 128 MiB batch. */
const PEAK_RSS_BOUND_MB = 768;
/** What the 128 MiB batch may add to the peak of a 200,000-row (19 MB) batch. */
const GROWTH_BOUND_MB = 256;
const BODY_BYTES = 128 * 1024 * 1024;

const fixture = await trainFixtureModel({ nEstimators: 20 });
afterAllTests(() => fixture.cleanup());
const work = await moduleTempDir("credit-batch-memory-");

/** Writes german.data's rows over and over, each with an id, until just under `bytes`. */
async function writeBigCsv(path: string, bytes: number, maxRows = Infinity): Promise<number> {
  const lines = (await germanCsv()).trimEnd().split("\n");
  const encoder = new TextEncoder();
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  let size = 0;
  let rows = 0;
  const write = async (text: string) => {
    const data = encoder.encode(text);
    for (let at = 0; at < data.length;) at += await file.write(data.subarray(at));
    size += data.length;
  };
  await write(`id,${lines[0]}\n`);
  for (;;) {
    let block = "";
    for (let k = 0; k < 10_000; k++) block += `applicant-${rows + k},${lines[1 + ((rows + k) % 1000)]}\n`;
    if (size + block.length > bytes || rows >= maxRows) break;
    await write(block);
    rows += 10_000;
  }
  file.close();
  return rows;
}

function statusKb(pid: number, field: "VmHWM" | "VmRSS"): number {
  // Deno grants /proc/<pid>/ only under --allow-all; the test task does not run with it.
  const read = new Deno.Command("cat", { args: [`/proc/${pid}/status`] }).outputSync();
  if (!read.success) {
    throw new Error(`cannot read /proc/${pid}/status: ${new TextDecoder().decode(read.stderr)}`);
  }
  const status = new TextDecoder().decode(read.stdout);
  return Number(status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"))![1]);
}

Deno.test({
  name:
    `a 128 MiB CSV batch adds < ${GROWTH_BOUND_MB} MB to a small batch's peak RSS, < ${PEAK_RSS_BOUND_MB} MB`,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const input = `${work}/big.csv`;
    const rows = await writeBigCsv(input, BODY_BYTES);
    const small = `${work}/small.csv`;
    const smallRows = await writeBigCsv(small, BODY_BYTES, 200_000);
    const child = serveProcess({
      MODELS_DIR: fixture.modelsDir,
      AUDIT_PATH: `${work}/audit/audit.sqlite`,
      BATCH_MAX_CSV_ROWS: "2000000",
    }, work);
    try {
      const url = await listeningUrl(child);
      const idle = statusKb(child.pid, "VmRSS") / 1024;
      const send = async (path: string) => {
        // Sent with its length from the client's memory, not the server's.
        const response = await fetch(new URL("/predict/batch", url), {
          method: "POST",
          body: await Deno.readFile(path),
          headers: { "content-type": "text/csv", accept: "text/csv" },
        });
        assert.equal(response.status, 200);
        // The answer is read as it comes, counting lines, not held.
        let lines = 0;
        for await (const piece of response.body!.pipeThrough(new TextDecoderStream())) {
          for (let at = piece.indexOf("\n"); at >= 0; at = piece.indexOf("\n", at + 1)) lines++;
        }
        return lines;
      };
      assert.equal(await send(small), smallRows + 1);
      const afterSmall = statusKb(child.pid, "VmHWM") / 1024;
      assert.equal(await send(input), rows + 1);
      const peak = statusKb(child.pid, "VmHWM") / 1024;
      console.log(
        `${rows} rows, ${BODY_BYTES / 1024 / 1024} MiB: idle RSS ${idle.toFixed(0)} MB, peak after ` +
          `${smallRows} rows ${afterSmall.toFixed(0)} MB, after the 128 MiB batch ${peak.toFixed(0)} MB`,
      );
      assert.ok(peak - afterSmall < GROWTH_BOUND_MB, `grew ${(peak - afterSmall).toFixed(0)} MB`);
      assert.ok(peak < PEAK_RSS_BOUND_MB, `peak RSS ${peak.toFixed(0)} MB (idle ${idle.toFixed(0)} MB)`);
    } finally {
      child.kill("SIGTERM");
      await child.status;
      await child.stderr.cancel().catch(() => {});
    }
  },
});
