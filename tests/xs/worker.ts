/*
 * A client for the XS worker that @agoric/xsnap builds (XS 13.3), spoken to over its pipes directly.
 * The package's own JS API imports @endo/init, which freezes this realm's primordials; this file does not.
 *
 * Protocol (node_modules/@agoric/xsnap/xsnap-native/xsnap/sources/xsnap-worker.c): netstrings
 * (`<length>:<bytes>,`) on fd 3 (to the worker) and fd 4 (from it). We send `e<source>` (indirect eval, one
 * "crank": the job queue is drained before the answer), `w<path>` (write a heap snapshot) or `q` (quit). The worker answers
 * `.<meter JSON>\x01<reply>` (the reply is the eval result when it is an ArrayBuffer), `!<message>` for an
 * uncaught exception, or `?<bytes>` mid-crank when JS calls `issueCommand(arrayBuffer)`: we answer
 * `/<bytes>` and the worker carries on. The meter JSON has `compute` (metering units of the crank, the
 * same on every run), `currentHeapCount` (slots in use, exact after `gc()`) and `allocate` (bytes the
 * worker obtained from malloc for slot and chunk blocks, in large increments).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Readable, Writable } from "node:stream";

export const WORKER_BINARY = fileURLToPath(
  new URL("../../node_modules/@agoric/xsnap/xsnap-native/xsnap/build/bin/lin/release/xsnap-worker", import.meta.url),
);

/** Exit codes of xsnap-worker (node_modules/@agoric/xsnap/api.js). */
const EXIT_REASONS: Record<number, string> = {
  1: "bad argument usage",
  2: "I/O error",
  11: "not enough memory",
  12: "stack overflow",
  15: "unhandled exception",
  16: "property (key) name space exhausted",
  17: "too much computation (crank meter limit)",
};

export interface Meter {
  /** Metering units used by the crank: deterministic. */
  compute: number;
  /** Heap slots in use at the end of the crank. */
  currentHeapCount: number;
  /** Bytes of slot and chunk blocks the worker has malloc'd so far. */
  allocate: number;
}

export interface Reply {
  bytes: Uint8Array;
  text: string;
  meter: Meter;
}

/** JavaScript in the worker threw and nothing caught it; the worker lives on. */
export class XsException extends Error {
  override name = "XsException";
}

/** The worker process ended (crash, meter limit, stack overflow, killed). */
export class XsExit extends Error {
  override name = "XsExit";
  constructor(message: string, readonly code: number | null, readonly signal: string | null) {
    super(message);
  }
}

export interface WorkerOptions {
  /** Units a single crank may use before the worker is ended; 0 for no limit. */
  meteringLimit?: number;
  /** Answers `issueCommand(bytes)` calls from JavaScript in the worker. */
  onCommand?: (bytes: Uint8Array) => Uint8Array | string | void;
  /** Ends the worker if one evaluation takes longer than this (ms of wall time). */
  timeout?: number;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

interface Pending {
  resolve(reply: Reply): void;
  reject(error: Error): void;
}

export class XsWorker {
  readonly #process: ChildProcess;
  readonly #toWorker: Writable;
  readonly #onCommand: WorkerOptions["onCommand"];
  readonly #timeout: number;
  #buffer: Buffer = Buffer.alloc(0);
  #queue: (() => void)[] = [];
  #pending: Pending | undefined;
  #timer: NodeJS.Timeout | undefined;
  #exit: XsExit | undefined;
  /** What the worker printed (`print()`) and wrote to stderr, for diagnostics. */
  output = "";

  constructor(options: WorkerOptions = {}) {
    const limit = options.meteringLimit ?? 1e9;
    this.#onCommand = options.onCommand;
    this.#timeout = options.timeout ?? 60_000;
    const args = ["thermocast-xs"];
    if (limit > 0) args.push("-l", String(limit));
    this.#process = spawn(WORKER_BINARY, args, { stdio: ["ignore", "pipe", "pipe", "pipe", "pipe"] });
    const [, stdout, stderr, toWorker, fromWorker] = this.#process.stdio as [null, Readable, Readable, Writable, Readable];
    this.#toWorker = toWorker;
    toWorker.on("error", () => {}); // reported through the exit event
    stdout.setEncoding("utf8").on("data", (text: string) => (this.output += text));
    stderr.setEncoding("utf8").on("data", (text: string) => (this.output += text));
    fromWorker.on("data", (chunk: Buffer) => this.#receive(chunk));
    this.#process.on("error", (error) => this.#ended(new XsExit(`cannot run ${WORKER_BINARY}: ${error.message}`, null, null)));
    this.#process.on("exit", (code, signal) => {
      const reason = signal ? `signal ${signal}` : `${EXIT_REASONS[code ?? -1] ?? "unknown error"} (exit code ${code})`;
      this.#ended(new XsExit(`XS worker ended: ${reason}`, code, signal));
    });
  }

