/**
 * For `deno task bench:ceiling --only answer` (ceiling_bench.ts): a server that reads each POST body
 * and answers the same `BYTES`-byte JSON body, and nothing else, so that what an answer's size
 * costs `Deno.serve` can be measured apart from any work. Deno 2.9.6 sends an HTTP/1.1 answer
 * whose status line, headers and body fit in 512 bytes in one `sendto`, and a larger one in two
 * (headers, then body; seen with `strace -f -e trace=sendto`).
 *
 * Usage: `deno run --allow-net=127.0.0.1 bench/ceiling_answer_server.ts PORT BYTES`.
 * @module
 */

const [portArg, bytesArg] = Deno.args;
const bytes = Number(bytesArg);
if (!Number.isInteger(bytes) || bytes < 8) throw new Error(`BYTES must be an integer ≥ 8, got ${bytesArg}`);
const answer = `{"x":"${"x".repeat(bytes - 8)}"}`;

Deno.serve(
  { port: Number(portArg), hostname: "127.0.0.1", onListen() {} },
  async (request) => {
    if (request.method === "GET") return new Response("ready"); // what waitReady asks
    await request.text();
    return new Response(answer, { headers: { "content-type": "application/json" } });
  },
);
