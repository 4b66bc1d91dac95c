/*
 * The one configuration schema: types, units, ranges and defaults. The serial console, the manifest's
 * defaults (mc/config) and the server's pushed config all go through `parseValue`, so a value is judged
 * the same way wherever it comes from.
 *
 * `pref` is the key in `preference` storage: at most 15 characters (the ESP32 NVS limit).
 */

export type ConfigKey =
  | "wifi.ssid" | "wifi.password"
  | "server.url" | "device.id" | "device.token"
  | "sample.interval" | "batch.size" | "batch.latency"
  | "link.backoff.base" | "link.backoff.cap" | "link.ack.timeout"
  | "mode" | "probe.type";

export type ConfigValue = string | number;
export type ConfigValues = { [K in ConfigKey]: ConfigValue };

interface FieldBase {
  key: ConfigKey;
  pref: string;
  /** Shown masked by the console and never echoed in `hello`. */
  secret?: boolean;
  /** May be set by the server's `cfg` frame. */
  pushable?: boolean;
  help: string;
}
export interface IntField extends FieldBase {
  type: "int";
  unit: string;
  min: number;
  max: number;
  default: number;
}
export interface TextField extends FieldBase {
  type: "text";
  maxLength: number;
  default: string;
  /** Returns an error message, or undefined when the value is acceptable. */
  check?: (value: string) => string | undefined;
}
export interface ChoiceField extends FieldBase {
  type: "choice";
  choices: readonly string[];
  default: string;
}
export type Field = IntField | TextField | ChoiceField;

const ID_CHARACTERS = /^[A-Za-z0-9_.-]+$/;

function checkUrl(url: string): string | undefined {
  if (url === "") return undefined; // not configured yet
  const secure = url.startsWith("wss://");
  if (!secure && !url.startsWith("ws://")) return "must start with ws:// or wss://";
  const rest = url.slice(secure ? 6 : 5);
  const hostEnd = rest.search(/[/?#]/);
  const authority = hostEnd < 0 ? rest : rest.slice(0, hostEnd);
  if (authority === "" || authority.startsWith(":")) return "has no host";
  const colon = authority.lastIndexOf(":");
  if (colon >= 0 && !authority.endsWith("]")) {
    const port = authority.slice(colon + 1);
    if (!/^[0-9]{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) return "has a bad port";
  }
  if (/\s/.test(url)) return "must not contain spaces";
  return undefined;
}

function checkId(id: string): string | undefined {
  if (id === "") return "must not be empty";
  return ID_CHARACTERS.test(id) ? undefined : "may use only letters, digits, '_', '.' and '-'";
}

export const FIELDS: readonly Field[] = Object.freeze([
  { key: "wifi.ssid", pref: "ssid", type: "text", maxLength: 32, default: "", help: "Wi-Fi network name" },
  { key: "wifi.password", pref: "pass", type: "text", maxLength: 63, default: "", secret: true, help: "Wi-Fi password" },
  { key: "server.url", pref: "url", type: "text", maxLength: 200, default: "", check: checkUrl, help: "server, ws://host:port or wss://host:port" },
  { key: "device.id", pref: "id", type: "text", maxLength: 32, default: "thermocast", check: checkId, help: "device id, as registered on the server" },
  { key: "device.token", pref: "token", type: "text", maxLength: 128, default: "", secret: true, help: "device token from the server" },
  { key: "sample.interval", pref: "interval", type: "int", unit: "s", min: 1, max: 86400, default: 60, pushable: true, help: "seconds between readings" },
  { key: "batch.size", pref: "batch", type: "int", unit: "readings", min: 1, max: 120, default: 10, pushable: true, help: "readings per upload frame" },
  { key: "batch.latency", pref: "latency", type: "int", unit: "s", min: 0, max: 86400, default: 900, pushable: true, help: "longest a reading waits before it is sent" },
  { key: "link.backoff.base", pref: "bo_base", type: "int", unit: "ms", min: 100, max: 60000, default: 1000, pushable: true, help: "first reconnect delay bound" },
  { key: "link.backoff.cap", pref: "bo_cap", type: "int", unit: "ms", min: 1000, max: 3600000, default: 60000, pushable: true, help: "longest reconnect delay bound" },
  { key: "link.ack.timeout", pref: "ack_to", type: "int", unit: "ms", min: 1000, max: 120000, default: 10000, pushable: true, help: "how long to wait for an ack before reconnecting" },
  { key: "mode", pref: "mode", type: "choice", choices: ["always-on", "battery"], default: "always-on", pushable: true, help: "always-on (mains) or battery (deep sleep)" },
  { key: "probe.type", pref: "probe", type: "choice", choices: ["simulated", "ds18b20", "tmp117", "tmp102", "ntc"], default: "simulated", help: "temperature probe" },
] as Field[]);

export function findField(key: string): Field | undefined {
  for (const field of FIELDS) if (field.key === key) return field;
  return undefined;
}

export type Parsed = { ok: true; value: ConfigValue } | { ok: false; error: string };

/**
 * Judges one value for `key`. `raw` is text when typed at the console, or a JSON value when pushed or
 * given in the manifest. Error messages name the key, so they can be shown as they are.
 */
export function parseValue(key: string, raw: unknown): Parsed {
  const field = findField(key);
  if (!field) return { ok: false, error: `unknown setting '${key}'` };
  if (field.type === "int") {
    let value: number;
    if (typeof raw === "number") value = raw;
    else if (typeof raw === "string" && /^-?[0-9]+$/.test(raw.trim())) value = Number(raw.trim());
    else return { ok: false, error: `${key} must be a whole number of ${field.unit}` };
    if (!Number.isInteger(value)) return { ok: false, error: `${key} must be a whole number of ${field.unit}` };
    if (value < field.min || value > field.max)
      return { ok: false, error: `${key} must be between ${field.min} and ${field.max} ${field.unit}` };
    return { ok: true, value };
  }
  if (typeof raw !== "string") return { ok: false, error: `${key} must be text` };
  if (field.type === "choice") {
    if (field.choices.indexOf(raw) < 0) return { ok: false, error: `${key} must be one of ${field.choices.join(", ")}` };
    return { ok: true, value: raw };
  }
  if (raw.length > field.maxLength) return { ok: false, error: `${key} must be at most ${field.maxLength} characters` };
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return { ok: false, error: `${key} must not contain control characters` };
  }
  const problem = field.check?.(raw);
  if (problem) return { ok: false, error: `${key} ${problem}` };
  return { ok: true, value: raw };
}

export function defaults(): ConfigValues {
  const values = {} as ConfigValues;
  for (const field of FIELDS) values[field.key] = field.default;
  return values;
}
