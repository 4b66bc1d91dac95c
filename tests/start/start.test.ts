/*
 * The quick start: `npm start` runs the server and a simulated device in real time; within 10 s the
 * server has stored readings and the API lists the device with a growing count.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

test("npm start: readings stored within 10 s, and the device's count grows", { timeout: 30000 }, async () => {
  const work = mkdtempSync(join(tmpdir(), "thermocast-start-"));
  const child = spawn(process.execPath, ["--import", "tsx", "simulator/cli/start.ts", "--port", "0", "--db", join(work, "db.sqlite")], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const started = Date.now();
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  try {
    const base = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no dashboard URL printed:\n${output}`)), 10000);
      const check = () => {
        const match = /dashboard: (http:\/\/127\.0\.0\.1:\d+)\//.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]);
        } else setTimeout(check, 50);
      };
      check();
    });
    const admin = /admin: +(\S+)/.exec(output)?.[1];
    assert.ok(admin, `the admin credential is printed:\n${output}`);
    const counts: number[] = [];
    while (Date.now() - started < 10000) {
      const devices = (await (await fetch(`${base}/api/devices`, { headers: { authorization: `Bearer ${admin}` } })).json()) as { id: string; readingCount: number }[];
      const count = devices.find((d) => d.id === "sim-1")?.readingCount ?? 0;
      if (count && count !== counts.at(-1)) counts.push(count);
      if (counts.length >= 2) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.ok(counts.length >= 2 && counts[1] > counts[0], `reading counts seen within 10 s: ${counts.join(", ")}\n${output}`);
    assert.match(output, /batch-stored/, "the server logs the batches it stores");
  } finally {
    child.kill("SIGINT");
    await new Promise((r) => child.once("exit", r));
    rmSync(work, { recursive: true, force: true });
  }
});
