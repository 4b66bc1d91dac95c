/*
 * Runs one bundled node:test file inside the XS worker: evaluate the bundle (tests register), list them,
 * then run each in a crank of its own. A test that ends the worker (stack overflow, meter limit, an
 * exception in setImmediate) fails alone: a fresh worker reloads the bundle and the next test goes on.
 */
import { bundleTestFile, buildErrorText, type Bundle } from "./bundle";
import { mapStack } from "./sourcemap";
import { XsExit, XsWorker } from "./worker";

export interface XsFailure {
  name: string;
  message: string;
  stack?: string;
}

export interface XsTestResult {
  name: string;
  ok: boolean;
  skip?: string;
  todo?: string;
  error?: XsFailure;
  diagnostics?: string[];
  /** Compute-meter units of the test's crank. */
  compute: number;
}

export interface XsFileResult {
  file: string;
  /** Set when the file could not be bundled or loaded: no test ran. */
  error?: string;
  results: XsTestResult[];
  /** Hooks registered with `after()` failed. */
  afterError?: XsFailure;
}

interface Message {
  index?: number;
  names?: string[];
  ok?: boolean;
  skip?: string;
  todo?: string;
  error?: XsFailure;
  diagnostics?: string[];
}

const decoder = new TextDecoder();
/** 100x the costliest device test (~4M units); a runaway loop ends its worker in seconds, not hangs the tier. */
const CRANK_LIMIT = 5e8;

class Session {
  worker!: XsWorker;
  messages: Message[] = [];
  constructor(readonly code: string) {}

  async start(): Promise<void> {
    this.worker = new XsWorker({
      meteringLimit: CRANK_LIMIT,
      timeout: 30_000,
      onCommand: (bytes) => {
        this.messages.push(JSON.parse(decoder.decode(bytes)));
      },
    });
    await this.worker.evaluate(this.code);
  }

  async call(source: string): Promise<{ message: Message | undefined; compute: number }> {
    this.messages = [];
    const reply = await this.worker.evaluate(source);
    return { message: this.messages[0], compute: reply.meter.compute };
  }
}

function loadFailure(error: unknown, output: string): string {
  const text = error instanceof Error ? error.message : String(error);
  return output.trim() ? `${text}\n${output.trim()}` : text;
}

export async function runTestFile(file: string): Promise<XsFileResult> {
  let bundle: Bundle;
  try {
    bundle = await bundleTestFile(file);
  } catch (error) {
    return { file, error: `esbuild could not bundle it for XS:\n${buildErrorText(error)}`, results: [] };
  }
  const session = new Session(bundle.code);
  try {
    await session.start();
  } catch (error) {
    session.worker.kill();
    return { file, error: `XS refused the bundle while loading it: ${loadFailure(error, session.worker.output)}`, results: [] };
  }
  const results: XsTestResult[] = [];
  try {
    const listed = await session.call("__xsTests.list()");
    const names = listed.message?.names ?? [];
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      try {
        const { message, compute } = await session.call(`__xsTests.run(${i})`);
        if (!message) {
          results.push({ name, ok: false, compute, error: { name: "Error", message: "the test did not finish within its crank: a promise never settled (XS has no timers here)" } });
        } else {
          const error = message.error;
          if (error?.stack) error.stack = mapStack(error.stack, bundle.sourceOf);
          results.push({ name, ok: message.ok === true, skip: message.skip, todo: message.todo, error, diagnostics: message.diagnostics, compute });
        }
      } catch (error) {
        const exit = error instanceof XsExit;
        results.push({ name, ok: false, compute: 0, error: { name: exit ? "XsExit" : "XsException", message: loadFailure(error, session.worker.output) } });
        if (exit || session.worker.exited) {
          session.worker.kill();
          await session.start(); // the rest of the file goes on in a fresh worker
        }
      }
    }
    const finished = await session.call("__xsTests.finish()");
    const afterError = finished.message && !finished.message.ok ? finished.message.error : undefined;
    return { file, results, afterError };
  } catch (error) {
    return { file, error: `the XS worker failed: ${loadFailure(error, session.worker.output)}`, results };
  } finally {
    await session.worker.close().catch(() => session.worker.kill());
  }
}

/** The XS failure as an Error for node:test: name, message, and the stack without harness frames. */
export function xsError(result: XsTestResult): Error {
  const failure = result.error ?? { name: "Error", message: "failed" };
  const frames = (failure.stack ?? "")
    .split("\n")
    .filter((line) => line.startsWith(" at ") && !line.includes("tests/xs/harness/") && line !== " at ()")
    .join("\n");
  const error = new Error(`[XS] ${failure.name}: ${failure.message}${frames ? `\n${frames}` : ""}`);
  error.stack = error.message;
  return error;
}
