/*
 * The device's preference storage (flash): the only state that survives a reboot. Kept in memory, and
 * in a JSON file when given one (the layout of the SDK's Linux `preference`). The limits of the target's
 * storage are enforced, so firmware that would fail on a board fails here too:
 * ESP32 (NVS): names at most 15 characters, values at most 4000 bytes; ESP8266: names at most 31
 * characters (its C code refuses 32), values at most 63 bytes (SDK documentation/files/files.md,
 * "Preference"); both store integers only ("float unsupported", modules/files/preference/*); "lin"
 * (mcsim): no limits.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { types } from "node:util";

export type PreferenceValue = string | number | boolean | ArrayBuffer;
export type Platform = "esp32" | "esp8266" | "lin";

interface Limits {
  name: number;
  value: number;
  integers: boolean;
}

const LIMITS: Record<Platform, Limits> = {
  esp32: { name: 15, value: 4000, integers: true },
  esp8266: { name: 31, value: 63, integers: true },
  lin: { name: Infinity, value: Infinity, integers: false },
};

type Stored = string | number | boolean | Uint8Array;

export class Preferences {
  readonly platform: Platform;
  /** Writes and deletes so far: flash wears out, and the docs warn against writing every minute. */
  writes = 0;
  #domains = new Map<string, Map<string, Stored>>();
  #file: string | undefined;

  constructor(platform: Platform = "esp32") {
    this.platform = platform;
  }

  /** Keeps the flash in `file` from now on, starting from what the file holds (if it exists). */
  attach(file: string): void {
    this.#file = file;
    this.#load(file);
  }

  get(domain: string, key: string): PreferenceValue | undefined {
    const value = this.#domains.get(domain)?.get(key);
    return value instanceof Uint8Array ? value.slice().buffer : value;
  }

  set(domain: string, key: string, value: PreferenceValue): void {
    const limits = LIMITS[this.platform];
    if (domain.length > limits.name || key.length > limits.name) throw new Error(`preference name too long: ${domain}.${key}`);
    let stored: Stored;
    if (types.isArrayBuffer(value)) stored = new Uint8Array(value.slice(0));
    else if (typeof value === "number") {
      if (limits.integers && !Number.isInteger(value)) throw new Error("float unsupported");
      stored = value;
    } else if (typeof value === "string" || typeof value === "boolean") stored = value;
    else throw new Error("unsupported type");
    const size = typeof stored === "string" ? Buffer.byteLength(stored) : stored instanceof Uint8Array ? stored.byteLength : 4;
    if (size > limits.value) throw new Error(`preference value too long: ${domain}.${key} (${size} bytes)`);
    let keys = this.#domains.get(domain);
    if (!keys) this.#domains.set(domain, (keys = new Map()));
    keys.set(key, stored);
    this.#changed();
  }

  delete(domain: string, key: string): void {
    const keys = this.#domains.get(domain);
    if (!keys?.delete(key)) return;
    if (keys.size === 0) this.#domains.delete(domain);
    this.#changed();
  }

  keys(domain: string): string[] {
    return [...(this.#domains.get(domain)?.keys() ?? [])];
  }

  /** Everything stored, as the SDK's Linux implementation writes it to its JSON file. */
  toJSON(): Record<string, Record<string, unknown>> {
    const result: Record<string, Record<string, unknown>> = {};
    for (const [domain, keys] of this.#domains) {
      result[domain] = {};
      for (const [key, value] of keys) result[domain][key] = value instanceof Uint8Array ? { buffer: value.join(",") } : value;
    }
    return result;
  }

  #changed(): void {
    this.writes++;
    if (this.#file) writeFileSync(this.#file, JSON.stringify(this));
  }

  #load(file: string): void {
    let json: Record<string, Record<string, unknown>>;
    try {
      json = JSON.parse(readFileSync(file, "utf8"));
    } catch {
      return; // no file yet: empty flash
    }
    this.#domains.clear();
    for (const domain in json) {
      const keys = new Map<string, Stored>();
      for (const key in json[domain]) {
        const value = json[domain][key];
        keys.set(key, typeof value === "object" && value ? Uint8Array.from(String((value as { buffer: string }).buffer).split(","), Number) : (value as Stored));
      }
      this.#domains.set(domain, keys);
    }
  }
}
