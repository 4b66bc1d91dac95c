/*
 * Bundles device code for the XS worker with esbuild: one classic script (IIFE, strict), JSON inlined,
 * `node:test` / `node:assert` replaced by tests/xs/harness, the Moddable host modules by tests/xs/stubs.
 *
 * Target `esnext`: mcconfig compiles TypeScript with target es2025 and XS parses what tsc emits, so nothing
 * is lowered here either; syntax XS cannot parse fails here as it would on a board. Class fields use define
 * semantics, as tsc does at that target.
 */
import { build, type BuildOptions, type BuildResult, type Plugin } from "esbuild";
import path from "node:path";
import { ROOT } from "./device-tests";
import { positionMapper, type PositionMapper } from "./sourcemap";

const HERE = path.join(ROOT, "tests/xs");

const HARNESS: Readonly<Record<string, string>> = {
  "node:test": "harness/test.ts",
  test: "harness/test.ts",
  "node:assert/strict": "harness/strict.ts",
  "assert/strict": "harness/strict.ts",
  "node:assert": "harness/loose.ts",
  assert: "harness/loose.ts",
};

/** The Moddable host modules device code may import (modules/host/moddable.ts), and their stubs. */
export const MODDABLE_MODULES: Readonly<Record<string, string>> = {
  timer: "stubs/timer.ts",
  time: "stubs/time.ts",
  wifi: "stubs/wifi.ts",
  preference: "stubs/preference.ts",
  websocket: "stubs/websocket.ts",
  socket: "stubs/socket.ts",
  net: "stubs/net.ts",
  instrumentation: "stubs/instrumentation.ts",
  "native/power": "stubs/power.ts",
  "native/probe-io": "stubs/probe-io.ts",
  "native/wifi-ap": "stubs/wifi-ap.ts",
  "host/tls": "../../modules/host/tls/none.ts",
  "host/report": "../../modules/host/report/trace.ts",
  onewire: "stubs/onewire.ts",
  "mc/config": "stubs/mc-config.ts",
};

const SELF = Symbol("xs-modules");

function xsModules(withHarness: boolean): Plugin {
  return {
    name: "xs-modules",
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (path.isAbsolute(args.path) || args.pluginData === SELF) return undefined;
        const harness = withHarness ? HARNESS[args.path] : undefined;
        if (harness) return { path: path.join(HERE, harness) };
        const stub = MODDABLE_MODULES[args.path];
        if (stub) return { path: path.join(HERE, stub) };
        if (args.path.startsWith("embedded:")) return { path: path.join(HERE, "stubs/embedded.ts") };
        if (args.path.startsWith("node:")) {
          return { errors: [{ text: `"${args.path}" is a Node module: it does not exist under XS (the XS tier provides only node:test and node:assert)` }] };
        }
        // An npm package bundles as usual; any other bare name is a Moddable module without a stub.
        const found = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: SELF });
        if (!found.errors.length) return found;
        return { path: path.join(HERE, "stubs/unknown-module.cjs") };
      });
    },
  };
}

export function baseOptions(withHarness: boolean): BuildOptions {
  return {
    bundle: true,
    write: false,
    format: "iife",
    platform: "neutral",
    mainFields: ["module", "main"],
    target: "esnext",
    charset: "ascii",
    banner: { js: '"use strict";' },
    logLevel: "silent",
    absWorkingDir: ROOT,
    plugins: [xsModules(withHarness)],
    tsconfigRaw: { compilerOptions: { useDefineForClassFields: true } },
  };
}

/** esbuild's build, its errors thrown as `file:line:column: message` lines. */
export async function buildOrExplain(options: BuildOptions): Promise<BuildResult> {
  try {
    return await build(options);
  } catch (error) {
    throw new Error(`esbuild could not bundle it for XS:\n${buildErrorText(error)}`);
  }
}

/** Formats esbuild's errors as `file:line:column: message` lines. */
export function buildErrorText(error: unknown): string {
  const errors = (error as { errors?: { text: string; location?: { file: string; line: number; column: number } | null }[] }).errors;
  if (!errors?.length) return String((error as Error)?.message ?? error);
  return errors.map((e) => (e.location ? `${e.location.file}:${e.location.line}:${e.location.column}: ${e.text}` : e.text)).join("\n");
}

export interface Bundle {
  code: string;
  /** Source location (`file:line`, repository-relative) of a line of `code`. */
  sourceOf: PositionMapper;
}

/** A device test file (repository-relative) as one script for the XS worker. */
export async function bundleTestFile(file: string): Promise<Bundle> {
  const result = await build({
    ...baseOptions(true),
    entryPoints: [path.resolve(ROOT, file)],
    sourcemap: "external",
    sourcesContent: false,
    outfile: path.join(ROOT, "xs-bundle.js"),
  });
  const files = result.outputFiles!;
  const code = files.find((f) => f.path.endsWith(".js"))!.text;
  const map = files.find((f) => f.path.endsWith(".map"));
  return { code, sourceOf: map ? positionMapper(JSON.parse(map.text)) : () => undefined };
}
