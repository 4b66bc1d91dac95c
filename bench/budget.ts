/*
 * bench/budget.json: the compute, heap and wire figures device code may not exceed. The counts are
 * deterministic (XS compute meter, heap slots and bytes after gc), so a budget is the measured figure
 * plus a small headroom, not a tolerance for noise. tests/xs/budget.test.ts holds the code to it;
 * `npm run bench -- --write-budget` rewrites it from a measurement when a rise is intended.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ROOT } from "../tests/xs/device-tests";

export const BUDGET_FILE = path.join(ROOT, "bench/budget.json");
/** Room for small, deliberate changes; anything larger is a decision to write down in the budget. */
export const HEADROOM = 0.03;
/** Budgets that are the goals rather than a measurement. */
const GOALS: Readonly<Record<string, number>> = { "wire.bytesPerReading60": 2.5, "compute.path.perReading60": 400 };

export interface Budget {
  headroom: number;
  budget: Record<string, number>;
  measured: Record<string, number>;
}

export function readBudget(): Budget {
  return JSON.parse(readFileSync(BUDGET_FILE, "utf8"));
}

export function budgetFrom(measured: Record<string, number>): Budget {
  const budget: Record<string, number> = {};
  for (const [name, value] of Object.entries(measured)) {
    const roomy = value * (1 + HEADROOM);
    budget[name] = GOALS[name] ?? (Number.isInteger(value) ? Math.ceil(roomy) : Math.ceil(roomy * 100) / 100);
  }
  return { headroom: HEADROOM, budget, measured };
}

export function writeBudget(measured: Record<string, number>): void {
  const body = {
    "//": "Written by `npm run bench -- --write-budget`; held by tests/xs/budget.test.ts. Compute: XS meter units; heap: bytes on the 64-bit XS worker and slots; wire: bytes per reading.",
    ...budgetFrom(measured),
  };
  writeFileSync(BUDGET_FILE, JSON.stringify(body, null, 2) + "\n");
}

/** Figures above their budget, and names missing on either side, as readable lines. */
export function overBudget(measured: Record<string, number>, budget: Budget): string[] {
  const problems: string[] = [];
  for (const [name, value] of Object.entries(measured)) {
    const limit = budget.budget[name];
    if (limit === undefined) problems.push(`${name}: measured ${value}, but bench/budget.json has no budget for it`);
    else if (value > limit) problems.push(`${name}: ${value} is over its budget of ${limit} (was ${budget.measured[name]})`);
  }
  for (const name of Object.keys(budget.budget)) {
    if (!(name in measured)) problems.push(`${name}: in bench/budget.json but no longer measured`);
  }
  return problems;
}
