/*
 * Builds the firmware with the user's Moddable SDK (`$MODDABLE`) and runs it in mcsim, headless.
 * Release builds only: a debug build's makefile ends every mcsim on the machine by name. The mcsim this
 * harness starts is ended through its own process group, never by name.
 */
import { spawn, execFile, execFileSync, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import type { TelemetryDb } from "../../server/db";

const run = promisify(execFile);
export const MODDABLE = process.env.MODDABLE;
export const SKIP_REASON = MODDABLE ? undefined : "MODDABLE is not set: the Moddable SDK tier is skipped (see README, 'Running in the Moddable simulator')";

/**
 * Runs mcconfig -m -p lin on `manifest` with `config` entries (key=value); returns the mc.so path.
 * `log` hears mcconfig's output (its warnings among it).
 */
export async function buildForSimulator(manifest: string, outDir: string, config: Record<string, string | number>, log?: (output: string) => void, vars: Record<string, string> = {}): Promise<string> {
  mkdirSync(outDir, { recursive: true });
  const bin = join(MODDABLE!, "build", "bin", "lin", "release");
  const args = ["-m", "-p", "lin", "-o", outDir, manifest, ...Object.entries(config).map(([k, v]) => `${k}=${v}`)];
  const env = { ...process.env, ...vars, PATH: `${bin}:${join(process.cwd(), "node_modules", ".bin")}:${process.env.PATH}` };
  try {
    const { stdout, stderr } = await run("mcconfig", args, { env, cwd: join(manifest, ".."), maxBuffer: 64 << 20 });
    log?.(`${stdout}\n${stderr}`);
  } catch (e) {
    const error = e as { stdout?: string; stderr?: string };
    throw new Error(`mcconfig failed:\n${error.stdout?.slice(-4000)}\n${error.stderr?.slice(-4000)}`);
  }
  const name = manifest.endsWith("manifest.json") ? join(manifest, "..").split("/").pop()! : "main";
  const so = join(outDir, "bin", "lin", "mc", "release", name, "mc.so");
  if (!existsSync(so)) throw new Error(`mcconfig wrote no ${so}`);
  return so;
}

/**
 * Stand-in folders for the boards' toolchains, enough for mcconfig to write its makefile and for make to
 * reach the XS link: an ESP-IDF folder that is a git repository tagged v6.0 (the makefile reads the IDF
 * version with `git describe`) with an empty export.sh, an `idf.py` whose `reconfigure` writes an empty
 * sdkconfig.h, and the ESP8266 folders the esp makefile checks for. Returns the environment to build with.
 */
export function makeToolchainStandIns(dir: string): Record<string, string> {
  const idf = join(dir, "esp-idf");
  const bin = join(dir, "bin");
  const esp = join(dir, "esp");
  for (const folder of [idf, bin, join(esp, "esp8266-2.3.0"), join(esp, "ESP8266_RTOS_SDK"), join(esp, "toolchain", "Linux")])
    mkdirSync(folder, { recursive: true });
  writeFileSync(join(idf, "export.sh"), "# stand-in: the build stops before anything of the ESP-IDF is used\n");
  const git = (...args: string[]) => execFileSync("git", ["-c", "user.email=standin@localhost", "-c", "user.name=standin", ...args], { cwd: idf, stdio: "ignore" });
  git("init", "-q");
  git("add", ".");
  git("commit", "-qm", "stand-in");
  git("tag", "v6.0");
  writeFileSync(join(bin, "idf.py"), [
    "#!/bin/sh",
    "# stand-in for the ESP-IDF's idf.py: `reconfigure` writes the empty sdkconfig.h the makefile waits for",
    'for a in "$@"; do case "$a" in SDKCONFIG_HEADER=*) h="${a#SDKCONFIG_HEADER=}";; esac; done',
    'case " $* " in *" reconfigure "*) mkdir -p "$(dirname "$h")" && : > "$h"; exit 0;; esac',
    'echo "idf.py stand-in: $* needs the real ESP-IDF" >&2; exit 1',
    "",
  ].join("\n"));
  chmodSync(join(bin, "idf.py"), 0o755);
  return { IDF_PATH: idf, ESP_BASE: esp, STANDIN_BIN: bin };
}

/**
 * Runs `mcconfig -m -p <platform>` up to the XS linker's output (make's target `mc.xs.c`): tsc, xsc, xsl.
 * Returns mcconfig's output and whether the link finished.
 */
export async function buildThroughLink(manifest: string, platform: string, outDir: string, standIns: Record<string, string>): Promise<{ output: string; ok: boolean; linked: string }> {
  mkdirSync(outDir, { recursive: true });
  const name = join(manifest, "..").split("/").pop()!;
  const linked = join(outDir, "tmp", platform, "release", name, "mc.xs.c");
  const bin = join(MODDABLE!, "build", "bin", "lin", "release");
  const { STANDIN_BIN, ...vars } = standIns;
  const env = { ...process.env, ...vars, PATH: `${STANDIN_BIN}:${bin}:${join(process.cwd(), "node_modules", ".bin")}:${process.env.PATH}` };
  const args = ["-m", "-p", platform, "-o", outDir, "-t", linked, manifest];
  try {
    const { stdout, stderr } = await run("mcconfig", args, { env, cwd: join(manifest, ".."), maxBuffer: 64 << 20 });
    return { output: `${stdout}\n${stderr}`, ok: existsSync(linked), linked };
  } catch (e) {
    const error = e as { stdout?: string; stderr?: string };
    return { output: `${error.stdout ?? ""}\n${error.stderr ?? ""}`, ok: false, linked };
  }
}

export interface RunningSimulator {
  lines: string[];
  process: ChildProcess;
  /** Resolves with the first trace line matching `pattern`. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<string>;
  /** Resolves with mcsim's exit code when it ends by itself (a board's stand-in deep sleep ends it). */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** `preload`: a shared library for LD_PRELOAD, given to mcsim only (not to Xvfb). */
export function startSimulator(so: string, home: string, env: Record<string, string> = {}, preload?: string): RunningSimulator {
  mkdirSync(home, { recursive: true }); // mcsim copies the app under XDG_CONFIG_HOME, which must exist
  const bin = join(MODDABLE!, "build", "bin", "lin", "release");
  const command = ["stdbuf", "-oL", join(bin, "mcsim"), so];
  if (preload) command.unshift("env", `LD_PRELOAD=${preload}`);
  const child = spawn("xvfb-run", ["-a", ...command], {
    env: { ...process.env, ...env, XDG_CONFIG_HOME: home },
    detached: true, // its own process group, so that stop() ends xvfb-run, Xvfb and mcsim together
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  let partial = "";
  const onData = (chunk: Buffer) => {
    partial += chunk.toString("utf8");
    let newline;
    while ((newline = partial.indexOf("\n")) >= 0) {
      const line = partial.slice(0, newline);
      partial = partial.slice(newline + 1);
      lines.push(line);
      for (const waiter of [...waiters]) {
        if (waiter.pattern.test(line)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    }
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    lines,
    process: child,
    exited,
    waitFor(pattern, timeoutMs) {
      const seen = lines.find((line) => pattern.test(line));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} in ${timeoutMs} ms; mcsim said:\n${lines.slice(-30).join("\n")}`)), timeoutMs);
        waiters.push({ pattern, resolve: (line) => { clearTimeout(timer); resolve(line); } });
      });
    },
    async stop() {
      if (child.exitCode === null && child.pid) {
        try {
          process.kill(-child.pid, "SIGTERM");
        } catch {}
        const killer = setTimeout(() => { try { process.kill(-child.pid!, "SIGKILL"); } catch {} }, 3000);
        await exited;
        clearTimeout(killer);
      }
    },
  };
}

/** Polls `probe` every 200 ms until it gives a value (mcsim runs in real time), or throws after `timeoutMs`. */
export async function until<T>(what: string, timeoutMs: number, probe: () => T | undefined | false): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The readings `device` has stored, in order. */
export function storedReadings(db: TelemetryDb, device: string): { idx: number; boot: number }[] {
  return db.sqlite.prepare("SELECT idx, boot FROM readings WHERE device_id = ? ORDER BY boot, idx").all(device) as { idx: number; boot: number }[];
}
