/*
 * The device's debug console: what `trace()` prints, kept as lines for tests to read, and echoed to
 * stdout with the device id and virtual time when asked.
 */
export class Trace {
  readonly lines: string[] = [];
  echo: boolean;
  #partial = "";
  #prefix: () => string;

  constructor(prefix: () => string, echo = false) {
    this.#prefix = prefix;
    this.echo = echo;
  }

  /** XS `trace(...parts)`: the parts are written as strings, back to back; "\n" ends a line. */
  write(...parts: unknown[]): void {
    const text = this.#partial + parts.map(String).join("");
    const lines = text.split("\n");
    this.#partial = lines.pop()!;
    for (const line of lines) this.line(line);
  }

  /** A whole line, also for the simulator's own notes (boot, power off, halt). */
  line(text: string): void {
    this.lines.push(text);
    if (this.echo) process.stdout.write(`${this.#prefix()} ${text}\n`);
  }

  /** A line cut short by power-off is still part of the record. */
  flush(): void {
    if (this.#partial) this.line(this.#partial);
    this.#partial = "";
  }
}
