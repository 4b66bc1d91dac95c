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

/**
 * Repeated lines, rate-limited: at most `lines` lines of one event and level in each window of `windowMs` on
 * the server's clock (a simulation's virtual one included); the others are counted, and the window's end
 * writes one `log-suppressed` line per event that had some. A client that makes the server log on every
 * frame or connection cannot grow the log without bound. Debug lines, asked for one by one (`--debug`),
 * are not limited.
 */
export class LogLimit {
  readonly #log: Log;
  readonly #lines: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  #windowEnd = -Infinity;
  /** Lines written and left out this window, per `level event`. */
  #counts = new Map<string, { level: LogLevel; event: string; written: number; suppressed: number }>();

  constructor(log: Log, options: { lines: number; windowMs: number; now: () => number }) {
    this.#log = log;
    this.#lines = options.lines;
    this.#windowMs = options.windowMs;
    this.#now = options.now;
  }

  readonly log: Log = (line) => {
    if (line.level === "debug" || this.#lines <= 0) return this.#log(line);
    const now = this.#now();
    if (now >= this.#windowEnd) {
      this.flush();
      this.#windowEnd = now + this.#windowMs;
    }
    const key = `${line.level} ${line.event}`;
    let count = this.#counts.get(key);
    if (count === undefined) this.#counts.set(key, (count = { level: line.level, event: line.event, written: 0, suppressed: 0 }));
    if (count.written < this.#lines) {
      count.written++;
      this.#log(line);
    } else count.suppressed++;
  };

  /** Ends the window: says what was left out, and lets every event log again. */
  flush(): void {
    for (const { level, event, suppressed } of this.#counts.values()) {
      if (suppressed === 0) continue;
      this.#log({ level: "warn", event: "log-suppressed", of: event, ofLevel: level, suppressed, msg: `${suppressed} more '${event}' line(s) not logged` });
    }
    this.#counts.clear();
  }
}
