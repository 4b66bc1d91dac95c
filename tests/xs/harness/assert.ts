/*
 * `node:assert` for the XS tier: the same checks and the same pass/fail decisions as Node's, with plainer
 * messages. tests/xs/bundle.ts aliases `node:assert/strict` to strict.ts and `node:assert` to loose.ts.
 * Error messages from engines differ (V8 vs XS), so nothing here compares them unless a test asks.
 */

export class AssertionError extends Error {
  override name = "AssertionError";
  readonly code = "ERR_ASSERTION";
  readonly actual: unknown;
  readonly expected: unknown;
  readonly operator: string;
  readonly generatedMessage: boolean;
  constructor(options: { message?: string | Error; actual?: unknown; expected?: unknown; operator?: string; generated?: string }) {
    const text = typeof options.message === "string" ? options.message : options.generated ?? "assertion failed";
    super(text);
    this.actual = options.actual;
    this.expected = options.expected;
    this.operator = options.operator ?? "fail";
    this.generatedMessage = options.message === undefined;
  }
}

type Message = string | Error | undefined;

function fail(message: Message, generated: string, actual?: unknown, expected?: unknown, operator?: string): never {
  if (message instanceof Error) throw message;
  throw new AssertionError({ message, generated, actual, expected, operator });
}

/** A short, deterministic rendering of a value for failure messages. */
export function show(value: unknown, depth = 3): string {
  const seen: unknown[] = [];
  const render = (v: unknown, level: number): string => {
    if (typeof v === "string") return JSON.stringify(v);
    if (typeof v === "bigint") return `${v}n`;
    if (typeof v === "number") return Object.is(v, -0) ? "-0" : String(v);
    if (typeof v === "symbol") return v.toString();
    if (typeof v === "function") return `[Function ${v.name || "anonymous"}]`;
    if (v === null || typeof v !== "object") return String(v);
    if (seen.indexOf(v) >= 0) return "[Circular]";
    if (level > depth) return Array.isArray(v) ? "[Array]" : "[Object]";
    seen.push(v);
    try {
      if (v instanceof Error) return `${v.name}: ${v.message}`;
      if (v instanceof Date) return `Date(${v.getTime()})`;
      if (v instanceof RegExp) return String(v);
      if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
        const items = Array.prototype.slice.call(v as unknown as ArrayLike<unknown>, 0, 50).map((x) => render(x, level + 1));
        const more = (v as unknown as ArrayLike<unknown>).length > 50 ? ", …" : "";
        return `${v.constructor.name}(${(v as unknown as ArrayLike<unknown>).length}) [${items.join(", ")}${more}]`;
      }
      if (Array.isArray(v)) {
        const items = v.slice(0, 50).map((x) => render(x, level + 1));
        return `[${items.join(", ")}${v.length > 50 ? ", …" : ""}]`;
      }
      if (v instanceof Map) return `Map(${v.size}) {${Array.from(v, ([k, x]) => `${render(k, level + 1)} => ${render(x, level + 1)}`).join(", ")}}`;
      if (v instanceof Set) return `Set(${v.size}) {${Array.from(v, (x) => render(x, level + 1)).join(", ")}}`;
      const keys = Object.keys(v);
      const body = keys.slice(0, 30).map((k) => `${/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k)}: ${render((v as Record<string, unknown>)[k], level + 1)}`);
      return `{${body.join(", ")}${keys.length > 30 ? ", …" : ""}}`;
    } finally {
      seen.pop();
    }
  };
  return render(value, 0);
}

const objectToString = Object.prototype.toString;

