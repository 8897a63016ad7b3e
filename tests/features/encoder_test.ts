import assert from "node:assert/strict";
import { loadCreditTable, toApplicants } from "../../pipeline/data/etl.ts";
import { EncodingError, ENGINEERED_FEATURES, FeatureEncoder } from "../../pipeline/features/encoder.ts";
import type { Applicant } from "../../pipeline/data/schema.ts";

const table = await loadCreditTable();
const applicants = toApplicants(table.frame);

Deno.test("record path and table path give identical numbers for all 1,000 rows", () => {
  for (const orderedAsOrdinal of [true, false]) {
    const encoder = FeatureEncoder.fit(table.frame, { orderedAsOrdinal });
    const fromFrame = encoder.transformFrame(table.frame);
    const fromRecords = encoder.transformRecords(applicants);
    assert.equal(fromFrame.rows, 1000);
    assert.equal(fromFrame.cols, encoder.nFeatures);
    assert.deepEqual(fromFrame.data, fromRecords.data);
  }
});

Deno.test("engineered features match the analyst's arithmetic", () => {
  const encoder = FeatureEncoder.fit(applicants);
  const names = encoder.featureNames;
  const row = encoder.transformOne(applicants[0]); // 1169 DM over 6 months, age 67, rate band 4
  assert.equal(row[names.indexOf("monthly_instalment")], 1169 / 6);
  assert.equal(row[names.indexOf("amount_per_age_year")], 1169 / 67);
  assert.equal(row[names.indexOf("income_proxy")], 1169 / 6 / 4);
  assert.equal(row[names.indexOf("age_band")], 4);
  const young = encoder.transformOne({ ...applicants[0], age: 24 });
  assert.equal(young[names.indexOf("age_band")], 0);
  assert.equal(encoder.transformOne({ ...applicants[0], age: 25 })[names.indexOf("age_band")], 1);
  assert.deepEqual(ENGINEERED_FEATURES.map((f) => f.name), names.slice(-4));
});

Deno.test("an encoder fitted on a subset depends only on that subset", () => {
  const subset = applicants.slice(0, 200);
  const a = FeatureEncoder.fit(subset);
  const changedOutside = applicants.map((r, i) => (i >= 200 ? { ...r, purpose: "A47" as const } : r));
  const b = FeatureEncoder.fit(changedOutside.slice(0, 200));
  assert.deepEqual(a.toJSON(), b.toJSON());
  const full = FeatureEncoder.fit(applicants);
  // Only codes present in the subset get a column.
  const purposes = new Set(subset.map((r) => r.purpose));
  assert.deepEqual(new Set(a.levels.purpose), purposes);
  assert.ok(full.nFeatures >= a.nFeatures);
});

Deno.test("a valid code unseen in training encodes as all zeros; a code outside the schema is an error", () => {
  const encoder = FeatureEncoder.fit(applicants);
  assert.ok(!encoder.levels.purpose.includes("A47"));
  const row = encoder.transformOne({ ...applicants[0], purpose: "A47" });
  const purposeColumns = encoder.featureNames.map((n, i) => [n, i] as const).filter(([n]) =>
    n.startsWith("purpose=")
  );
  assert.ok(purposeColumns.length > 0);
  for (const [, i] of purposeColumns) assert.equal(row[i], 0);
  assert.throws(
    () => encoder.transformOne({ ...applicants[0], purpose: "A99" } as unknown as Applicant),
    (e: unknown) =>
      e instanceof EncodingError && e.attribute === "purpose" && /unknown code "A99"/.test(e.message),
  );
  assert.throws(
    () => encoder.transformOne({ ...applicants[0], savings_status: "A60" } as unknown as Applicant),
    /savings_status: unknown code "A60"/,
  );
  assert.throws(
    () => encoder.transformOne({ ...applicants[0], age: "old" } as unknown as Applicant),
    /age: expected a number/,
  );
});

Deno.test("JSON round trip restores the same encoding, and a foreign version is refused", () => {
  const encoder = FeatureEncoder.fit(applicants.slice(0, 300), { orderedAsOrdinal: false });
  const restored = FeatureEncoder.fromJSON(JSON.parse(JSON.stringify(encoder)));
  assert.deepEqual(restored.featureNames, encoder.featureNames);
  assert.deepEqual(restored.transformRecords(applicants).data, encoder.transformRecords(applicants).data);
  assert.throws(
    () => FeatureEncoder.fromJSON({ ...encoder.toJSON(), formatVersion: 99 }),
    /formatVersion 99/,
  );
  assert.throws(
    () => FeatureEncoder.fromJSON({ ...encoder.toJSON(), levels: { purpose: ["A99"] } }),
    /unknown code A99/,
  );
});

