import assert from "node:assert/strict";
import { foldsCsv, parseFoldsCsv } from "../../bench/peers/folds.ts";
import { repeatedStratifiedKFold } from "../../pipeline/data/split.ts";

/** 70 good and 30 bad, interleaved. */
const labels = Uint8Array.from({ length: 100 }, (_, i) => (i % 10 < 3 ? 1 : 0));

Deno.test("folds.csv round-trips repeatedStratifiedKFold and checks partition and strata", () => {
  const folds = repeatedStratifiedKFold(labels, { k: 5, repeats: 3, seed: 20261128 });
  const text = foldsCsv(folds, (i) => i);
  assert.match(text, /^repeat,fold,row\n0,0,\d+\n/);
  const parsed = parseFoldsCsv(text, labels);
  assert.equal(parsed.repeats, 3);
  assert.equal(parsed.k, 5);
  assert.equal(parsed.rows, 100);
  assert.equal(parsed.folds.length, 15);
  parsed.folds.forEach((f, i) => {
    assert.deepEqual([f.repeat, f.fold], [folds[i].repeat, folds[i].fold]);
    assert.deepEqual(f.test, Array.from(folds[i].test));
  });
  // Rows are data lines: an offset mapping is written as given.
  assert.match(foldsCsv(folds.slice(0, 1), (i) => i + 1000), /\n0,0,10\d\d\n/);
});

Deno.test("folds.csv that is not a stratified partition is refused, naming the problem", () => {
  const text = foldsCsv(repeatedStratifiedKFold(labels, { k: 5, repeats: 2, seed: 1 }), (i) => i);
  const lines = text.trimEnd().split("\n");
  const [header, ...body] = lines;
  const join = (rows: string[]) => [header, ...rows].join("\n") + "\n";
  assert.throws(() => parseFoldsCsv(join(body.slice(1)), labels), /row \d+ is in no fold of repeat 0/);
  const duplicated = [...body];
  const firstRow = duplicated[0].split(",")[2];
  duplicated[1] = `0,0,${firstRow}`;
  assert.throws(
    () => parseFoldsCsv(join(duplicated), labels),
    new RegExp(`row ${firstRow} appears twice in repeat 0`),
  );
  assert.throws(
    () => parseFoldsCsv(join([...body, "0,0,100"]), labels),
    /line \d+: row 100 is beyond the data's 100 rows/,
  );
  assert.throws(() => parseFoldsCsv(join([...body, "0,x,1"]), labels), /fold must be a whole number/);
  assert.throws(() => parseFoldsCsv("repeat,row\n0,1\n", labels), /no fold column/);
  assert.throws(
    () => parseFoldsCsv(join(body.filter((l) => l.startsWith("0,"))).replaceAll("\n0,", "\n1,"), labels),
    /repeats must be numbered 0…0, found 1/,
  );
  // Unstratified: every bad row of repeat 0 in fold 0 and every good row dealt over folds 0–4.
  const unstratified = Array.from(labels, (bad, row) => `0,${bad ? 0 : row % 5},${row}`);
  assert.throws(
    () => parseFoldsCsv(join(unstratified), labels),
    /repeat 0 is not stratified: bad rows per fold range 0–30/,
  );
});