/** Node's isDeepStrictEqual (strict) or isDeepEqual (loose), for the value kinds tests use. */
export function isDeepEqual(a: unknown, b: unknown, strict: boolean, memo: unknown[][] = []): boolean {
  if (strict ? Object.is(a, b) : a == b || (a !== a && b !== b)) return true;
  if (typeof a !== "object" || a === null || typeof b !== "object" || b === null) return false;
  if (strict && Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  const tag = objectToString.call(a);
  if (tag !== objectToString.call(b)) return false;
  for (const [x, y] of memo) if (x === a && y === b) return true;
  memo.push([a, b]);
  try {
    if (a instanceof Date) return a.getTime() === (b as Date).getTime() && keysEqual(a, b, strict, memo);
    if (a instanceof RegExp) return String(a) === String(b) && a.lastIndex === (b as RegExp).lastIndex && keysEqual(a, b, strict, memo);
    if (a instanceof Error && (a.message !== (b as Error).message || a.name !== (b as Error).name)) return false;
    if (a instanceof Number || a instanceof String || a instanceof Boolean) {
      if (!Object.is(a.valueOf(), (b as Number).valueOf())) return false;
    }
    if (ArrayBuffer.isView(a)) {
      const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
      const bv = b as ArrayBufferView;
      const y = new Uint8Array(bv.buffer, bv.byteOffset, bv.byteLength);
      if (!strict && !(a instanceof DataView)) {
        const xs = a as unknown as ArrayLike<number>, ys = b as unknown as ArrayLike<number>;
        if (xs.length !== ys.length) return false;
        for (let i = 0; i < xs.length; i++) if (!(xs[i] == ys[i])) return false;
      } else {
        if (x.length !== y.length) return false;
        for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
      }
      return keysEqual(a, b, strict, memo, true);
    }
    if (a instanceof ArrayBuffer) {
      const x = new Uint8Array(a), y = new Uint8Array(b as ArrayBuffer);
      if (x.length !== y.length) return false;
      for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
      return true;
    }
    if (Array.isArray(a) && a.length !== (b as unknown[]).length) return false;
    if (a instanceof Map) {
      const m = b as Map<unknown, unknown>;
      if (a.size !== m.size) return false;
      for (const [key, value] of a) {
        if (m.has(key)) {
          if (!isDeepEqual(value, m.get(key), strict, memo)) return false;
          continue;
        }
        if (typeof key !== "object" || key === null) return false;
        let found = false;
        for (const [other, otherValue] of m) {
          if (isDeepEqual(key, other, strict, memo) && isDeepEqual(value, otherValue, strict, memo)) {
            found = true;
            break;
          }
        }
        if (!found) return false;
      }
    } else if (a instanceof Set) {
      const s = b as Set<unknown>;
      if (a.size !== s.size) return false;
      for (const value of a) {
        if (s.has(value)) continue;
        if (typeof value !== "object" || value === null) return false;
        let found = false;
        for (const other of s) {
          if (isDeepEqual(value, other, strict, memo)) {
            found = true;
            break;
          }
        }
        if (!found) return false;
      }
    }
    return keysEqual(a, b, strict, memo);
  } finally {
    memo.pop();
  }
}

function keysEqual(a: object, b: object, strict: boolean, memo: unknown[][], skipIndexes = false): boolean {
  const filter = (keys: string[]) => (skipIndexes ? keys.filter((k) => !/^\d+$/.test(k)) : keys);
  const ka = filter(Object.keys(a));
  const kb = filter(Object.keys(b));
  if (ka.length !== kb.length) return false;
  for (const key of ka) {
    if (!Object.prototype.hasOwnProperty.call(b, key)) return false;
    if (!isDeepEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], strict, memo)) return false;
  }
  if (strict) {
    const enumerable = (o: object) => Object.getOwnPropertySymbols(o).filter((s) => Object.prototype.propertyIsEnumerable.call(o, s));
    const sa = enumerable(a), sb = enumerable(b);
    if (sa.length !== sb.length) return false;
    for (const s of sa) {
      if (!Object.prototype.propertyIsEnumerable.call(b, s)) return false;
      if (!isDeepEqual((a as Record<symbol, unknown>)[s], (b as Record<symbol, unknown>)[s], strict, memo)) return false;
    }
  }
  return true;
}

