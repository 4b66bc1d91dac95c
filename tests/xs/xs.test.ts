/*
 * The XS tier: every device test file (tests/xs/device-tests.ts) runs again inside the XS engine that
 * @agoric/xsnap builds (XS 13.3), each XS test case reported here as a subtest of the same name. A test
 * that passes on Node and fails on XS fails `npm test`.
 */
import { test } from "node:test";
import { availableParallelism } from "node:os";
import { deviceTestFiles } from "./device-tests";
import { runTestFile, xsError, type XsFileResult } from "./runner";

const files = deviceTestFiles();

/** Runs the files a few at a time (each in its own worker), starting now; results are awaited below. */
function runAll(list: string[], width: number): Map<string, Promise<XsFileResult>> {
  const runs = new Map<string, Promise<XsFileResult>>();
  const queue: (() => void)[] = [];
  let running = 0;
  const next = () => {
    if (running >= width || !queue.length) return;
    running++;
    queue.shift()!();
  };
  for (const file of list) {
    runs.set(file, new Promise((resolve) => {
      queue.push(() => {
        runTestFile(file)
          .then(resolve, (error) => resolve({ file, error: String(error?.stack ?? error), results: [] }))
          .finally(() => {
            running--;
            next();
          });
      });
    }));
  }
  for (let i = 0; i < width; i++) next();
  return runs;
}

const runs = runAll(files, Math.max(2, availableParallelism()));

test("the XS tier has device tests to run", () => {
  if (!files.length) throw new Error("no device test files found in the directories of tests/xs/device-tests.ts");
});

for (const file of files) {
  test(`XS: ${file}`, async (t) => {
    const run = await runs.get(file)!;
    if (run.error) throw new Error(`[XS] ${run.error}`);
    if (!run.results.length) throw new Error("[XS] the file registered no tests under XS");
    for (const result of run.results) {
      const options = result.skip !== undefined ? { skip: result.skip || true } : result.todo !== undefined ? { todo: result.todo || true } : {};
      await t.test(result.name, options, (sub) => {
        for (const line of result.diagnostics ?? []) sub.diagnostic(line);
        if (!result.ok) throw xsError(result);
      });
    }
    if (run.afterError) throw new Error(`[XS] an after() hook failed: ${run.afterError.message}`);
  });
}
