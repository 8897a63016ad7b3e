import assert from "node:assert/strict";
import { moduleTempDir } from "../temp.ts";
import { slow } from "../scope.ts";
import { DataError, loadCreditTable, parseCreditText, toApplicants } from "../../pipeline/data/etl.ts";
import { ATTRIBUTES } from "../../pipeline/data/schema.ts";

const rawText = await Deno.readTextFile("data/german.data");
const rawLines = rawText.split("\n").filter((l) => l.trim() !== "");

function withField(lineIndex: number, field: number, value: string): string {
  const lines = rawLines.slice(0, 5).map((l) => l.trim());
  const fields = lines[lineIndex].split(" ");
  fields[field] = value;
  lines[lineIndex] = fields.join(" ");
  return lines.join("\n") + "\n";
}

function dataError(fn: () => unknown): DataError {
  try {
    fn();
  } catch (error) {
    if (error instanceof DataError) return error;
    throw error;
  }
  assert.fail("expected a DataError");
}

Deno.test("data/german.data is the original file, byte for byte", async () => {
  const bytes = await Deno.readFile("data/german.data");
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  assert.equal(hex, "e2bc10785808eeb5e30462f0805edb73a672f295bc671dec0bca6e2fb5c8e1ca");
});

Deno.test("the 1,000 rows load with 700 good and 300 bad, every column typed per the schema", async () => {
  const table = await loadCreditTable();
  assert.equal(table.frame.height, 1000);
  assert.equal(table.bad!.length, 1000);
  assert.equal(table.bad!.reduce((s, v) => s + v, 0), 300);
  assert.deepEqual(table.frame.columns, [...ATTRIBUTES.map((a) => a.name), "bad"]);
  for (const a of ATTRIBUTES) {
    assert.equal(
      String(table.frame.getColumn(a.name).dtype),
      a.kind === "numeric" ? "DataType(Int32)" : "DataType(String)",
      a.name,
    );
  }
  assert.equal(table.lineNumbers[999], 1000);
  const first = toApplicants(table.frame)[0];
  assert.deepEqual([first.checking_status, first.duration, first.age, first.foreign_worker], [
    "A11",
    6,
    67,
    "A201",
  ]);
});

Deno.test("CRLF endings, trailing spaces and a final blank line load identically", () => {
  const clean = parseCreditText(rawLines.join("\n") + "\n", { format: "raw" });
  const messy = parseCreditText(rawLines.map((l) => l + "  ").join("\r\n") + "\r\n\r\n", { format: "raw" });
  assert.equal(messy.frame.height, 1000);
  assert.ok(messy.frame.frameEqual(clean.frame));
});

Deno.test("a wrong number of fields names the line", () => {
  const text = rawLines.slice(0, 3).join("\n") + "\nA11 6 A34\n";
  const error = dataError(() => parseCreditText(text, { format: "raw", source: "x.data" }));
  assert.equal(error.problems[0].line, 4);
  assert.match(
    error.message,
    /x\.data: 1 problem\n {2}line 4: expected 21 fields separated by spaces, found 3/,
  );
});

Deno.test("an unknown code names line, column and value", () => {
  const error = dataError(() => parseCreditText(withField(1, 0, "A19"), { format: "raw" }));
  assert.deepEqual(error.problems.map((p) => [p.line, p.column, p.value]), [[2, "checking_status", "A19"]]);
  assert.match(
    error.message,
    /line 2, column checking_status: unknown code; expected one of A11, A12, A13, A14/,
  );
});

Deno.test("non-numeric, non-integer and out-of-range numbers are reported, all of them", () => {
  let text = withField(2, 1, "6.5");
  const lines = text.trim().split("\n");
  lines[3] = lines[3].split(" ").map((f, i) => (i === 12 ? "x" : i === 4 ? "0" : f)).join(" ");
  text = lines.join("\n");
  const error = dataError(() => parseCreditText(text, { format: "raw" }));
  const found = error.problems.map((p) => `${p.line}:${p.column}:${p.value}:${p.message}`);
  assert.deepEqual(found.sort(), [
    "3:duration:6.5:expected a whole number",
    "4:age:x:not a number",
    "4:credit_amount:0:outside the accepted range 1–1000000 DM",
  ]);
});

Deno.test("a bad class value is reported", () => {
  const error = dataError(() => parseCreditText(withField(0, 20, "3"), { format: "raw" }));
  assert.deepEqual([error.problems[0].line, error.problems[0].column], [1, "class"]);
});

