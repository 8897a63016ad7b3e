import assert from "node:assert/strict";
import {
  repeatedStratifiedKFold,
  stratifiedKFold,
  stratifiedTrainTestSplit,
} from "../../pipeline/data/split.ts";

/** 700 good and 300 bad, interleaved so index order says nothing about class. */
const germanLike = Array.from({ length: 1000 }, (_, i) => (i % 10 < 3 ? 1 : 0));

function countClass(y: number[], indices: Int32Array, label: number): number {
  let count = 0;
  for (const i of indices) if (y[i] === label) count++;
  return count;
}

function assertPartition(train: Int32Array, test: Int32Array, n: number): void {
  const seen = new Uint8Array(n);
  for (const i of [...train, ...test]) seen[i]++;
  assert.ok(seen.every((c) => c === 1), "every index exactly once across train and test");
  assert.deepEqual([...train], [...train].sort((a, b) => a - b));
  assert.deepEqual([...test], [...test].sort((a, b) => a - b));
}

Deno.test("stratifiedTrainTestSplit keeps each class's share exactly", () => {
  const { train, test } = stratifiedTrainTestSplit(germanLike, { testSize: 0.2, seed: 7 });
  assert.equal(test.length, 200);
  assert.equal(countClass(germanLike, test, 1), 60);
  assert.equal(countClass(germanLike, test, 0), 140);
  assertPartition(train, test, germanLike.length);
});

Deno.test("stratifiedTrainTestSplit takes ceil(testSize·n) rows and gives leftovers by largest remainder", () => {
  const y = [0, 0, 0, 0, 0, 0, 0, 1, 1, 1];
  // ceil(0.25·10) = 3; shares 1.75 and 0.75 floor to 1 and 0; equal remainders go to the larger class first.
  const { train, test } = stratifiedTrainTestSplit(y, { testSize: 0.25, seed: 1 });
  assert.equal(test.length, 3);
  assert.equal(countClass(y, test, 0), 2);
  assert.equal(countClass(y, test, 1), 1);
  assertPartition(train, test, y.length);
});

Deno.test("stratifiedTrainTestSplit is deterministic for a seed and varies across seeds", () => {
  const a = stratifiedTrainTestSplit(germanLike, { seed: 3 });
  const b = stratifiedTrainTestSplit(germanLike, { seed: 3 });
  const c = stratifiedTrainTestSplit(germanLike, { seed: 4 });
  assert.deepEqual(a.test, b.test);
  assert.notDeepEqual(a.test, c.test);
});

Deno.test("stratifiedKFold covers every row once with balanced class counts", () => {
  const y = germanLike.slice(0, 997); // 997 rows: neither class divides evenly into 5 folds
  const folds = stratifiedKFold(y, { k: 5, seed: 11 });
  assert.equal(folds.length, 5);
  const timesInTest = new Uint8Array(y.length);
  for (const { train, test } of folds) {
    assertPartition(train, test, y.length);
    for (const i of test) timesInTest[i]++;
  }
  assert.ok(timesInTest.every((c) => c === 1));
  for (const label of [0, 1]) {
    const counts = folds.map((f) => countClass(y, f.test, label));
    assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `class ${label} counts ${counts}`);
  }
  const sizes = folds.map((f) => f.test.length);
  assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `fold sizes ${sizes}`);
});

Deno.test("stratifiedKFold is deterministic for a seed, varies across seeds, and needs no seed unshuffled", () => {
  assert.deepEqual(stratifiedKFold(germanLike, { seed: 5 }), stratifiedKFold(germanLike, { seed: 5 }));
  assert.notDeepEqual(
    stratifiedKFold(germanLike, { seed: 5 })[0].test,
    stratifiedKFold(germanLike, { seed: 6 })[0].test,
  );
  const y = [0, 1, 0, 1, 0, 1];
  assert.deepEqual(stratifiedKFold(y, { k: 3, shuffle: false }).map((f) => [...f.test]), [[0, 1], [2, 3], [
    4,
    5,
  ]]);
});

Deno.test("repeatedStratifiedKFold gives k·repeats folds, each repeat a partition with its own shuffle", () => {
  const folds = repeatedStratifiedKFold(germanLike, { k: 4, repeats: 3, seed: 2 });
  assert.equal(folds.length, 12);
  for (let repeat = 0; repeat < 3; repeat++) {
    const ofRepeat = folds.filter((f) => f.repeat === repeat);
    assert.deepEqual(ofRepeat.map((f) => f.fold), [0, 1, 2, 3]);
    assert.equal(ofRepeat.reduce((sum, f) => sum + f.test.length, 0), germanLike.length);
  }
  assert.notDeepEqual(folds[0].test, folds[4].test);
  assert.deepEqual(folds, repeatedStratifiedKFold(germanLike, { k: 4, repeats: 3, seed: 2 }));
});

Deno.test("split errors name the offending argument", () => {
  const y = [0, 0, 0, 1, 1, 1];
  for (const testSize of [0, 1, 1.5, -0.1, NaN]) {
    assert.throws(() => stratifiedTrainTestSplit(y, { testSize, seed: 1 }), /testSize/);
  }
  assert.throws(() => stratifiedTrainTestSplit(y, { testSize: 0.01, seed: 1 }), /testSize .* class/);
  assert.throws(() => stratifiedTrainTestSplit(y, {} as { seed: number }), /seed/);
  assert.throws(() => stratifiedTrainTestSplit([], { seed: 1 }), /y must not be empty/);
  assert.throws(() => stratifiedKFold(y, { k: 1, seed: 1 }), /k must be an integer of at least 2/);
  assert.throws(() => stratifiedKFold(y, { k: 2.5, seed: 1 }), /k must be an integer/);
  assert.throws(() => stratifiedKFold(y, { k: 4, seed: 1 }), /k = 4 exceeds the 3 rows of class 0/);
  assert.throws(() => stratifiedKFold(y, { k: 2 }), /seed/);
  assert.throws(() => stratifiedKFold([0, NaN], { k: 2, seed: 1 }), /y\[1\]/);
  assert.throws(() => repeatedStratifiedKFold(y, { k: 2, repeats: 0, seed: 1 }), /repeats/);
});
