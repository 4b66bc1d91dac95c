/*
 * Configuration pushed to a device (docs/protocol.md, "Configuration push").
 *
 * The device is the authority: it checks every key against the one config schema and applies all or
 * none. `validatePush` is the server's early check, so that an operator gets a 400 instead of a
 * `cfgack` refusal minutes later; it is the one place to wire the schema's pushable keys into.
 */

export type ConfigValue = string | number | boolean;
export type PushedConfig = Record<string, ConfigValue>;

export type PushCheck = { ok: true; set: PushedConfig } | { ok: false; error: string };

const KEY = /^[a-z]+(\.[a-z]+)*$/;
const MAX_KEYS = 64;

export function validatePush(set: unknown): PushCheck {
  if (typeof set !== "object" || set === null || Array.isArray(set)) return { ok: false, error: "set must be an object" };
  const entries = Object.entries(set);
  if (entries.length === 0) return { ok: false, error: "set is empty" };
  if (entries.length > MAX_KEYS) return { ok: false, error: `set holds more than ${MAX_KEYS} keys` };
  const checked: PushedConfig = {};
  for (const [key, value] of entries) {
    if (!KEY.test(key)) return { ok: false, error: `${JSON.stringify(key)} is not a config key` };
    const valid = typeof value === "string" || typeof value === "boolean" || (typeof value === "number" && Number.isFinite(value));
    if (!valid) return { ok: false, error: `${key} must be a string, a finite number or a boolean` };
    checked[key] = value;
  }
  return { ok: true, set: checked };
}
