/*
 * LineConsole: the serial console a person types at. Commands read and change configuration through
 * Settings (and so through the one schema), and reach the rest of the firmware only through the
 * functions main.ts passes in.
 *
 * Changes are staged: `set` and `unset` check a value at once and stage it; `save` applies everything
 * staged in one Settings.change, all or nothing, and only then does the firmware see it (Wi-Fi name and
 * password change together, never one without the other). `reboot` refuses while changes are unsaved.
 */
import { FIELDS, findField, parseValue, type ConfigKey, type ConfigValue, type Field } from "../../config/schema";
import type { Settings } from "../../config/settings";
import { FAULT_NAMES, faultKind, isFault } from "../protocol/values";
import { LINE_MAX, LineEditor, LineEvent } from "./line";
import type { PortOutput } from "./output";

/** What `status` shows besides configuration; main.ts gathers it from the parts. */
export interface DeviceStatus {
  version: string;
  boot: number;
  resetReason: string;
  /** ms since boot */
  uptime: number;
  /** LinkState name */
  link: string;
  lastError: string;
  stored: number;
  capacity: number;
  dropped: number;
  sentBatches: number;
  acked: number;
  /** Figures of the last wake in ms, e.g. { awake: 312, wifi: 180 }; undefined when there is none. */
  wake?: Readonly<Record<string, number>>;
  /** Battery mode: retained images found corrupt and discarded, and the readings they held. */
  retained?: { corrupt: number; lost: number };
}

export interface ConsoleOptions {
  output: PortOutput;
  settings: Settings;
  status(): DeviceStatus;
  /** Reads the probe now; `done` gets centi-degrees or a fault value (modules/protocol/values). */
  sample(done: (value: number) => void): void;
  /** Tries Wi-Fi and the server with the saved settings, reporting steps; `done` is called once. */
  test(progress: (step: string) => void, done: (ok: boolean, summary: string) => void): void;
  /** Restarts the device (after letting the output drain). */
  reboot(): void;
  /** Keys whose values changed by `save` or `factory-reset`, for main.ts to pass on to the parts. */
  changed(keys: readonly ConfigKey[]): void;
  /** Echo typed characters (default true). */
  echo?: boolean;
  /** Why this build refuses a value the schema accepts (wss:// where it has no TLS), checked at `set`. */
  refuse?(key: ConfigKey, value: ConfigValue): string | undefined;
}

export const PROMPT = "> ";
/** Lines `status` shows before the settings (#statusLine). */
const STATUS_LINES = 8;
const NL = "\r\n";
const SECRET_SHOWN = "****";

export const COMMANDS: readonly (readonly [name: string, usage: string, help: string])[] = Object.freeze(([
  ["help", "help [keys|<key>]", "this list; the settings; one setting"],
  ["status", "status", "configuration, link, stored readings, last wake"],
  ["get", "get [<key>]", "show one setting, or all"],
  ["set", "set <key> <value>", 'stage a value ("quotes" keep spaces, "" is empty)'],
  ["unset", "unset <key>", "stage going back to the default"],
  ["save", "save", "apply and store what is staged, all or nothing"],
  ["discard", "discard", "forget what is staged"],
  ["sample", "sample", "read the probe now"],
  ["test", "test", "try Wi-Fi and the server with the saved settings"],
  ["reboot", "reboot", "restart"],
  ["factory-reset", "factory-reset yes", "erase every stored setting, then restart"],
] as const).map((entry) => Object.freeze(entry)));

export class LineConsole {
  #options: ConsoleOptions;
  #output: PortOutput;
  #settings: Settings;
  #editor: LineEditor;
  /** Staged changes: a value, or null for "unset". Bounded by the number of fields. */
  #staged = new Map<ConfigKey, ConfigValue | null>();
  #sampling = false;
  #testing = false;

  constructor(options: ConsoleOptions) {
    this.#options = options;
    this.#output = options.output;
    this.#settings = options.settings;
    this.#editor = new LineEditor(options.output, isSecret, options.echo ?? true);
  }

