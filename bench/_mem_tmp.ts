import { runScore } from "../pipeline/cli/score.ts";
let peak = 0;
const t = setInterval(() => {
  const m = Deno.memoryUsage();
  if (m.rss > peak) { peak = m.rss; console.error(`rss ${(m.rss/1e6).toFixed(0)} heapTotal ${(m.heapTotal/1e6).toFixed(0)} heapUsed ${(m.heapUsed/1e6).toFixed(0)} external ${(m.external/1e6).toFixed(0)}`); }
}, 100);
await runScore(Deno.args, { stdout: () => {}, stderr: () => {}, interactive: false });
clearInterval(t);
