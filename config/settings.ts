/*
 * Settings: the values the firmware runs with, layered schema defaults < manifest (mc/config) <
 * preferences, and changed only through `apply` / `change`, which validate every value, and the
 * combination, before they change any.
 */
import type { PreferenceStore } from "../modules/host/host";
import { checkTogether, defaults, FIELDS, findField, parseValue, type ConfigKey, type ConfigValue, type ConfigValues } from "./schema";

export type { PreferenceStore };

/**
 * ESP8266 preference values hold at most 63 bytes: text longer than CHUNK UTF-8 bytes is split across
 * `pref`, `pref.1`, `pref.2`… (ESP32 NVS keys are at most 15 characters, suffix included).
 */
const CHUNK = 60;
/** A bound on the chunks read back, so that a damaged store cannot make a load run on. */
const MAX_CHUNKS = 8;

export type Applied = { ok: true; changed: ConfigKey[] } | { ok: false; error: string };
/** What became of a pushed configuration: keys applied (and of those, the ones whose value changed), keys refused with why. */
export interface Pushed {
  applied: ConfigKey[];
  changed: ConfigKey[];
  refused: Record<string, string>;
}

export class Settings {
  readonly values: ConfigValues;
  /** Problems found while loading (bad manifest or stored values), for the console and the log. */
  readonly warnings: string[] = [];
  #preferences: PreferenceStore;
  /**
   * The manifest's values, as given: what a key falls back to when its stored value is removed is read from
   * them (or the schema) when asked, not kept as a second copy of every value (a slot a key on the ESP8266).
   */
  #manifest: Readonly<Record<string, unknown>> | undefined;

  constructor(preferences: PreferenceStore, manifest: Readonly<Record<string, unknown>> | undefined) {
    this.#preferences = preferences;
    this.values = defaults();
    if (manifest) {
      for (const key in manifest) {
        const parsed = parseValue(key, manifest[key]);
        if (parsed.ok) this.values[key as ConfigKey] = parsed.value;
        else this.warnings.push(`manifest: ${parsed.error}`);
      }
    }
    this.#manifest = manifest;
    for (const field of FIELDS) {
      const stored = this.#read(field.pref);
      if (stored === undefined) continue;
      const parsed = parseValue(field.key, stored);
      if (parsed.ok) this.values[field.key] = parsed.value;
      else this.warnings.push(`stored: ${parsed.error}`);
    }
    const together = checkTogether(this.values);
    if (together) this.warnings.push(together);
  }

  get(key: ConfigKey): ConfigValue {
    return this.values[key];
  }
  int(key: ConfigKey): number {
    return this.values[key] as number;
  }
  text(key: ConfigKey): string {
    return this.values[key] as string;
  }
  /** The value `key` goes back to when unset. */
  fallback(key: ConfigKey): ConfigValue {
    const given = this.#manifest?.[key];
    if (given !== undefined) {
      const parsed = parseValue(key, given);
      if (parsed.ok) return parsed.value;
    }
    return findField(key)!.default;
  }
  /** True when `key` has a value of its own in preference storage. */
  stored(key: ConfigKey): boolean {
    return this.#preferences.get(findField(key)!.pref) !== undefined;
  }

  /**
   * Validates every entry of `patch`, then applies and persists all of them, or none. `pushedOnly`
   * refuses keys the server may not set (credentials and identity stay with the person at the console).
   */
  apply(patch: Readonly<Record<string, unknown>>, pushedOnly = false): Applied {
    return this.change(patch, [], pushedOnly);
  }

  /**
   * A configuration the server pushed: each key judged alone (pushable, valid, and not refused by `refuse`,
   * the firmware's own say: e.g. battery mode on a board without retained memory); the acceptable ones are
   * applied together as `apply` does, the rest refused with the reason, by key.
   */
  applyPushed(patch: Readonly<Record<string, unknown>>, refuse?: (key: ConfigKey, value: ConfigValue) => string | undefined): Pushed {
    const accepted: Record<string, unknown> = {};
    const applied: ConfigKey[] = [];
    const refused: Record<string, string> = {};
    for (const key in patch) {
      const field = findField(key);
      const parsed = parseValue(key, patch[key]);
      const reason = !field ? `unknown setting '${key}'` : !field.pushable ? `${key} cannot be set by the server`
        : !parsed.ok ? parsed.error : refuse?.(field.key, parsed.value);
      if (reason) refused[key] = reason;
      else {
        accepted[key] = patch[key];
        applied.push(key as ConfigKey);
      }
    }
    const result = this.change(accepted, []); // not through `apply`: a frame less on the push's stack (docs/memory.md)
    if (result.ok) return { applied, changed: result.changed, refused };
    // A rule joining fields (checkTogether) refuses the lot.
    for (const key of applied) refused[key] = result.error;
    return { applied: [], changed: [], refused };
  }

