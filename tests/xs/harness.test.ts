/*
 * The XS tier's own check: a fixture (tests/xs/fixtures/harness/outcomes.test.ts) with one test per
 * outcome runs in XS, and each comes back as what it is. Without this, a harness that passed everything
 * would look like a green tier.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { runTestFile, xsError } from "./runner";

test("the XS tier reports each outcome of a test file run in XS", async () => {
  const run = await runTestFile("tests/xs/fixtures/harness/outcomes.test.ts");
  assert.equal(run.error, undefined);
  const outcome = Object.fromEntries(run.results.map((r) => [r.name, r.skip !== undefined ? "skip" : r.ok ? "pass" : "fail"]));
  assert.deepEqual(outcome, {
    passes: "pass",
    "fails an equal": "fail",
    "fails a deepEqual on a typed array": "fail",
    "fails with a thrown string": "fail",
    "fails after an await": "fail",
    "never settles": "fail",
    "overflows the stack": "fail",
    "runs after the worker died": "pass",
    "is skipped": "skip",
    "a suite > sees its beforeEach": "pass",
    "uses a Node-only global": "fail",
    "passes on Node, fails on XS: toSorted": "fail",
  });
  const byName = (name: string) => run.results.find((r) => r.name === name)!;
  const equal = xsError(byName("fails an equal")).message;
  assert.match(equal, /^\[XS\] AssertionError: expected 5, got 4/);
  assert.match(equal, /tests\/xs\/fixtures\/harness\/outcomes\.test\.ts:15/);
  assert.match(byName("overflows the stack").error!.message, /stack overflow/);
  assert.equal(byName("uses a Node-only global").error!.name, "TypeError");
  assert.equal(byName("passes on Node, fails on XS: toSorted").error!.name, "TypeError");
  assert.ok(byName("passes").compute > 0);
});
