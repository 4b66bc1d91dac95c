/*
 * Settings: the values the firmware runs with, layered schema defaults < manifest (mc/config) <
 * preferences, and changed only through `apply`, which validates every value before it changes any.
 */
import { defaults, FIELDS, findField, parseValue, type ConfigKey, type ConfigValue, type ConfigValues } from "./schema";

export interface PreferenceStore {
  get(key: string): string | number | undefined;
  set(key: string, value: string | number): void;
  remove(key: string): void;
}

/** ESP8266 preference values hold at most 63 bytes; longer text is split across numbered keys. */
const CHUNK = 60;

export type Applied = { ok: true; changed: ConfigKey[] } | { ok: false; error: string };

export class Settings {
  readonly values: ConfigValues;
  /** Problems found while loading (bad manifest or stored values), for the console and the log. */
  readonly warnings: string[] = [];
  #preferences: PreferenceStore;

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
    for (const field of FIELDS) {
      const stored = this.#read(field.pref);
      if (stored === undefined) continue;
      const parsed = parseValue(field.key, stored);
      if (parsed.ok) this.values[field.key] = parsed.value;
      else this.warnings.push(`stored: ${parsed.error}`);
    }
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

  /**
   * Validates every entry of `patch`, then applies and persists all of them, or none. `pushedOnly`
   * refuses keys the server may not set (credentials and identity stay with the person at the console).
   */
  apply(patch: Readonly<Record<string, unknown>>, pushedOnly = false): Applied {
    const parsed: [ConfigKey, ConfigValue][] = [];
    for (const key in patch) {
      const field = findField(key);
      if (field && pushedOnly && !field.pushable) return { ok: false, error: `${key} cannot be set by the server` };
      const result = parseValue(key, patch[key]);
      if (!result.ok) return { ok: false, error: result.error };
      parsed.push([key as ConfigKey, result.value]);
    }
    const changed: ConfigKey[] = [];
    for (const [key, value] of parsed) {
      if (this.values[key] === value) continue; // unchanged: no flash write
      this.values[key] = value;
      this.#write(findField(key)!.pref, value);
      changed.push(key);
    }
    return { ok: true, changed };
  }

  /** Forgets a stored value, going back to the manifest's or the schema's default. */
  reset(key: ConfigKey, manifestDefault: ConfigValue | undefined): void {
    const field = findField(key)!;
    this.#write(field.pref, undefined);
    this.values[key] = manifestDefault ?? field.default;
  }

  #read(pref: string): string | number | undefined {
    const first = this.#preferences.get(pref);
    if (typeof first !== "string" || first.length < CHUNK) return first;
    let text = first;
    for (let i = 1; ; i++) {
      const more = this.#preferences.get(`${pref}.${i}`);
      if (typeof more !== "string") return text;
      text += more;
      if (more.length < CHUNK) return text;
    }
  }

  #write(pref: string, value: ConfigValue | undefined): void {
    const preferences = this.#preferences;
    let chunks = 0;
    if (typeof value === "number") {
      preferences.set(pref, value);
      chunks = 1;
    } else if (typeof value === "string") {
      // A value of exactly CHUNK characters gets an empty chunk after it, so reading knows where it ends.
      for (let at = 0; at <= value.length; at += CHUNK) {
        preferences.set(chunks ? `${pref}.${chunks}` : pref, value.slice(at, at + CHUNK));
        chunks++;
        if (value.length - at < CHUNK) break;
      }
    }
    if (!chunks) preferences.remove(pref);
    for (let i = chunks || 1; preferences.get(`${pref}.${i}`) !== undefined; i++) preferences.remove(`${pref}.${i}`);
  }
}
