/*
 * Maps positions in a bundle back to sources (esbuild's source map v3, base64 VLQ mappings): an XS stack
 * (`at fn (#0:LINE)`, lines of the evaluated bundle) then names `tests/…/x.test.ts:18`, and the guard
 * names the line of each offending use.
 */
const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

interface SourceMap {
  sources: string[];
  mappings: string;
}

/** Segments of one generated line: generated column, then `file:line` (1-based) of the source. */
type Line = { column: number; at: string }[];

function decode(map: SourceMap): Line[] {
  const lines: Line[] = [[]]; // generated lines are 1-based
  let source = 0, sourceLine = 0;
  for (const group of map.mappings.split(";")) {
    const line: Line = [];
    let column = 0;
    for (const segment of group.split(",")) {
      if (!segment) continue;
      const fields: number[] = [];
      let value = 0, shift = 0;
      for (const char of segment) {
        const digit = BASE64.indexOf(char);
        value += (digit & 31) << shift;
        if (digit & 32) shift += 5;
        else {
          fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = shift = 0;
        }
      }
      column += fields[0];
      if (fields.length < 4) continue;
      source += fields[1];
      sourceLine += fields[2];
      line.push({ column, at: `${map.sources[source]}:${sourceLine + 1}` });
    }
    lines.push(line);
  }
  return lines;
}

/** `file:line` of generated `line` (1-based) and `column` (0-based; omitted: the line's first segment). */
export type PositionMapper = (line: number, column?: number) => string | undefined;

export function positionMapper(map: SourceMap): PositionMapper {
  const lines = decode(map);
  return (line, column) => {
    const segments = lines[line];
    if (!segments?.length) return undefined;
    if (column === undefined) return segments[0].at;
    let found = segments[0].at;
    for (const segment of segments) {
      if (segment.column > column) break;
      found = segment.at;
    }
    return found;
  };
}

/** Rewrites `(#0:LINE)` locations in an XS stack to source locations. */
export function mapStack(stack: string, map: PositionMapper): string {
  return stack.replace(/\(#\d+:(\d+)\)/g, (whole, line: string) => {
    const at = map(Number(line));
    return at ? `(${at})` : whole;
  });
}
