/*
 * What device code must not use: built-ins XS 13.3 lacks (../shared/NOTES.md, each one confirmed missing
 * in the worker by tests/xs/guard.test.ts) and host globals a Moddable board does not provide. And the
 * scan that finds them in a bundle.
 *
 * The scan works on esbuild's syntax tree, not on text: every free reference to a listed global (or
 * static, like `Object.groupBy`) and every listed method name used as a property becomes a marker, so
 * strings, comments and shadowing locals are not flagged (an object key named like a listed method is). Syntax XS cannot parse (regex `v` flag, `using`, decorators) is caught by
 * evaluating the bundle in the worker, since nothing is lowered (target esnext, as mcconfig's tsc).
 */
import path from "node:path";
import { baseOptions, buildOrExplain } from "./bundle";
import { ROOT } from "./device-tests";
import { positionMapper } from "./sourcemap";

export type GapKind = "global" | "static" | "method" | "host";

export interface Gap {
  name: string;
  kind: GapKind;
  /** What to use instead, or why it is missing. */
  note: string;
}

const es = (kind: GapKind, note: string, names: string[]): Gap[] => names.map((name) => ({ name, kind, note }));

/** Absent from XS 13.3 (tests/xs/guard.test.ts checks each one in the worker). */
export const XS_LACKS: readonly Gap[] = [
  ...es("method", "ES2023 change-array-by-copy: copy, then sort/reverse/splice/assign", ["toSorted", "toReversed", "toSpliced", "with"]),
  ...es("method", "ES2024 well-formed strings", ["isWellFormed", "toWellFormed"]),
  ...es("method", "ES2025 Set methods: loop over the smaller set", ["union", "intersection", "difference", "symmetricDifference", "isSubsetOf", "isSupersetOf", "isDisjointFrom"]),
  ...es("method", "ES2025 Float16 / resizable-buffer / base64 methods", ["getFloat16", "setFloat16", "transferToFixedLength", "toBase64", "toHex", "setFromBase64", "setFromHex"]),
  ...es("method", "ES2025 iterator helpers: spread into an array first", ["toArray"]),
  ...es("static", "ES2024 grouping: build the Map or object in a loop", ["Object.groupBy", "Map.groupBy"]),
  ...es("static", "not in XS 13.3", [
    "Promise.withResolvers", "Promise.try", "Array.fromAsync", "RegExp.escape", "Math.sumPrecise", "Math.f16round",
    "Error.captureStackTrace", "Error.isError", "Atomics.waitAsync", "Uint8Array.fromBase64", "Uint8Array.fromHex",
    "Symbol.dispose", "Symbol.asyncDispose",
  ]),
  ...es("global", "not in XS 13.3", ["Iterator", "Float16Array", "DisposableStack", "AsyncDisposableStack", "SuppressedError"]),
  ...es("global", "no Intl in XS: format numbers by hand", ["Intl"]),
  ...es("global", "not an ECMAScript built-in; XS has none: copy explicitly", ["structuredClone"]),
  ...es("global", "no microtask API in XS: use Promise.resolve().then()", ["queueMicrotask"]),
  ...es("global", "no timers in XS: use Host.setTimer (the `timer` module, behind modules/host)", ["setTimeout", "setInterval", "clearTimeout", "clearInterval"]),
  ...es("global", "no console in XS: use Host.log (trace)", ["console"]),
  ...es("global", "not in XS: encode by hand (modules/protocol has the alphabet)", ["atob", "btoa"]),
  ...es("global", "not in XS: parse it (see parseServerUrl in modules/protocol/endpoint.ts)", ["URL", "URLSearchParams"]),
  ...es("global", "not in XS", ["crypto", "fetch", "WebSocket", "Blob"]),
  ...es("global", "a Node global, not on a board", ["process", "Buffer", "require", "__dirname", "__filename"]),
];

