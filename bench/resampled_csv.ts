/**
 * The benchmarks' large batch files: rows drawn with replacement from german.data, seeded, so
 * `bench:serve` and `bench:score` score the same bytes for the same `n`.
 * @module
 */

import { Random } from "../pipeline/random.ts";
import { germanCsv } from "../tests/fixtures.ts";

/** Writes `n` rows drawn with replacement from german.data (seeded), with an id column; returns its bytes. */
export async function writeResampledCsv(path: string, n: number): Promise<number> {
  const lines = (await germanCsv()).trimEnd().split("\n");
  const header = lines[0];
  const body = lines.slice(1);
  const random = new Random(20_240_601);
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  const encoder = new TextEncoder();
  let bytes = 0;
  const write = async (text: string) => {
    const data = encoder.encode(text);
    bytes += data.length;
    for (let written = 0; written < data.length;) written += await file.write(data.subarray(written));
  };
  await write(`id,${header}\n`);
  const BLOCK = 50_000;
  for (let start = 0; start < n; start += BLOCK) {
    const chunk: string[] = [];
    for (let i = start; i < Math.min(n, start + BLOCK); i++) {
      chunk.push(`r${i + 1},${body[random.int(body.length)]}`);
    }
    await write(chunk.join("\n") + "\n");
  }
  file.close();
  return bytes;
}
