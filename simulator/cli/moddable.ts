/*
 * `npm run sim:moddable`: the firmware built by the Moddable SDK the user installed ($MODDABLE) for the
 * desktop simulator, run in mcsim against the reference server started here. Release build only (the
 * debug makefile ends every mcsim by name). mcsim is ended through its own process group on Ctrl-C.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { startServer } from "../../server/server";
import { consoleLog } from "../../server/log";
import { buildForSimulator, SKIP_REASON, startSimulator } from "../../tests/sdk/mcsim";

if (SKIP_REASON) {
  console.error("MODDABLE is not set: install the Moddable SDK (README, 'Building for boards') and export MODDABLE.");
  process.exit(1);
}
const work = join(process.cwd(), "data", "moddable");
mkdirSync(work, { recursive: true });
const server = await startServer({ port: 0, dbPath: join(work, "thermocast.db"), log: consoleLog({ debug: true }) });
server.db.registerDevice("moddable-sim", "moddable-sim-token", Date.now());
console.log(`dashboard: ${server.loginUrl}`);
console.log("building with mcconfig -m -p lin …");
const so = await buildForSimulator(join(process.cwd(), "manifest.json"), join(work, "build"), {
  "server.url": `ws://127.0.0.1:${server.port}`, "device.id": "moddable-sim", "device.token": "moddable-sim-token",
  "sample.interval": 5, "batch.size": 3,
});
const sim = startSimulator(so, join(work, "xdg"));
sim.process.stdout!.on("data", (chunk: Buffer) => process.stdout.write(`mcsim: ${chunk}`));
process.once("SIGINT", async () => {
  await sim.stop();
  await server.close();
  process.exit(0);
});
