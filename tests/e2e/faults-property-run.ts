/*
 * A quarter of issue 4's property test, in a child process of tests/e2e/faults-property.test.ts (the test
 * runner's promise tracking slows a run of this many promises several times over; a child has none, and
 * several children keep the cores busy). Argument: the seed. Environment: FAULTS_RUNS, FAULTS_PATH,
 * FAULTS_SHRINK.
 * Sends one message to its parent: the totals, and fast-check's report on failure (seed and path).
 */
import fc from "fast-check";
import { FaultServer } from "../../simulator/faults/rig";
import { newTotals, runSchedules, scheduleDraw } from "../../simulator/faults/schedules";

export const SCHEDULES_PER_RUN = 3;

const seed = Number(process.argv[2]);
const path = process.env.FAULTS_PATH || undefined;
// A replay (a path given) runs that one case.
const runs = Number(process.env.FAULTS_RUNS ?? (path ? 1 : 25));
const bench = await FaultServer.start();
const totals = newTotals();
const started = performance.now();
let error: string | undefined;
try {
  await fc.assert(
    fc.asyncProperty(fc.array(scheduleDraw, { minLength: SCHEDULES_PER_RUN, maxLength: SCHEDULES_PER_RUN }), (draws) => runSchedules(bench, draws, totals)),
    { numRuns: runs, seed, path, endOnFailure: !process.env.FAULTS_SHRINK, verbose: 1 },
  );
} catch (e) {
  error = e instanceof Error ? e.message : String(e);
}
const seconds = (performance.now() - started) / 1000;
await bench.close();
process.send!({ seed, seconds, error, totals: { ...totals, faults: [...totals.faults] } }, () => process.exit(0));