Deno.test("an empty file and a missing file give clear errors", async () => {
  assert.match(dataError(() => parseCreditText("\n\n", { format: "raw" })).message, /the file is empty/);
  await assert.rejects(
    loadCreditTable("does/not/exist.data"),
    /cannot read does\/not\/exist\.data: file not found/,
  );
});

Deno.test("a blank line inside the file is an error, not a silent skip", () => {
  const text = rawLines.slice(0, 2).join("\n") + "\n\n" + rawLines[2] + "\n";
  const error = dataError(() => parseCreditText(text, { format: "raw" }));
  assert.deepEqual([error.problems[0].line, error.problems[0].message], [3, "the line is empty"]);
});

const header = ATTRIBUTES.map((a) => a.name).join(",");

Deno.test("a CSV with a header of attribute names loads like the raw file, columns in any order", () => {
  const reversed = [...ATTRIBUTES].reverse();
  const rows = rawLines.slice(0, 50).map((l) => {
    const f = l.trim().split(" ");
    return [f[20], ...reversed.map((a) => f[a.position - 1])].join(",");
  });
  const csv = ["class," + reversed.map((a) => a.name).join(","), ...rows].join("\r\n");
  const fromCsv = parseCreditText(csv, { format: "csv" });
  const fromRaw = parseCreditText(rawLines.slice(0, 50).join("\n"), { format: "raw" });
  assert.ok(fromCsv.frame.frameEqual(fromRaw.frame));
  assert.equal(fromCsv.lineNumbers[0], 2);
});

Deno.test("a CSV without the class column is unlabelled; an id column passes through", () => {
  const f = rawLines[0].trim().split(" ");
  const table = parseCreditText(`id,${header}\n"app, 1",${f.slice(0, 20).join(",")}\n`, { format: "csv" });
  assert.equal(table.bad, null);
  assert.deepEqual(table.ids, ["app, 1"]);
  assert.equal(table.frame.width, 20);
});

Deno.test("CSV header problems are named: missing, unknown and duplicate columns", () => {
  const error = dataError(() => parseCreditText("duration,age,age,colour\n6,30,30,red\n", { format: "csv" }));
  const messages = error.problems.map((p) => `${p.column}: ${p.message}`);
  assert.ok(messages.includes("age: the column appears twice in the header"));
  assert.ok(messages.includes("colour: is not an attribute of the schema"));
  assert.ok(messages.includes("checking_status: the header lacks this required column"));
});

Deno.test("a CSV row with an empty value reports it as missing with its line", () => {
  const f = rawLines[0].trim().split(" ").slice(0, 20);
  f[12] = "";
  const error = dataError(() => parseCreditText(`${header}\n${f.join(",")}\n`, { format: "csv" }));
  assert.deepEqual(error.problems.map((p) => [p.line, p.column, p.message]), [[
    2,
    "age",
    "the value is missing",
  ]]);
});

Deno.test(
  "the etl command writes parquet, prints its summary, and fails on a broken file naming the line",
  slow,
  async () => {
    const dir = await moduleTempDir("etl-test-");
    const out = `${dir}/credit.parquet`;
    const etl = (...args: string[]) =>
      new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-read",
          `--allow-write=${dir}`,
          "--allow-ffi",
          "--allow-env",
          "--allow-sys",
          "pipeline/cli/etl.ts",
          ...args,
        ],
      }).output();
    const ok = await etl("--out", out);
    const stdout = new TextDecoder().decode(ok.stdout);
    assert.equal(ok.code, 0, new TextDecoder().decode(ok.stderr));
    assert.match(stdout, /rows: 1000\nclass balance: 700 good \(70\.0 %\), 300 bad \(30\.0 %\)/);
    assert.ok((await Deno.stat(out)).size > 1000);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["credit.parquet"]);

    const broken = `${dir}/broken.data`;
    await Deno.writeTextFile(broken, withField(3, 6, "A79"));
    const failed = await etl("--data", broken, "--out", out);
    const stderr = new TextDecoder().decode(failed.stderr);
    assert.equal(failed.code, 1);
    assert.match(stderr, /line 4, column employment: unknown code/);
    assert.doesNotMatch(stderr, / {4}at /);
    await Deno.remove(dir, { recursive: true });
  },
);
