/*
 * Node 20 does not apply source maps to vm scripts, so a firmware stack would point into the bundle.
 * bundle.ts registers each bundle's inline map here; a device's crash is reported with its frames
 * rewritten to the TypeScript sources.
 */
import { SourceMap } from "node:module";

const maps = new Map<string, SourceMap>();

export function registerSourceMap(filename: string, code: string): void {
  const match = /\/\/# sourceMappingURL=data:application\/json;base64,([A-Za-z0-9+/=]+)\s*$/.exec(code);
  if (match) maps.set(filename, new SourceMap(JSON.parse(Buffer.from(match[1], "base64").toString("utf8"))));
}

/** `stack` with every frame in a registered bundle ("firmware:main.ts:120:7") pointing at its source. */
export function mapStack(stack: string): string {
  return stack.replace(/(firmware:[^\s():]+):(\d+):(\d+)/g, (frame, filename: string, line: string, column: string) => {
    const entry = maps.get(filename)?.findEntry(Number(line) - 1, Number(column) - 1);
    if (!entry || !("originalSource" in entry) || !entry.originalSource) return frame;
    return `${entry.originalSource}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
  });
}