  /** Keys staged and not yet saved. */
  get unsaved(): ConfigKey[] {
    return [...this.#staged.keys()];
  }

  start(banner: string): void {
    this.#output.write(`${NL}${banner}: type help${NL}${PROMPT}`);
  }

  /** One byte from the port (the demultiplexer has already taken Improv packets out). */
  receive(byte: number): void {
    const event = this.#editor.push(byte);
    if (event === LineEvent.None) return;
    if (event === LineEvent.Line) {
      const text = this.#editor.text();
      this.#editor.clear();
      if (text === undefined) this.#reply("ignored: the line is not UTF-8 text");
      else this.#run(text);
    } else if (event === LineEvent.TooLong) {
      this.#reply(`ignored: the line is longer than ${LINE_MAX} bytes`);
    } else {
      this.#output.write(PROMPT);
    }
  }

  /** Runs one command line. */
  #run(line: string): void {
    const trimmed = line.trim();
    if (!trimmed) return void this.#output.write(PROMPT);
    const space = firstSpace(trimmed);
    const command = space < 0 ? trimmed : trimmed.slice(0, space);
    const rest = space < 0 ? "" : trimmed.slice(space).trimStart();
    switch (command) {
      case "help":
        return this.#help(rest);
      case "status":
        return this.#status();
      case "get":
        return this.#get(rest);
      case "set":
        return this.#set(rest);
      case "unset":
        return this.#unset(rest);
      case "save":
        return this.#save();
      case "discard":
        return this.#discard();
      case "sample":
        return this.#sample();
      case "test":
        return this.#test();
      case "reboot":
        return this.#reboot();
      case "factory-reset":
        return this.#factoryReset(rest);
    }
    const near = closest(command.toLowerCase(), COMMANDS.map((c) => c[0]));
    this.#reply(`unknown command '${clip(command)}'${near ? `: did you mean ${near}?` : ""} (help lists the commands)`);
  }