type ErrorCheck = (new (...args: never[]) => unknown) | RegExp | ((error: unknown) => boolean) | Record<string, unknown> | Error;

function checkError(error: unknown, expected: ErrorCheck | undefined, message: Message, operator: string): void {
  if (expected === undefined) return;
  if (expected instanceof RegExp) {
    if (!expected.test(String(error))) fail(message, `${operator}: the error ${show(error)} does not match ${expected}`, error, expected, operator);
    return;
  }
  if (typeof expected === "function") {
    if (expected.prototype !== undefined && error instanceof (expected as new () => unknown)) return;
    if (Error.isPrototypeOf(expected) || expected === Error) {
      fail(message, `${operator}: expected a ${(expected as { name: string }).name}, got ${show(error)}`, error, expected, operator);
    }
    if ((expected as (error: unknown) => boolean).call({}, error) === true) return;
    fail(message, `${operator}: the validation function rejected ${show(error)}`, error, expected, operator);
  }
  if (typeof expected === "object" && expected !== null) {
    const keys = Object.keys(expected);
    if (expected instanceof Error) keys.push("name", "message");
    for (const key of keys) {
      const want = (expected as Record<string, unknown>)[key];
      const got = error !== null && typeof error === "object" ? (error as Record<string, unknown>)[key] : undefined;
      const ok = want instanceof RegExp && typeof got === "string" ? want.test(got) : isDeepEqual(got, want, true);
      if (!ok) fail(message, `${operator}: the error's ${key} is ${show(got)}, expected ${show(want)}`, error, expected, operator);
    }
  }
}

function splitThrowsArgs(expected?: ErrorCheck | string, message?: Message): [ErrorCheck | undefined, Message] {
  if (typeof expected === "string") return [undefined, expected];
  return [expected, message];
}

export interface Assert {
  (value: unknown, message?: Message): asserts value;
  ok(value: unknown, message?: Message): asserts value;
  equal(actual: unknown, expected: unknown, message?: Message): void;
  notEqual(actual: unknown, expected: unknown, message?: Message): void;
  strictEqual(actual: unknown, expected: unknown, message?: Message): void;
  notStrictEqual(actual: unknown, expected: unknown, message?: Message): void;
  deepEqual(actual: unknown, expected: unknown, message?: Message): void;
  notDeepEqual(actual: unknown, expected: unknown, message?: Message): void;
  deepStrictEqual(actual: unknown, expected: unknown, message?: Message): void;
  notDeepStrictEqual(actual: unknown, expected: unknown, message?: Message): void;
  throws(fn: () => unknown, expected?: ErrorCheck | string, message?: Message): void;
  doesNotThrow(fn: () => unknown, expected?: unknown, message?: Message): void;
  rejects(promise: Promise<unknown> | (() => Promise<unknown>), expected?: ErrorCheck | string, message?: Message): Promise<void>;
  doesNotReject(promise: Promise<unknown> | (() => Promise<unknown>), expected?: unknown, message?: Message): Promise<void>;
  match(value: string, pattern: RegExp, message?: Message): void;
  doesNotMatch(value: string, pattern: RegExp, message?: Message): void;
  fail(message?: Message): never;
  ifError(value: unknown): void;
  AssertionError: typeof AssertionError;
  strict: Assert;
}

