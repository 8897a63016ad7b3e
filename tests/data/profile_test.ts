import assert from "node:assert/strict";
import {
  customProfile,
  describeProfile,
  FAIR_PROFILE,
  FULL_PROFILE,
  isProtected,
  profileFromRecord,
  PROTECTED_ATTRIBUTES,
  resolveProfile,
} from "../../pipeline/data/profile.ts";
import { UserError } from "../../pipeline/errors.ts";

Deno.test("the protected attributes are exactly sex/marital status, age and foreign worker, in schema order", () => {
  assert.deepEqual(PROTECTED_ATTRIBUTES, ["personal_status", "age", "foreign_worker"]);
  assert.deepEqual(FAIR_PROFILE.excluded, ["personal_status", "age", "foreign_worker"]);
  assert.ok(isProtected("age") && !isProtected("duration"));
});

Deno.test("resolveProfile: named profiles, custom lists in schema order, clear errors", () => {
  assert.deepEqual(resolveProfile({}), FULL_PROFILE);
  assert.deepEqual(resolveProfile({ profile: "fair" }), FAIR_PROFILE);
  assert.deepEqual(resolveProfile({ exclude: "foreign_worker, age,age" }), {
    name: "custom",
    excluded: ["age", "foreign_worker"],
  });
  assert.deepEqual(resolveProfile({ exclude: ["housing"] }).excluded, ["housing"]);
  assert.throws(
    () => resolveProfile({ profile: "fairer" }),
    (e) => e instanceof UserError && /unknown profile "fairer"/.test(e.message),
  );
  assert.throws(() => resolveProfile({ exclude: "age,sex" }), /cannot exclude "sex": not an attribute/);
  assert.throws(() => resolveProfile({ profile: "fair", exclude: "age" }), /cannot be combined/);
  assert.throws(() => resolveProfile({ exclude: "" }), /empty/);
  assert.throws(() => resolveProfile({ profile: "custom" }), /needs an exclusion list/);
});

Deno.test("profileFromRecord: absent reads as full (older artifacts), a malformed one is refused", () => {
  assert.deepEqual(profileFromRecord(undefined), FULL_PROFILE);
  assert.deepEqual(
    profileFromRecord({ name: "fair", excluded: ["age", "personal_status", "foreign_worker"] }),
    {
      name: "fair",
      excluded: ["personal_status", "age", "foreign_worker"],
    },
  );
  assert.throws(() => profileFromRecord({ name: "fair" }), /is not \{name, excluded\}/);
  assert.throws(() => profileFromRecord({ name: "full", excluded: ["age"] }), /cannot exclude/);
  assert.throws(() => profileFromRecord({ name: "custom", excluded: ["nope"] }), /not an attribute/);
  assert.match(describeProfile(FAIR_PROFILE), /cannot see personal_status, age, foreign_worker/);
  assert.deepEqual(customProfile(["age"]).excluded, ["age"]);
});
