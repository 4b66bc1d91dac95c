/*
 * `node:test` for the XS tier: the part of it that device tests use, run inside the XS worker.
 * tests/xs/bundle.ts aliases `node:test` to this file. Registration (`test`, `describe`, `it`, hooks) happens
 * while the bundle evaluates; then the Node side runs test `i` with `__xsTests.run(i)`, one crank each,
 * and each result is sent back with the worker's `issueCommand` as ASCII JSON.
 *
 * Not supported under XS (they fail loudly, not silently): `t.mock`, `mock`, `snapshot`, timers.
 */

declare function issueCommand(message: ArrayBuffer): ArrayBuffer;

type Done = (error?: unknown) => void;
type TestFn = (t: TestContext, done: Done) => unknown;
type HookFn = () => unknown;

export interface TestOptions {
  skip?: boolean | string;
  todo?: boolean | string;
  only?: boolean;
  timeout?: number;
  concurrency?: number | boolean;
}

interface Registered {
  name: string;
  fn: TestFn | undefined;
  options: TestOptions;
  beforeEach: HookFn[];
  afterEach: HookFn[];
}

interface Failure {
  name: string;
  message: string;
  stack?: string;
}

const registered: Registered[] = [];
const beforeAll: HookFn[] = [];
const afterAll: HookFn[] = [];
let beforeEachHooks: HookFn[] = [];
let afterEachHooks: HookFn[] = [];
let prefix = "";
let started = false;

function describeError(error: unknown): Failure {
  if (error instanceof Error) {
    return { name: error.name, message: String(error.message), stack: typeof error.stack === "string" ? error.stack : undefined };
  }
  return { name: "thrown value", message: safeString(error) };
}

function safeString(value: unknown): string {
  try {
    return typeof value === "string" ? value : JSON.stringify(value) ?? String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** Sends one result to the Node side, as ASCII bytes (no TextEncoder needed). */
function send(message: Record<string, unknown>): void {
  const json = JSON.stringify(message);
  const bytes = new Uint8Array(json.length * 6);
  let at = 0;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c < 0x80) bytes[at++] = c;
    else {
      const hex = "\\u" + (c + 0x10000).toString(16).slice(1);
      for (let k = 0; k < 6; k++) bytes[at++] = hex.charCodeAt(k);
    }
  }
  issueCommand(bytes.buffer.slice(0, at));
}

class SkipSignal {
  constructor(readonly reason: string, readonly todo: boolean) {}
}

export class TestContext {
  readonly name: string;
  readonly diagnostics: string[] = [];
  #skip: SkipSignal | undefined;
  constructor(name: string) {
    this.name = name;
  }
  get skipped(): SkipSignal | undefined {
    return this.#skip;
  }
  diagnostic(message: string): void {
    this.diagnostics.push(String(message));
  }
  skip(reason = ""): void {
    this.#skip = new SkipSignal(reason, false);
  }
  todo(reason = ""): void {
    this.#skip = new SkipSignal(reason, true);
  }
  plan(): void {}
  get mock(): never {
    throw new Error("node:test mock is not available in the XS tier");
  }
  /** A subtest runs inline, in order; its failure fails this test. */
  async test(name: string, optionsOrFn?: TestOptions | TestFn, maybeFn?: TestFn): Promise<void> {
    const { options, fn } = normalize(optionsOrFn, maybeFn);
    if (!fn || options.skip || options.todo) return;
    const child = new TestContext(`${this.name} > ${name}`);
    try {
      await invoke(fn, child);
    } catch (error) {
      const failure = describeError(error);
      const wrapped = new Error(`subtest "${name}" failed: ${failure.message}`);
      wrapped.name = failure.name;
      throw wrapped;
    }
  }
}

function normalize(optionsOrFn?: TestOptions | TestFn, maybeFn?: TestFn): { options: TestOptions; fn: TestFn | undefined } {
  if (typeof optionsOrFn === "function") return { options: {}, fn: optionsOrFn };
  return { options: optionsOrFn ?? {}, fn: maybeFn };
}

