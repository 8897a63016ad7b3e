import assert from "node:assert/strict";
import { parseTrainArgs } from "../../pipeline/cli/train.ts";
import { main as evaluateMain } from "../../pipeline/cli/evaluate.ts";
import { main as fairnessMain } from "../../pipeline/cli/fairness.ts";
import { UsageError } from "../../pipeline/errors.ts";

Deno.test("train: --profile, --exclude and --reweigh map onto the options; bad ones name the problem", () => {
  assert.deepEqual(parseTrainArgs([]).profile, { name: "full", excluded: [] });
  assert.equal(parseTrainArgs([]).mitigation, "none");
  assert.deepEqual(parseTrainArgs(["--profile", "fair"]).profile.excluded, [
    "personal_status",
    "age",
    "foreign_worker",
  ]);
  assert.deepEqual(parseTrainArgs(["--exclude", "housing,job"]).profile, {
    name: "custom",
    excluded: ["housing", "job"],
  });
  assert.equal(parseTrainArgs(["--profile", "fair", "--reweigh"]).mitigation, "reweigh");
  const usage = (args: string[], message: RegExp) =>
    assert.throws(() => parseTrainArgs(args), (e) => e instanceof UsageError && message.test(e.message));
  usage(["--profile", "unfair"], /unknown profile "unfair"/);
  usage(["--exclude", "age,gender"], /cannot exclude "gender"/);
  usage(["--profile", "fair", "--exclude", "age"], /cannot be combined/);
});

Deno.test("evaluate: a profile needs --nested, and an unknown one is a usage error", async () => {
  await assert.rejects(
    () => evaluateMain(["--profile", "fair"]),
    (e) => e instanceof UsageError && /--profile only applies with --nested/.test(e.message),
  );
  await assert.rejects(() => evaluateMain(["--reweigh"]), /--reweigh only applies with --nested/);
  await assert.rejects(
    () => evaluateMain(["--nested", "--profile", "nope", "--run", "20261126-185337-9124a5"]),
    (e) => e instanceof UsageError && /unknown profile "nope"/.test(e.message),
  );
});

Deno.test("fairness: bad flags are usage errors", async () => {
  await assert.rejects(
    () => fairnessMain(["--resamples", "10"]),
    (e) => e instanceof UsageError && /--resamples/.test(e.message),
  );
  await assert.rejects(() => fairnessMain(["--seed", "x"]), UsageError);
});
