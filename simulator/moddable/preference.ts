/* `preference` (SDK modules/files/preference): the board's flash (hardware/preferences.ts). */
import type { PreferenceValue } from "../hardware/preferences";
import { hardware, local } from "./hardware";

export default class Preference {
  static get(domain: string, key: string): PreferenceValue | undefined {
    return local(hardware().preferences.get(domain, key));
  }
  static set(domain: string, key: string, value: PreferenceValue): void {
    hardware().preferences.set(domain, key, value);
  }
  static delete(domain: string, key: string): void {
    hardware().preferences.delete(domain, key);
  }
  static keys(domain: string): string[] {
    return [...hardware().preferences.keys(domain)];
  }
}
