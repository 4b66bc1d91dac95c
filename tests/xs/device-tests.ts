/*
 * Which tests are device tests: the one list. Each directory holds node:test files for device code
 * (main.ts, modules/, sensors/, config/) that the XS tier also runs inside the XS engine. Every listed
 * directory must exist: a list that names what is not there would skip it silently. (config/'s tests are
 * the schema's, in tests/console.)
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export const DEVICE_TEST_DIRS = [
  "tests/protocol",
  "tests/store",
  "tests/link",
  "tests/uplink",
  "tests/sensors",
  "tests/console",
  "tests/sampler",
  "tests/power",
  "tests/improv",
  "tests/host",
];

/** The device test files (repository-relative, sorted), skipping fixtures; a listed directory that is missing throws. */
export function deviceTestFiles(root = ROOT): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      if (name === "fixtures" || name === "node_modules") continue;
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith(".test.ts")) files.push(relative(root, path));
    }
  };
  for (const dir of DEVICE_TEST_DIRS) {
    const path = join(root, dir);
    if (!existsSync(path)) throw new Error(`${dir} is listed as device tests but does not exist`);
    walk(path);
  }
  return files.sort();
}