  get exited(): boolean {
    return this.#exit !== undefined;
  }

  /** Evaluates `source` as a script (indirect eval) in one crank; resolves with its reply and meter. */
  evaluate(source: string): Promise<Reply> {
    return this.#send(encoder.encode(`e${source}`));
  }

  /**
   * Writes a heap snapshot of the worker to `path` and resolves with its size in bytes: live slots and
   * live chunks (strings, array buffer contents), so a difference of sizes measures what was retained.
   */
  async snapshot(path: string): Promise<number> {
    const reply = await this.#send(encoder.encode(`w${path}`));
    return Number(reply.text);
  }

  /** Asks the worker to quit and waits for it to end. */
  async close(): Promise<void> {
    if (this.#exit) return;
    const ended = new Promise<void>((resolve) => this.#process.once("exit", () => resolve()));
    this.#writeNetstring(encoder.encode("q"));
    this.#toWorker.end();
    await ended;
  }

  /** Ends the worker process (only this one, by its own handle). */
  kill(): void {
    if (!this.#exit) this.#process.kill("SIGKILL");
  }

  #send(message: Uint8Array): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      const run = () => {
        if (this.#exit) return reject(this.#exit);
        this.#pending = { resolve, reject };
        this.#timer = setTimeout(() => {
          this.#ended(new XsExit(`XS worker gave no answer in ${this.#timeout} ms; ended it`, null, null));
          this.kill();
        }, this.#timeout);
        this.#writeNetstring(message);
      };
      if (this.#pending) this.#queue.push(run);
      else run();
    });
  }

  #writeNetstring(body: Uint8Array): void {
    if (this.#exit) return;
    this.#toWorker.write(Buffer.concat([Buffer.from(`${body.length}:`), body, Buffer.from(",")]));
  }

  #receive(chunk: Buffer): void {
    this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : chunk;
    for (;;) {
      const colon = this.#buffer.indexOf(0x3a);
      if (colon < 0) return;
      const length = Number(this.#buffer.subarray(0, colon).toString("latin1"));
      const end = colon + 1 + length;
      if (this.#buffer.length < end + 1) return;
      const message = this.#buffer.subarray(colon + 1, end);
      this.#buffer = this.#buffer.subarray(end + 1);
      this.#message(message);
    }
  }

  #message(message: Buffer): void {
    const kind = message[0];
    if (kind === 0x3f /* ? */) {
      let answer: Uint8Array | string | void = undefined;
      try {
        answer = this.#onCommand?.(new Uint8Array(message.subarray(1)));
      } catch {
        answer = undefined;
      }
      const bytes = typeof answer === "string" ? encoder.encode(answer) : answer ?? new Uint8Array(0);
      this.#writeNetstring(Buffer.concat([Buffer.from("/"), bytes]));
      return;
    }
    const pending = this.#settle();
    if (!pending) return;
    if (kind === 0x2e /* . */) {
      const separator = message.indexOf(1, 1);
      const meter = separator < 0 ? { compute: 0, currentHeapCount: 0, allocate: 0 } : JSON.parse(message.subarray(1, separator).toString("utf8"));
      const bytes = new Uint8Array(message.subarray(separator < 0 ? 1 : separator + 1));
      pending.resolve({
        bytes,
        text: decoder.decode(bytes),
        meter: { compute: meter.compute, currentHeapCount: meter.currentHeapCount, allocate: meter.allocate },
      });
    } else if (kind === 0x21 /* ! */) {
      pending.reject(new XsException(message.subarray(1).toString("utf8") || "exception in XS"));
    } else {
      pending.reject(new XsExit(`unexpected message from the XS worker: ${message.subarray(0, 40).toString("latin1")}`, null, null));
      this.kill();
    }
  }

  #settle(): Pending | undefined {
    const pending = this.#pending;
    this.#pending = undefined;
    clearTimeout(this.#timer);
    const next = this.#queue.shift();
    if (next) queueMicrotask(next);
    return pending;
  }

  #ended(exit: XsExit): void {
    if (this.#exit) return;
    this.#exit = exit;
    const pending = this.#settle();
    pending?.reject(exit);
    for (const run of this.#queue.splice(0)) run();
  }
}