  #help(topic: string): void {
    if (topic === "keys") return this.#list((i) => (i < FIELDS.length ? describe(FIELDS[i]) : undefined));
    const command = COMMANDS.find((c) => c[0] === topic);
    if (command) return this.#reply(`${command[1]}: ${command[2]}`);
    if (topic) {
      const field = this.#field(topic);
      if (field) this.#reply(describe(field));
      return;
    }
    this.#list((i) => {
      if (i === 0) return "commands:";
      const c = COMMANDS[i - 1];
      return c ? `  ${c[1].padEnd(20)} ${c[2]}` : undefined;
    });
  }

  #status(): void {
    const s = this.#options.status();
    const warnings = this.#settings.warnings;
    this.#list((i) => {
      if (i < STATUS_LINES) return this.#statusLine(s, i);
      i -= STATUS_LINES;
      if (i < FIELDS.length) return `  ${this.#shown(FIELDS[i])}`;
      i -= FIELDS.length;
      return i < warnings.length ? `warning: ${warnings[i]}` : undefined;
    });
  }

  /** Line `i` of `status` before the settings ("" to skip it): made when the port takes it, no closure a line. */
  #statusLine(s: DeviceStatus, i: number): string {
    switch (i) {
      case 0:
        return `${s.version}, boot ${s.boot} (${s.resetReason}), up ${duration(s.uptime)}`;
      case 1:
        return `link: ${s.link}${s.lastError ? `, last error: ${s.lastError}` : ""}`;
      case 2:
        return `store: ${s.stored} of ${s.capacity} readings, ${s.dropped} dropped; ${s.sentBatches} batches sent, ${s.acked} readings acked`;
      case 3:
        return `last wake: ${s.wake ? figures(s.wake) : "none yet"}`;
      case 4:
        return s.retained ? `retained image: ${s.retained.corrupt} found corrupt and discarded, ${s.retained.lost} readings lost with them` : "";
      case 5:
        return this.#output.dropped ? `serial: ${this.#output.dropped} bytes of output dropped` : "";
      case 6:
        return this.#staged.size ? `unsaved: ${[...this.#staged.keys()].join(", ")} (save or discard)` : "";
      default:
        return "config:";
    }
  }

  #get(key: string): void {
    if (!key) return this.#list((i) => (i < FIELDS.length ? this.#shown(FIELDS[i]) : undefined));
    const field = this.#field(key);
    if (field) this.#reply(this.#shown(field));
  }

  #set(rest: string): void {
    const space = firstSpace(rest);
    if (!rest || space < 0) return this.#reply("usage: set <key> <value>  (help keys lists the keys)");
    const field = this.#field(rest.slice(0, space));
    if (!field) return;
    const value = unquote(rest.slice(space).trimStart());
    const parsed = parseValue(field.key, value);
    if (!parsed.ok) return this.#reply(parsed.error);
    const refused = this.#options.refuse?.(field.key, parsed.value);
    if (refused) return this.#reply(refused);
    this.#staged.set(field.key, parsed.value);
    this.#reply(`staged ${field.key} = ${show(field, parsed.value)} (save to apply)`);
  }

  #unset(key: string): void {
    if (!key) return this.#reply("usage: unset <key>");
    const field = this.#field(key);
    if (!field) return;
    this.#staged.set(field.key, null);
    this.#reply(`staged ${field.key} back to ${show(field, this.#settings.fallback(field.key))} (save to apply)`);
  }

  #save(): void {
    if (!this.#staged.size) return this.#reply("nothing to save: values are staged with set and unset");
    const patch: Record<string, ConfigValue> = {};
    const unset: ConfigKey[] = [];
    for (const [key, value] of this.#staged) {
      if (value === null) unset.push(key);
      else patch[key] = value;
    }
    const applied = this.#settings.change(patch, unset);
    if (!applied.ok) return this.#reply(`not saved, nothing changed: ${applied.error}`);
    this.#staged.clear();
    if (!applied.changed.length) return this.#reply("saved: no value changed");
    this.#reply(`saved: ${applied.changed.join(", ")}`);
    this.#options.changed(applied.changed);
  }

  #discard(): void {
    const n = this.#staged.size;
    this.#staged.clear();
    this.#reply(n ? `discarded ${n} staged change${n === 1 ? "" : "s"}` : "nothing staged");
  }

  #sample(): void {
    if (this.#sampling) return this.#reply("a reading is already under way");
    this.#sampling = true;
    let waiting = false;
    this.#options.sample((value) => {
      if (!this.#sampling) return; // called twice
      this.#sampling = false;
      const text = `probe (${this.#settings.text("probe.type")}): ${reading(value)}`;
      if (waiting) this.#announce(text);
      else this.#reply(text);
    });
    waiting = this.#sampling;
    if (waiting) this.#reply("reading the probe…");
  }

  #test(): void {
    if (this.#testing) return this.#reply("a test is already running");
    this.#testing = true;
    let settled = false;
    const note = this.#staged.size ? ` (${this.#staged.size} unsaved change${this.#staged.size === 1 ? " is" : "s are"} not used)` : "";
    this.#reply(`testing with the saved settings${note}…`);
    this.#options.test(
      (step) => {
        if (!settled) this.#announce(`test: ${step}`);
      },
      (ok, summary) => {
        if (settled) return;
        settled = true;
        this.#testing = false;
        this.#announce(`test ${ok ? "passed" : "failed"}: ${summary}`);
      },
    );
  }

  #reboot(): void {
    if (this.#staged.size) return this.#reply(`${this.#staged.size} unsaved change(s): ${this.unsaved.join(", ")}; save or discard first`);
    this.#output.write(`restarting${NL}`);
    this.#options.reboot();
  }

  #factoryReset(word: string): void {
    if (word !== "yes")
      return this.#reply("this erases every stored setting (Wi-Fi, server, token) and restarts: type factory-reset yes");
    this.#staged.clear();
    const changed = this.#settings.clear();
    this.#output.write(`stored settings erased; restarting${NL}`);
    if (changed.length) this.#options.changed(changed);
    this.#options.reboot();
  }

  /** The field named `key`, or undefined after saying it is unknown. */
  #field(key: string): Field | undefined {
    const field = findField(key);
    if (field) return field;
    const near = closest(key.toLowerCase(), FIELDS.map((f) => f.key));
    this.#reply(`unknown setting '${clip(key)}'${near ? `: did you mean ${near}?` : ""} (help keys lists them)`);
    return undefined;
  }

  /** `key = value`, with secrets masked and a staged change shown after the saved value. */
  #shown(field: Field): string {
    const key = field.key;
    let line = `${key} = ${show(field, this.#settings.get(key))}`;
    if (this.#staged.has(key)) {
      const staged = this.#staged.get(key);
      line += ` -> ${show(field, staged === null ? this.#settings.fallback(key) : staged!)} (unsaved)`;
    }
    return line;
  }

  #reply(text: string): void {
    this.#output.write(`${text}${NL}${PROMPT}`);
  }

  /**
   * Output that arrives on its own (a reading, a test step), after the prompt was shown: it overwrites
   * a bare prompt, or goes on a fresh line below a half-typed one; then the prompt and that line again.
   */
  #announce(text: string): void {
    const typed = this.#editor.shown();
    this.#output.write(`${typed ? NL : "\r"}${text}${NL}${PROMPT}${typed}`);
  }

  /** A listing of lines made one at a time as the port takes them; then the prompt. Empty lines are skipped. */
  #list(line: (i: number) => string | undefined): void {
    let i = 0;
    let done = false;
    const queued = this.#output.queue({
      next: () => {
        if (done) return undefined;
        for (;;) {
          const text = line(i++);
          if (text === undefined) {
            done = true;
            return PROMPT;
          }
          if (text) return text + NL;
        }
      },
    });
    if (!queued) this.#reply("busy: output is still being sent");
  }
}

