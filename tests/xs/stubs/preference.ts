/* `preference` stub: an in-memory Map. */
import { stubs } from "./state";

export default class Preference {
  static get(domain: string, key: string): unknown {
    return stubs.preferences.get(`${domain}.${key}`);
  }
  static set(domain: string, key: string, value: unknown): void {
    stubs.preferences.set(`${domain}.${key}`, value);
  }
  static delete(domain: string, key: string): void {
    stubs.preferences.delete(`${domain}.${key}`);
  }
  static keys(domain: string): string[] {
    const keys: string[] = [];
    for (const key of stubs.preferences.keys()) if (key.startsWith(`${domain}.`)) keys.push(key.slice(domain.length + 1));
    return keys;
  }
}
