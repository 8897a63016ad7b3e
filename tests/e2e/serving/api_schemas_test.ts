/**
 * The API's schemas load whatever was imported before them. zod attaches `.openapi` to a schema when
 * the schema is built, so a program that imports the attribute schema before `@hono/zod-openapi`
 * once crashed on loading `pipeline/serving/api_schemas.ts`. A fresh process is needed: in this one
 * the import order is already fixed by the test runner.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../../", import.meta.url);

Deno.test("api_schemas.ts loads after the attribute schema, and its Applicant validates as the schema does", async () => {
  const program = `
    import { applicantSchema, EXAMPLE_APPLICANT } from "./pipeline/data/schema.ts";
    const { Applicant } = await import("./pipeline/serving/api_schemas.ts");
    const extra = { ...EXAMPLE_APPLICANT, surplus: 1 };
    const young = { ...EXAMPLE_APPLICANT, age: 17 };
    console.log(JSON.stringify([EXAMPLE_APPLICANT, extra, young].map((x) => [
      Applicant.safeParse(x).success,
      applicantSchema.safeParse(x).success,
    ])));
  `;
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", program],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  // Strict (no unknown field) and ranged (age ≥ 18), as the codebook says: the same answers both ways.
  assert.deepEqual(JSON.parse(new TextDecoder().decode(stdout)), [[true, true], [false, false], [
    false,
    false,
  ]]);
});