/** Globals the XS worker has but a Moddable board does not (so the worker cannot prove them missing). */
export const HOST_LACKS: readonly Gap[] = [
  ...es("host", "an xsnap host function, not on a board: use Host.setTimer", ["setImmediate", "clearImmediate"]),
  ...es("host", "on Moddable a module (text/decoder, text/encoder) the manifest must include, not a global", ["TextEncoder", "TextDecoder"]),
  ...es("host", "an xsnap host global, not on a board: use Host.ticks", ["performance"]),
  ...es("host", "an xsnap host function, not on a board: use Host.log", ["print"]),
  ...es("host", "an xsnap host function, not on a board", ["gc", "issueCommand", "resetMeter", "currentMeterLimit"]),
];

export const ALL_GAPS: readonly Gap[] = [...XS_LACKS, ...HOST_LACKS];

export interface Finding extends Gap {
  /** `file:line` of each use, from the bundle's source map. */
  where: string[];
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const marker = (i: number) => `__XS_LACKS_${i}__`;

export interface ScanResult {
  findings: Finding[];
  /** Repository-relative source files in the bundle (the stubs excluded). */
  inputs: string[];
}

/**
 * Scans the module graph of `source` (TypeScript text resolved from the repository root, such as
 * firmware.ts's entry) for the gaps above. Tree shaking is off so unused code is scanned too.
 * Globals and statics become markers through `define`; methods are renamed to markers through a preset
 * `mangleCache`. Each marker left in the output is a use, located through the source map.
 */
export async function scanForGaps(source: string, gaps: readonly Gap[] = ALL_GAPS): Promise<ScanResult> {
  const define: Record<string, string> = {};
  const mangleCache: Record<string, string> = {};
  gaps.forEach((gap, i) => {
    if (gap.kind === "method") {
      mangleCache[gap.name] = marker(i);
      return;
    }
    define[gap.name] = marker(i);
    if (gap.kind !== "static") define[`globalThis.${gap.name}`] = marker(i);
  });
  const methods = gaps.filter((gap) => gap.kind === "method").map((gap) => escape(gap.name));
  const result = await buildOrExplain({
    ...baseOptions(false),
    stdin: { contents: source, resolveDir: ROOT, loader: "ts", sourcefile: "xs-guard-entry.ts" },
    treeShaking: false,
    define,
    mangleProps: new RegExp(`^(${methods.join("|")})$`),
    mangleQuoted: true,
    mangleCache,
    metafile: true,
    sourcemap: "external",
    sourcesContent: false,
    outfile: path.join(ROOT, "xs-guard.js"),
  });
  const files = result.outputFiles!;
  const code = files.find((f) => f.path.endsWith(".js"))!.text;
  const sourceOf = positionMapper(JSON.parse(files.find((f) => f.path.endsWith(".map"))!.text));
  const uses = new Map<number, string[]>();
  code.split("\n").forEach((text, i) => {
    for (const match of text.matchAll(/__XS_LACKS_(\d+)__/g)) {
      const gap = Number(match[1]);
      const where = sourceOf(i + 1, match.index) ?? `bundle line ${i + 1}`;
      const list = uses.get(gap) ?? [];
      if (!list.includes(where)) list.push(where);
      uses.set(gap, list);
    }
  });
  const inputs = Object.keys(result.metafile!.inputs)
    .filter((file) => !file.startsWith("tests/xs/stubs/") && !file.startsWith("xs-") && file !== "<stdin>" && !file.endsWith(".json"));
  const findings: Finding[] = [];
  gaps.forEach((gap, i) => {
    const where = uses.get(i);
    if (where) findings.push({ ...gap, where });
  });
  return { findings, inputs };
}

/** `file:line: name (note)` lines for a failure message. */
export function describeFindings(findings: Finding[]): string {
  return findings
    .map((f) => `${f.where.join(", ")}: ${f.kind === "method" ? "." : ""}${f.name} — ${f.note}`)
    .join("\n");
}
