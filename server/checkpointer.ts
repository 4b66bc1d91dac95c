/*
 * The WAL checkpointer, on a worker thread with its own connection (db.ts starts it). Copying committed
 * pages from the WAL into the database file, and fsyncing that file, is work the committing thread would
 * otherwise do inside every thousandth-page commit: a stall of tens of ms with the event loop blocked.
 * Here it runs beside the server: PASSIVE checkpoints never block the writer, and a writer restarts a fully
 * checkpointed WAL from its beginning by itself. Under load without a gap between commits that never
 * happens, so past RESTART_PAGES (128 MB) a RESTART checkpoint, which holds the writer back only for the
 * pages the last pass left, makes the WAL start over. (bench/server: with it, ack p50 at 200 000 readings/s
 * went from ~80 ms to ~3-20 ms.)
 *
 * The worker is plain JavaScript evaluated from the source below: the TypeScript loader the server runs
 * under does not reach worker threads.
 */
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

const RESTART_PAGES = 32768;

const SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma("busy_timeout = 1000");
let stopping = false;
parentPort.on("message", (message) => { if (message === "stop") stopping = true; });
function pass() {
  if (stopping) { db.close(); process.exit(0); }
  let behind = false;
  try {
    const [result] = db.pragma("wal_checkpoint(PASSIVE)");
    behind = result.checkpointed < result.log;
    if (!behind && result.log > ${RESTART_PAGES}) db.pragma("wal_checkpoint(RESTART)");
  } catch {
    // Busy or locked: the next pass tries again.
  }
  setTimeout(pass, behind ? 1 : workerData.intervalMs);
}
pass();
`;

/** Starts checkpointing the database at `path` every `intervalMs` (at once again while it is behind). */
export function startCheckpointer(path: string, intervalMs = 20): Worker {
  const driver = createRequire(import.meta.url).resolve("better-sqlite3");
  const worker = new Worker(SOURCE, { eval: true, workerData: { path, intervalMs, driver } });
  worker.unref();
  return worker;
}