  /**
   * `apply` that may also unset keys (back to their fallback): one all-or-nothing change, the way the
   * console saves what was staged with `set` and `unset`.
   */
  change(patch: Readonly<Record<string, unknown>>, unset: readonly string[], pushedOnly = false): Applied {
    const next = { ...this.values };
    const touched: ConfigKey[] = [];
    for (const key of unset) {
      const field = findField(key);
      if (!field) return { ok: false, error: `unknown setting '${key}'` };
      if (pushedOnly && !field.pushable) return { ok: false, error: `${key} cannot be set by the server` };
      next[field.key] = this.fallback(field.key);
      touched.push(field.key);
    }
    for (const key in patch) {
      const field = findField(key);
      if (field && pushedOnly && !field.pushable) return { ok: false, error: `${key} cannot be set by the server` };
      const result = parseValue(key, patch[key]);
      if (!result.ok) return { ok: false, error: result.error };
      next[key as ConfigKey] = result.value;
      touched.push(key as ConfigKey);
    }
    const together = checkTogether(next);
    if (together) return { ok: false, error: together };
    const changed: ConfigKey[] = [];
    for (const key of touched) {
      const field = findField(key)!;
      const value = next[key];
      const unsetting = !(key in patch);
      if (unsetting) {
        if (this.#preferences.get(field.pref) !== undefined) this.#write(field.pref, undefined);
      } else if (this.values[key] !== value) {
        this.#write(field.pref, value); // unchanged values are not written again: flash wear
      }
      if (this.values[key] !== value && changed.indexOf(key) < 0) changed.push(key);
      this.values[key] = value;
    }
    return { ok: true, changed };
  }

  /**
   * Forgets a stored value, going back to the manifest's or the schema's default. Returns true when the
   * value changed.
   */
  reset(key: ConfigKey, manifestDefault?: ConfigValue): boolean {
    const field = findField(key)!;
    if (this.#preferences.get(field.pref) !== undefined) this.#write(field.pref, undefined);
    const value = manifestDefault ?? this.fallback(key);
    const changed = this.values[key] !== value;
    this.values[key] = value;
    return changed;
  }

  /** Factory reset: removes every stored setting. Returns the keys whose value changed. */
  clear(): ConfigKey[] {
    const changed: ConfigKey[] = [];
    for (const field of FIELDS) if (this.reset(field.key)) changed.push(field.key);
    return changed;
  }

  #read(pref: string): string | number | undefined {
    const first = this.#preferences.get(pref);
    if (typeof first !== "string") return first;
    let text = first;
    for (let i = 1; i < MAX_CHUNKS; i++) {
      const more = this.#preferences.get(`${pref}.${i}`);
      if (typeof more !== "string") break;
      text += more;
    }
    return text;
  }

  #write(pref: string, value: ConfigValue | undefined): void {
    const preferences = this.#preferences;
    let chunks = 0;
    if (typeof value === "number") {
      preferences.set(pref, value);
      chunks = 1;
    } else if (typeof value === "string") {
      let at = 0;
      do {
        const end = chunkEnd(value, at);
        preferences.set(chunks ? `${pref}.${chunks}` : pref, value.slice(at, end));
        chunks++;
        at = end;
      } while (at < value.length);
    }
    if (!chunks) preferences.remove(pref);
    // Chunks left over from a longer earlier value: reading stops at the first missing one.
    for (let i = chunks || 1; i < MAX_CHUNKS && preferences.get(`${pref}.${i}`) !== undefined; i++) preferences.remove(`${pref}.${i}`);
  }
}

/** Where the chunk of `text` starting at `start` ends: at most CHUNK UTF-8 bytes, never inside a pair. */
function chunkEnd(text: string, start: number): number {
  let bytes = 0;
  let i = start;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    const pair = c >= 0xd800 && c < 0xdc00;
    const size = c < 0x80 ? 1 : c < 0x800 ? 2 : pair ? 4 : 3;
    if (bytes + size > CHUNK) break;
    bytes += size;
    i += pair ? 2 : 1;
  }
  return i;
}
