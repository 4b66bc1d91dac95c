/*
 * The import rules, checked by dependency-cruiser on the whole tree: no cycles; device code (main.ts,
 * modules/, sensors/, config/) imports nothing of the server, the simulator, the tests or Node; the server
 * takes from device code only the protocol (modules/protocol) and the config schema; the Moddable host
 * modules are imported only in modules/host.
 *
 * dependency-cruiser parses TypeScript through the TypeScript compiler API, which TypeScript 7 (what this
 * project builds with) no longer offers. So each module is transpiled to JavaScript with esbuild first, into
 * a temporary tree with the same relative paths, keeping every import, type-only ones included (a type
 * import makes a cycle as surely as a value import): the graph is the same, the syntax is plain JS.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { transform } from "esbuild";
import { cruise, type ICruiseResult, type IForbiddenRuleType } from "dependency-cruiser";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const TREES = ["main.ts", "modules", "sensors", "config", "server", "simulator", "tests", "bench", "scripts"];

const DEVICE = "^(main\\.js$|modules/|sensors/|config/)";
/** The Moddable SDK's modules and this project's native ones: resolved by mcconfig, not by a path. */
const MODDABLE = "^(timer|time|websocket|wifi|net|socket|preference|instrumentation|onewire|flash|embedded:|mc/|native/|pins/)";

export const RULES: IForbiddenRuleType[] = [
  { name: "no-cycle", severity: "error", from: {}, to: { circular: true } },
  {
    name: "device-stays-device", severity: "error",
    comment: "device code runs on XS: no server, simulator, tests or Node built-ins",
    from: { path: DEVICE },
    to: { path: "^(server|simulator|tests|bench|scripts)/" },
  },
  { name: "device-no-node", severity: "error", from: { path: DEVICE }, to: { dependencyTypes: ["core"] } },
  {
    name: "server-takes-protocol-only", severity: "error",
    comment: "the server shares the protocol and the config schema with the device, nothing else",
    from: { path: "^server/" },
    to: { path: DEVICE, pathNot: "^(modules/protocol/|config/schema\\.js$|config/boards/)" },
  },
  {
    name: "moddable-through-host", severity: "error",
    comment: "one adapter layer: modules/host (and the simulator and tests that stand in for the SDK)",
    from: { path: DEVICE, pathNot: "^modules/host/" },
    to: { path: MODDABLE },
  },
];

function sources(path: string, out: string[]): void {
  if (statSync(path).isDirectory()) {
    for (const name of readdirSync(path)) if (name !== "node_modules") sources(join(path, name), out);
  } else if ((path.endsWith(".ts") && !path.endsWith(".d.ts")) || path.endsWith(".js")) out.push(path);
}

/** Transpiles the tree into `into`, every import kept; returns the JS paths. */
async function transpile(into: string): Promise<string[]> {
  const files: string[] = [];
  for (const tree of TREES) sources(join(ROOT, tree), files);
  const written: string[] = [];
  for (const file of files) {
    const path = relative(ROOT, file).replace(/\.ts$/, ".js");
    let code = readFileSync(file, "utf8");
    if (file.endsWith(".ts")) {
      // `import type` and `export type … from` become plain imports; verbatimModuleSyntax keeps the rest,
      // inline `type` specifiers included (as an import of nothing).
      code = code.replace(/^(\s*)import type /gm, "$1import ").replace(/^(\s*)export type (?=[{*])/gm, "$1export ");
      const result = await transform(code, {
        loader: "ts", format: "esm", target: "es2022", sourcefile: file,
        tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true } },
      });
      code = result.code;
    }
    mkdirSync(join(into, dirname(path)), { recursive: true });
    writeFileSync(join(into, path), code);
    written.push(path);
  }
  return written;
}

test("the import graph keeps the rules: no cycles, device code apart, Moddable only through modules/host", async () => {
  const dir = mkdtempSync(join(tmpdir(), "thermocast-imports-"));
  const cwd = process.cwd();
  try {
    const files = await transpile(dir);
    process.chdir(dir);
    const { output } = await cruise(files, {
      validate: true,
      ruleSet: { forbidden: RULES },
      moduleSystems: ["es6"],
      doNotFollow: { path: "node_modules" },
    }, { extensions: [".js"] });
    const result = output as ICruiseResult;
    const violations = result.summary.violations.map((v) =>
      `${v.rule.name}: ${v.from} → ${v.to}${v.cycle ? ` (cycle ${v.cycle.map((c) => c.name).join(" → ")})` : ""}`);
    console.log(`${result.summary.totalCruised} modules cruised, ${result.summary.totalDependenciesCruised} imports`);
    // The tool saw the tree: a cruise that found nothing would pass any rule.
    assert.ok(result.summary.totalCruised >= 100, `only ${result.summary.totalCruised} modules cruised`);
    assert.ok(result.modules.some((m) => m.source === "main.js" && m.dependencies.some((d) => d.resolved === "modules/host/moddable.js")));
    assert.deepEqual(violations, []);
  } finally {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  }
});
