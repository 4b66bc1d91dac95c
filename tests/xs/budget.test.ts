/*
 * The budget: device code may not raise its compute (XS meter units), heap or wire figures above
 * bench/budget.json. The figures are deterministic, so this is a plain comparison. When a rise is
 * intended, `npm run bench -- --write-budget` rewrites the budget (and the diff shows it in review).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { budgetFigures, measure } from "../../bench/measure";
import { budgetFrom, overBudget, readBudget } from "../../bench/budget";

test("compute, heap and wire figures stay within bench/budget.json", async () => {
  const problems = overBudget(budgetFigures(await measure()), readBudget());
  assert.equal(problems.length, 0, `over budget:\n${problems.join("\n")}\n(if intended: npm run bench -- --write-budget)`);
});

test("a figure above its budget, or one without a budget, is reported", () => {
  const budget = budgetFrom({ "compute.encode.batch60": 1000, "heap.store512.bytes": 2000 });
  assert.deepEqual(overBudget({ "compute.encode.batch60": 1030, "heap.store512.bytes": 2000 }, budget), []);
  const problems = overBudget({ "compute.encode.batch60": 1031, "heap.store512.bytes": 2000, "compute.new": 1 }, budget);
  assert.equal(problems.length, 2);
  assert.match(problems[0], /compute\.encode\.batch60: 1031 is over its budget of 1030/);
  assert.match(problems[1], /compute\.new: .* no budget/);
});