export function makeAssert(strict: boolean): Assert {
  const ok = (value: unknown, message?: Message) => {
    if (!value) fail(message, `expected a truthy value, got ${show(value)}`, value, true, "==");
  };
  const same = (a: unknown, b: unknown) => (strict ? Object.is(a, b) : a == b || (a !== a && b !== b));
  const assert = ((value: unknown, message?: Message) => ok(value, message)) as Assert;
  assert.ok = ok;
  assert.strictEqual = (actual, expected, message) => {
    if (!Object.is(actual, expected)) fail(message, `expected ${show(expected)}, got ${show(actual)}`, actual, expected, "strictEqual");
  };
  assert.notStrictEqual = (actual, expected, message) => {
    if (Object.is(actual, expected)) fail(message, `expected a value other than ${show(expected)}`, actual, expected, "notStrictEqual");
  };
  assert.equal = strict ? assert.strictEqual : (actual, expected, message) => {
    if (!same(actual, expected)) fail(message, `expected ${show(expected)}, got ${show(actual)}`, actual, expected, "==");
  };
  assert.notEqual = strict ? assert.notStrictEqual : (actual, expected, message) => {
    if (same(actual, expected)) fail(message, `expected a value other than ${show(expected)}`, actual, expected, "!=");
  };
  assert.deepStrictEqual = (actual, expected, message) => {
    if (!isDeepEqual(actual, expected, true)) fail(message, `expected deep-equal values:\n  actual   ${show(actual)}\n  expected ${show(expected)}`, actual, expected, "deepStrictEqual");
  };
  assert.notDeepStrictEqual = (actual, expected, message) => {
    if (isDeepEqual(actual, expected, true)) fail(message, `expected values that are not deep-equal: ${show(actual)}`, actual, expected, "notDeepStrictEqual");
  };
  assert.deepEqual = strict ? assert.deepStrictEqual : (actual, expected, message) => {
    if (!isDeepEqual(actual, expected, false)) fail(message, `expected deep-equal values:\n  actual   ${show(actual)}\n  expected ${show(expected)}`, actual, expected, "deepEqual");
  };
  assert.notDeepEqual = strict ? assert.notDeepStrictEqual : (actual, expected, message) => {
    if (isDeepEqual(actual, expected, false)) fail(message, `expected values that are not deep-equal: ${show(actual)}`, actual, expected, "notDeepEqual");
  };
  assert.throws = (fn, expectedOrMessage, maybeMessage) => {
    const [expected, message] = splitThrowsArgs(expectedOrMessage, maybeMessage);
    let threw = false;
    let error: unknown;
    try {
      fn();
    } catch (e) {
      threw = true;
      error = e;
    }
    if (!threw) fail(message, "expected the function to throw", undefined, expected, "throws");
    checkError(error, expected, message, "throws");
  };
  assert.doesNotThrow = (fn, _expected, message) => {
    try {
      fn();
    } catch (error) {
      fail(typeof message === "string" ? message : undefined, `expected no exception, got ${show(error)}`, error, undefined, "doesNotThrow");
    }
  };
  assert.rejects = async (promise, expectedOrMessage, maybeMessage) => {
    const [expected, message] = splitThrowsArgs(expectedOrMessage, maybeMessage);
    let rejected = false;
    let error: unknown;
    try {
      await (typeof promise === "function" ? promise() : promise);
    } catch (e) {
      rejected = true;
      error = e;
    }
    if (!rejected) fail(message, "expected the promise to reject", undefined, expected, "rejects");
    checkError(error, expected, message, "rejects");
  };
  assert.doesNotReject = async (promise, _expected, message) => {
    try {
      await (typeof promise === "function" ? promise() : promise);
    } catch (error) {
      fail(typeof message === "string" ? message : undefined, `expected no rejection, got ${show(error)}`, error, undefined, "doesNotReject");
    }
  };
  assert.match = (value, pattern, message) => {
    if (typeof value !== "string" || !pattern.test(value)) fail(message, `expected ${show(value)} to match ${pattern}`, value, pattern, "match");
  };
  assert.doesNotMatch = (value, pattern, message) => {
    if (typeof value !== "string" || pattern.test(value)) fail(message, `expected ${show(value)} not to match ${pattern}`, value, pattern, "doesNotMatch");
  };
  assert.fail = (message?: Message): never => fail(message, "Failed");
  assert.ifError = (value) => {
    if (value !== null && value !== undefined) {
      if (value instanceof Error) throw value;
      fail(undefined, `ifError got unwanted exception: ${show(value)}`, value, null, "ifError");
    }
  };
  assert.AssertionError = AssertionError;
  return assert;
}
