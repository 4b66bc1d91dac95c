/*
 * Builds the unmodified firmware for Node: esbuild bundles an entry (main.ts) with the Moddable host
 * modules replaced by the fakes in simulator/moddable/, into one script a SimDevice runs in a fresh vm
 * context per boot. Built once per process and entry.
 *
 * Asynchronous because esbuild runs plugins only in its asynchronous API.
 */
import { build, type Plugin } from "esbuild";
import path from "node:path";
import { fileURLToPath } from "node:url";
import vm from "node:vm";
import { registerSourceMap } from "./sourcemap";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const FAKES = path.join(ROOT, "simulator/moddable");

/** The Moddable modules device code may import, and their fakes. */
const HOST_MODULES: Readonly<Record<string, string>> = {
  timer: "timer.ts",
  time: "time.ts",
  wifi: "wifi.ts",
  preference: "preference.ts",
  websocket: "websocket.ts",
  socket: "socket.ts",
  net: "net.ts",
  instrumentation: "instrumentation.ts",
  "native/power": "power.ts",
  "native/probe-io": "probe-io.ts",
  "native/wifi-ap": "wifi-ap.ts",
  "host/tls": "../../modules/host/tls/none.ts",
  "host/report": "report.ts",
  "embedded:io/serial": "serial.ts",
  "mc/config": "mc-config.ts",
};

/** The simulated probe's signal is replaced by the board's scripted probe. */
const SIGNAL = path.join(ROOT, "sensors/simulated/signal");

const moddableOnNode: Plugin = {
  name: "moddable-on-node",
  setup(build) {
    build.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind === "entry-point") return undefined;
      if (args.path.startsWith(".") || path.isAbsolute(args.path)) {
        const target = path.resolve(args.resolveDir, args.path).replace(/\.[jt]s$/, "");
        return target === SIGNAL ? { path: path.join(FAKES, "probe-signal.ts") } : undefined;
      }
      const fake = HOST_MODULES[args.path];
      if (fake) return { path: path.join(FAKES, fake) };
      return {
        errors: [{ text: `device code imports "${args.path}", which the simulator does not provide (it has: ${Object.keys(HOST_MODULES).join(", ")})` }],
      };
    });
  },
};

const scripts = new Map<string, Promise<vm.Script>>();

/** The firmware built from `entry` (relative to the repository root), ready to run in a vm context. */
export function firmwareScript(entry = "main.ts"): Promise<vm.Script> {
  const file = path.resolve(ROOT, entry);
  let script = scripts.get(file);
  if (!script) {
    script = bundle(file);
    scripts.set(file, script);
    script.catch(() => scripts.delete(file)); // a failed build is retried, after the code is fixed
  }
  return script;
}

async function bundle(file: string): Promise<vm.Script> {
  const result = await build({
    entryPoints: [file],
    bundle: true,
    format: "iife",
    globalName: "__firmware",
    platform: "neutral",
    target: "es2022",
    sourcemap: "inline",
    write: false,
    absWorkingDir: ROOT, // source map paths relative to the repository
    logLevel: "silent",
    plugins: [moddableOnNode],
    // The class-field semantics mcconfig's tsc uses (target es2025), whatever tsconfig.json says.
    tsconfigRaw: { compilerOptions: { useDefineForClassFields: true } },
  });
  const code = result.outputFiles[0].text;
  const filename = `firmware:${path.relative(ROOT, file)}`;
  registerSourceMap(filename, code);
  return new vm.Script(code, { filename });
}
