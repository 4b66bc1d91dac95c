/* Structured logging: one JSON object per event, written by whatever `Log` the server is given. */

export type LogLevel = "debug" | "info" | "warn" | "error";

export interface LogLine {
  level: LogLevel;
  event: string;
  [field: string]: unknown;
}

export type Log = (line: LogLine) => void;

/** JSON lines on stdout, stamped with wall-clock time; debug lines only when asked for. */
export function consoleLog(options: { debug?: boolean } = {}): Log {
  const debug = options.debug ?? process.env.THERMOCAST_DEBUG === "1";
  return (line) => {
    if (line.level === "debug" && !debug) return;
    console.log(JSON.stringify({ time: new Date().toISOString(), ...line }));
  };
}
