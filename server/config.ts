/*
 * Configuration pushed to a device (docs/protocol.md, "Configuration push").
 *
 * The device is the authority: it checks every key against the one config schema and applies all or
 * none. The server runs the same schema first (config/schema.ts), so that an operator gets a 400 with the
 * device's own message at once instead of a `cfgack` refusal minutes later.
 */
import { findField, parseValue, type ConfigValue } from "../config/schema";

export type PushedConfig = Record<string, ConfigValue>;

export type PushCheck = { ok: true; set: PushedConfig } | { ok: false; error: string };

export function validatePush(set: unknown): PushCheck {
  if (typeof set !== "object" || set === null || Array.isArray(set)) return { ok: false, error: "set must be an object" };
  const entries = Object.entries(set);
  if (entries.length === 0) return { ok: false, error: "set is empty" };
  const checked: PushedConfig = {};
  for (const [key, value] of entries) {
    const field = findField(key);
    if (!field) return { ok: false, error: `unknown setting '${key}'` };
    if (!field.pushable) return { ok: false, error: `${key} cannot be set by the server` };
    // Pushed values are JSON: numbers stay numbers (the console is where text is parsed).
    if (field.type === "int" && typeof value !== "number") return { ok: false, error: `${key} must be a number` };
    const parsed = parseValue(key, value);
    if (!parsed.ok) return { ok: false, error: parsed.error };
    checked[key] = parsed.value;
  }
  return { ok: true, set: checked };
}
