/**
 * The test suite's first step (`tests/setup.ts`): what it says when something is missing and it
 * cannot install. (`deno task test` runs it before the suite, so on this machine it found everything.)
 */
import assert from "node:assert/strict";
import { instructions, packagesFor, type Requirement, REQUIREMENTS, setup } from "./setup.ts";

const fake = (what: string, packages: string[], present: boolean): Requirement => ({
  what,
  neededBy: `the ${what} tests`,
  packages,
  present: () => Promise.resolve(present),
});

Deno.test("missing requirements without root: exit 1 and the one apt-get command, each package once", async () => {
  const missing = [
    fake("a browser", ["chromium"], false),
    fake("nbconvert", ["jupyter-nbconvert", "chromium"], false),
  ];
  assert.deepEqual(packagesFor(missing), ["chromium", "jupyter-nbconvert"]);
  assert.equal(
    instructions(missing),
    [
      "tests/setup: this machine lacks what the test suite needs:",
      "  - a browser, for the a browser tests",
      "  - nbconvert, for the nbconvert tests",
      "Install it (the tests never download a browser of their own), then run `deno task test` again:",
      "  sudo apt-get install -y chromium jupyter-nbconvert",
    ].join("\n"),
  );
  const printed: string[] = [];
  const error = console.error;
  console.error = (line: string) => printed.push(line);
  try {
    const code = await setup([fake("present", ["x"], true), ...missing], () => Promise.resolve(false));
    assert.equal(code, 1);
  } finally {
    console.error = error;
  }
  assert.deepEqual(printed, [instructions(missing)]);
});

Deno.test("the real requirements are Debian's packages, each named once", () => {
  assert.deepEqual(packagesFor(REQUIREMENTS), [
    "chromium",
    "jupyter-nbconvert",
    "jupyter-client",
    "python3-nbclient",
    "python3-ipykernel",
    "python3-onnx",
    "python3-yaml",
    "nginx",
  ]);
});
