/*
 * The firmware as the XS guard sees it: main.ts and every device module (modules/, sensors/, config/),
 * including modules main.ts does not import yet, in one bundle for the scan and for the XS worker.
 */
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { baseOptions, buildOrExplain } from "./bundle";
import { ROOT } from "./device-tests";

export const DEVICE_SOURCE_DIRS = ["modules", "sensors", "config"];

/** main.ts and the device modules, repository-relative. */
export function deviceSourceFiles(root = ROOT): string[] {
  const files = ["main.ts"];
  const walk = (dir: string) => {
    for (const name of readdirSync(path.join(root, dir))) {
      const rel = path.join(dir, name);
      if (statSync(path.join(root, rel)).isDirectory()) walk(rel);
      else if (name.endsWith(".ts") && !name.endsWith(".d.ts")) files.push(rel);
    }
  };
  for (const dir of DEVICE_SOURCE_DIRS) walk(dir);
  return files.sort();
}

/**
 * An entry that keeps every module of `files` whole (namespace imports held on a global, tree shaking
 * off: a bare `import "./x"` of a module without side effects would be dropped); main.ts's default export
 * is `globalThis.__firmwareMain`.
 */
export function firmwareEntry(files = deviceSourceFiles()): string {
  const lines = files.map((file, i) => `import * as m${i} from "./${file.replace(/\.ts$/, "")}";`);
  lines.push(`(globalThis as any).__firmwareModules = [${files.map((_, i) => `m${i}`).join(", ")}];`);
  const main = files.indexOf("main.ts");
  if (main >= 0) lines.push(`(globalThis as any).__firmwareMain = m${main}.default;`);
  return lines.join("\n");
}

/** A runnable bundle of `source` (an entry as above) for the XS worker, nothing tree-shaken away. */
export async function bundleFirmware(source = firmwareEntry()): Promise<string> {
  const result = await buildOrExplain({
    ...baseOptions(false),
    stdin: { contents: source, resolveDir: ROOT, loader: "ts", sourcefile: "xs-firmware-entry.ts" },
    treeShaking: false,
  });
  return result.outputFiles![0].text;
}
