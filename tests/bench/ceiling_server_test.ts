import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { germanApplicants, trainFixtureModel } from "../fixtures.ts";
import { withTempDir } from "../temp.ts";
import { slow } from "../scope.ts";
import { freePort, spawnLeastServer } from "../../bench/wrk.ts";

// The yardstick of bench:ceiling is only a bound for servers that keep the audit contract if it
// keeps it too: a row committed (visible to another connection) before its answer, the model's
// own probability, and nothing recorded for a refused applicant.
Deno.test(
  "the least server answers the model's probability only after its row is committed",
  slow,
  async () => {
    const fixture = await trainFixtureModel();
    try {
      await withTempDir("credit-ceiling-", async (dir) => {
        const port = freePort();
        const audit = `${dir}/audit.sqlite`;
        const server = spawnLeastServer({
          port,
          modelPath: fixture.artifactPath,
          writable: dir,
          flags: ["--explain", "--audit", audit],
          stderr: "piped",
        });
        try {
          const base = `http://127.0.0.1:${port}`;
          for (let tries = 0;; tries++) {
            try {
              await (await fetch(base)).body?.cancel();
              break;
            } catch (error) {
              if (tries > 300) throw error;
              await new Promise((resolve) => setTimeout(resolve, 50));
            }
          }
          const applicants = (await germanApplicants()).slice(0, 40);
          const reader = new DatabaseSync(audit, { readOnly: true });
          try {
            const row = reader.prepare(
              "SELECT probability_bad, decision, reasons FROM decisions WHERE request_id = ?",
            );
            // Eight at a time, so that groups of several rows are committed together.
            for (let first = 0; first < applicants.length; first += 8) {
              const batch = applicants.slice(first, first + 8);
              const answers = await Promise.all(batch.map(async (applicant) => {
                const response = await fetch(`${base}/predict`, {
                  method: "POST",
                  headers: { "content-type": "application/json" },
                  body: JSON.stringify(applicant),
                });
                assert.equal(response.status, 200);
                const answer = await response.json();
                // Read at once, on another connection: the row must already be there.
                const stored = row.get(answer.request_id) as
                  | { probability_bad: number; decision: string; reasons: string }
                  | undefined;
                return { applicant, answer, stored };
              }));
              for (const { applicant, answer, stored } of answers) {
                assert.ok(stored, `request ${answer.request_id} was answered before its row was committed`);
                const probability = fixture.model.probabilityOne(applicant);
                assert.equal(answer.probability_bad, probability);
                assert.equal(stored.probability_bad, probability);
                assert.equal(stored.decision, fixture.model.decide(probability));
                assert.equal(answer.decision, stored.decision);
                // Reasons: the explanation's, which add up to the probability.
                const sum = answer.base_value +
                  answer.contributions.reduce((a: number, b: number) => a + b, 0);
                assert.ok(Math.abs(sum - probability) < 1e-9);
                assert.deepEqual(JSON.parse(stored.reasons), answer.reasons);
              }
            }
            const refused = await fetch(`${base}/predict`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ ...applicants[0], duration: -5 }),
            });
            assert.equal(refused.status, 422);
            await refused.body?.cancel();
            const count = reader.prepare("SELECT count(*) AS n FROM decisions").get() as { n: number };
            assert.equal(count.n, applicants.length);
          } finally {
            reader.close();
          }
        } finally {
          server.kill("SIGTERM");
          await server.status;
          await server.stderr.cancel();
        }
      });
    } finally {
      await fixture.cleanup();
    }
  },
);