Deno.test("ordered attributes are ordinal ranks by default and one-hot on request", () => {
  const ordinal = FeatureEncoder.fit(applicants);
  const i = ordinal.featureNames.indexOf("employment");
  assert.equal(ordinal.transformOne({ ...applicants[0], employment: "A71" })[i], 0);
  assert.equal(ordinal.transformOne({ ...applicants[0], employment: "A75" })[i], 4);
  const onehot = FeatureEncoder.fit(applicants, { orderedAsOrdinal: false });
  assert.ok(onehot.featureNames.includes("employment=A75"));
  assert.ok(!onehot.featureNames.includes("employment"));
});

Deno.test("every feature column names the raw attributes it comes from", () => {
  const encoder = FeatureEncoder.fit(applicants);
  const byName = Object.fromEntries(encoder.columns.map((c) => [c.name, c.sources]));
  assert.deepEqual(byName["checking_status=A11"], ["checking_status"]);
  assert.deepEqual(byName.monthly_instalment, ["credit_amount", "duration"]);
});

Deno.test("an excluded attribute gets no column, nor does any feature derived from it, and is never read", async () => {
  const table = await loadCreditTable(new URL("../../data/german.data", import.meta.url).pathname);
  const fair = FeatureEncoder.fit(table.frame, { excluded: ["personal_status", "age", "foreign_worker"] });
  const full = FeatureEncoder.fit(table.frame);
  // Oracle written out by hand: the full encoder's columns minus those of the three attributes and
  // of the two age-derived features.
  const dropped = (name: string) =>
    /^(personal_status|foreign_worker)=/.test(name) ||
    ["age", "amount_per_age_year", "age_band"].includes(name);
  assert.deepEqual(fair.featureNames, full.featureNames.filter((n) => !dropped(n)));
  // personal_status: 4 columns (A95 never occurs), foreign_worker 2, age, amount_per_age_year, age_band.
  assert.equal(fair.featureNames.length, full.featureNames.length - 9);
  assert.ok(
    fair.columns.every((c) =>
      c.sources.every((s) => !["personal_status", "age", "foreign_worker"].includes(s))
    ),
  );
  // Values of excluded attributes are not even validated: they never reach the encoder's arithmetic.
  const applicants = toApplicants(table.frame);
  const a = applicants[0];
  const garbage = {
    ...a,
    age: "not a number",
    personal_status: "A99",
    foreign_worker: null,
  } as unknown as Applicant;
  assert.deepEqual(Array.from(fair.transformOne(garbage)), Array.from(fair.transformOne(a)));
  assert.throws(() => full.transformOne(garbage), EncodingError);
  // Table path agrees with the record path, and the JSON round trip keeps the exclusion.
  const X = fair.transformFrame(table.frame);
  assert.deepEqual(Array.from(X.data.subarray(0, X.cols)), Array.from(fair.transformOne(a)));
  const restored = FeatureEncoder.fromJSON(JSON.parse(JSON.stringify(fair.toJSON())));
  assert.deepEqual(restored.featureNames, fair.featureNames);
  assert.deepEqual(restored.options.excluded, ["personal_status", "age", "foreign_worker"]);
});

Deno.test("an encoder saved before profiles existed reads as seeing every attribute; a bad exclusion is refused", async () => {
  const table = await loadCreditTable(new URL("../../data/german.data", import.meta.url).pathname);
  const json = FeatureEncoder.fit(table.frame).toJSON();
  const { excluded: _excluded, ...oldOptions } = json.options;
  const old = FeatureEncoder.fromJSON({ ...json, options: oldOptions as typeof json.options });
  assert.deepEqual(old.options.excluded, []);
  assert.equal(old.featureNames.length, FeatureEncoder.fit(table.frame).featureNames.length);
  assert.throws(
    () => FeatureEncoder.fromJSON({ ...json, options: { ...json.options, excluded: ["sex"] as never } }),
    /excludes "sex", which is not an attribute/,
  );
  assert.throws(
    () => FeatureEncoder.fromJSON({ ...json, options: { ...json.options, excluded: ["personal_status"] } }),
    /levels name the excluded attribute personal_status/,
  );
  assert.throws(() => FeatureEncoder.fit(table.frame, { excluded: ["nope" as never] }), /not an attribute/);
});