function invoke(fn: TestFn, context: TestContext): Promise<unknown> {
  if (fn.length >= 2) {
    return new Promise((resolve, reject) => {
      fn(context, (error?: unknown) => (error ? reject(error) : resolve(undefined)));
    });
  }
  return Promise.resolve().then(() => fn(context, () => {}));
}

async function runHooks(hooks: HookFn[]): Promise<void> {
  for (const hook of hooks) await hook();
}

function register(name: string, optionsOrFn?: TestOptions | TestFn, maybeFn?: TestFn): void {
  const { options, fn } = normalize(optionsOrFn, maybeFn);
  registered.push({
    name: prefix + String(name),
    fn,
    options,
    beforeEach: beforeEachHooks.slice(),
    afterEach: afterEachHooks.slice(),
  });
}

interface TestFunction {
  (name: string, fn?: TestFn): void;
  (name: string, options: TestOptions, fn?: TestFn): void;
  skip(name: string, options?: TestOptions | TestFn, fn?: TestFn): void;
  todo(name: string, options?: TestOptions | TestFn, fn?: TestFn): void;
  only(name: string, options?: TestOptions | TestFn, fn?: TestFn): void;
}

function makeTestFunction(): TestFunction {
  const t = ((name: string, a?: TestOptions | TestFn, b?: TestFn) => register(name, a, b)) as TestFunction;
  t.skip = (name, a, b) => {
    const { options, fn } = normalize(a, b);
    register(name, { ...options, skip: true }, fn);
  };
  t.todo = (name, a, b) => {
    const { options, fn } = normalize(a, b);
    register(name, { ...options, todo: true }, fn);
  };
  t.only = (name, a, b) => register(name, a, b);
  return t;
}

export const test: TestFunction = makeTestFunction();
export const it: TestFunction = test;

export function describe(name: string, optionsOrFn?: TestOptions | (() => void), maybeFn?: () => void): void {
  const fn = typeof optionsOrFn === "function" ? optionsOrFn : maybeFn;
  if (!fn) return;
  const saved = { prefix, beforeEachHooks, afterEachHooks };
  prefix = `${prefix}${name} > `;
  beforeEachHooks = beforeEachHooks.slice();
  afterEachHooks = afterEachHooks.slice();
  try {
    fn();
  } finally {
    ({ prefix, beforeEachHooks, afterEachHooks } = saved);
  }
}
export const suite = describe;

export function before(fn: HookFn): void {
  beforeAll.push(fn);
}
export function after(fn: HookFn): void {
  afterAll.push(fn);
}
export function beforeEach(fn: HookFn): void {
  beforeEachHooks.push(fn);
}
export function afterEach(fn: HookFn): void {
  afterEachHooks.push(fn);
}

export const mock = new Proxy({}, {
  get() {
    throw new Error("node:test mock is not available in the XS tier");
  },
});

export default test;

async function run(index: number): Promise<void> {
  const entry = registered[index];
  const context = new TestContext(entry.name);
  const result: Record<string, unknown> = { index };
  try {
    if (entry.options.skip || !entry.fn) {
      result.skip = typeof entry.options.skip === "string" ? entry.options.skip : "";
    } else {
      if (!started) {
        started = true;
        await runHooks(beforeAll);
      }
      for (const hook of entry.beforeEach) await hook();
      try {
        await invoke(entry.fn, context);
      } finally {
        for (const hook of entry.afterEach) await hook();
      }
      if (context.skipped) result[context.skipped.todo ? "todo" : "skip"] = context.skipped.reason;
    }
    result.ok = true;
  } catch (error) {
    result.ok = false;
    result.error = describeError(error);
  }
  if (entry.options.todo) result.todo = typeof entry.options.todo === "string" ? entry.options.todo : "";
  if (context.diagnostics.length) result.diagnostics = context.diagnostics;
  send(result);
}

async function finish(): Promise<void> {
  try {
    await runHooks(afterAll);
    send({ index: -1, ok: true });
  } catch (error) {
    send({ index: -1, ok: false, error: describeError(error) });
  }
}

(globalThis as Record<string, unknown>).__xsTests = {
  /** Sends the registered names. */
  list(): void {
    send({ names: registered.map((entry) => entry.name) });
  },
  run(index: number): void {
    void run(index);
  },
  finish(): void {
    void finish();
  },
};
