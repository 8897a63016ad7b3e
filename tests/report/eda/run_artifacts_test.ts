/** Reading a run's files: the trials table. */

import assert from "node:assert/strict";
import { parseTrials } from "../../../pipeline/report/eda/run_artifacts.ts";
import { parseCsv } from "../../fixtures.ts";

Deno.test("parseCsv and parseTrials read what tracking writes", () => {
  assert.deepEqual(parseCsv('a,b\n1,"x, ""y"""\n2,\n'), [{ a: "1", b: 'x, "y"' }, { a: "2", b: "" }]);
  const trials = parseTrials(
    "number,state,value,duration_ms,nEstimators,maxDepth,maxFeatures,limitDepth,error\n" +
      "0,complete,0.5,10,100,5,sqrt,true,\n" +
      "1,pruned,0.45,5,200,,0.35,false,\n" +
      "2,failed,,1,150,8,log2,true,boom\n",
  );
  assert.deepEqual(trials[0], {
    number: 0,
    state: "complete",
    value: 0.5,
    durationMs: 10,
    params: { nEstimators: 100, maxDepth: 5, maxFeatures: "sqrt", limitDepth: "true" },
  });
  assert.deepEqual(trials[1].params, { nEstimators: 200, maxFeatures: "0.35", limitDepth: "false" });
  assert.equal(trials[2].value, null);
});