/**
 * Where the first white space in `text` is (what `search(/\s/)` finds), or -1: a regular expression literal
 * is compiled again each time it runs, into chunks of its own at every command (the heap bench ran out of
 * chunks at `set`, a 1 984 B one).
 */
function firstSpace(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 ||
      c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff) return i;
  }
  return -1;
}

/** Whether the setting `key` is masked as it is typed (one function for every console: no closure each). */
function isSecret(key: string): boolean {
  return findField(key)?.secret === true;
}

function show(field: Field, value: ConfigValue): string {
  if (field.secret) return value === "" ? "(not set)" : SECRET_SHOWN;
  if (field.type === "int" && field.hex) return `0x${(value as number).toString(16)}`;
  if (value === "") return '""';
  return String(value);
}

function describe(field: Field): string {
  let kind: string;
  if (field.type === "int") {
    const min = field.hex ? `0x${field.min.toString(16)}` : String(field.min);
    const max = field.hex ? `0x${field.max.toString(16)}` : String(field.max);
    kind = `${field.values ? field.values.join("|") : `${min}..${max}`}${field.unit ? " " + field.unit : ""}`;
  } else if (field.type === "choice") kind = field.choices.join("|");
  else kind = `text, up to ${field.maxLength} bytes`;
  const fallback = field.secret ? "" : `, default ${show(field, field.default)}`;
  return `${field.key}: ${field.help} [${kind}${fallback}]`;
}

/** `"…"` keeps leading and trailing spaces, and `""` is the empty value. */
function unquote(value: string): string {
  const trimmed = value.trimEnd();
  if (trimmed.length >= 2 && trimmed[0] === '"' && trimmed[trimmed.length - 1] === '"') return trimmed.slice(1, -1);
  return trimmed;
}

function reading(value: number): string {
  if (isFault(value)) return `no reading (${FAULT_NAMES[faultKind(value)] ?? "fault"})`;
  const sign = value < 0 ? "-" : "";
  const abs = Math.abs(value);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")} °C`;
}

function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  const hours = Math.floor(s / 3600);
  const mm = String(Math.floor(s / 60) % 60).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return `${hours}:${mm}:${ss}`;
}

function figures(wake: Readonly<Record<string, number>>): string {
  let text = "";
  for (const name in wake) text += `${text ? ", " : ""}${name} ${wake[name]} ms`;
  return text || "none";
}

/** Names in echoes are clipped, so that a pasted screenful is not sent back whole. */
function clip(text: string): string {
  return text.length > 24 ? `${text.slice(0, 24)}…` : text;
}

/** The candidate nearest to `word`: a prefix of it, or within 2 edits; undefined if none is close. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    if (word.length >= 2 && candidate.startsWith(word)) return candidate;
    const d = editDistance(word, candidate, bestDistance);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** Levenshtein distance, or `limit` once it is certain to reach it (words are short; one row of memory). */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) >= limit || a.length > 32) return limit;
  const row: number[] = [];
  for (let j = 0; j <= b.length; j++) row.push(j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    let smallest = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(above + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
      if (row[j] < smallest) smallest = row[j];
    }
    if (smallest >= limit) return limit;
  }
  return Math.min(row[b.length], limit);
}
