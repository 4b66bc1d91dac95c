/*
 * The one configuration schema: types, units, ranges and defaults. The serial console, the manifest's
 * defaults (mc/config) and the server's pushed config all go through `parseValue`, so a value is judged
 * the same way wherever it comes from.
 *
 * `pref` is the key in `preference` storage: at most 15 characters (the ESP32 NVS limit).
 */
import { BOARD_NAMES } from "./boards/boards";
import { parseSteinhartHart } from "./steinhart-hart";
import { checkDeviceId, parseServerUrl } from "../modules/protocol/endpoint";

export type ConfigKey =
  | "wifi.ssid" | "wifi.password" | "wifi.ip"
  | "server.url" | "server.ntp" | "device.id" | "device.token"
  | "sample.interval" | "batch.size" | "batch.latency"
  | "link.backoff.base" | "link.backoff.cap" | "link.ack.timeout" | "link.heartbeat"
  | "mode" | "board" | "probe.type" | "probe.pin" | "probe.resolution" | "probe.offset" | "probe.address"
  | "probe.stuck" | "probe.avg" | "probe.ext"
  | "ntc.side" | "ntc.r25" | "ntc.beta" | "ntc.sh" | "ntc.series" | "ntc.power";

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
  /** Plural unit for messages ("s", "ms", "ohms"); "" when the number has none. */
  unit: string;
  /** Also accepts 0x-prefixed hexadecimal, and names its range in hex (I2C addresses). */
  hex?: boolean;
  /** Only these values are accepted (within min…max), e.g. the TMP117's averaging counts. */
  values?: readonly number[];
  min: number;
  max: number;
  default: number;
}
export interface TextField extends FieldBase {
  type: "text";
  /** In UTF-8 bytes: what preference storage and Wi-Fi (32-byte SSIDs) count. */
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

function checkUrl(url: string): string | undefined {
  if (url === "") return undefined; // not configured yet
  const parsed = parseServerUrl(url);
  return typeof parsed === "string" ? parsed : undefined;
}

function checkHost(host: string): string | undefined {
  return /^[A-Za-z0-9.-]*$/.test(host) ? undefined : "must be a host name or an IPv4 address";
}

/** An IPv4 address as a 32-bit number, or -1. */
function ipv4(text: string): number {
  const parts = text.split(".");
  if (parts.length !== 4) return -1;
  let value = 0;
  for (const part of parts) {
    if (!/^[0-9]{1,3}$/.test(part) || Number(part) > 255) return -1;
    value = value * 256 + Number(part);
  }
  return value;
}

/** A static IPv4 configuration (`wifi.ip`), each address as a 32-bit number (a.b.c.d is a·2^24 + …). */
export interface StaticAddress {
  address: number;
  netmask: number;
  gateway: number;
  /** The gateway unless given. */
  dns: number;
}

const STATIC_SHAPE = /^([0-9.]+)\/([0-9]{1,2}),([0-9.]+)(?:,([0-9.]+))?$/;

/**
 * `wifi.ip`, `address/prefix,gateway[,dns]`, as numbers; undefined for empty (DHCP) or a text that is not
 * one (checkStaticIp says why).
 */
export function staticAddress(text: string): StaticAddress | undefined {
  const match = STATIC_SHAPE.exec(text);
  if (!match) return undefined;
  const address = ipv4(match[1]), gateway = ipv4(match[3]);
  const dns = match[4] === undefined ? gateway : ipv4(match[4]);
  const prefix = Number(match[2]);
  if (address < 0 || gateway < 0 || dns < 0 || prefix < 8 || prefix > 30) return undefined;
  return { address, netmask: 2 ** 32 - 2 ** (32 - prefix), gateway, dns };
}

/**
 * Static address for a fast join on battery wakes (no DHCP exchange): `address/prefix,gateway[,dns]`. Dropped
 * for DHCP by itself if a join with it fails and one with DHCP then works (docs/power.md).
 */
function checkStaticIp(text: string): string | undefined {
  if (text === "") return undefined; // DHCP
  const parsed = staticAddress(text);
  const match = STATIC_SHAPE.exec(text);
  if (!parsed || !match) return "must look like 192.168.1.50/24,192.168.1.1[,dns] (address/prefix,gateway and a DNS server, the gateway's if not given), or be empty for DHCP";
  const size = 2 ** (32 - Number(match[2]));
  if (Math.floor(parsed.address / size) !== Math.floor(parsed.gateway / size)) return `gateway ${match[3]} is not in ${match[1]}/${match[2]}`;
  if (parsed.address === parsed.gateway) return "address and gateway must differ";
  return undefined;
}

/** Steinhart–Hart table text: empty (use the Beta model), or three points parseSteinhartHart accepts. */
function checkSteinhartHart(text: string): string | undefined {
  if (text === "") return undefined;
  const parsed = parseSteinhartHart(text);
  return typeof parsed === "string" ? parsed : undefined;
}

// Each field frozen too: preloaded into flash, an unfrozen object would be copied to RAM when touched.
export const FIELDS: readonly Field[] = Object.freeze(([
  { key: "wifi.ssid", pref: "ssid", type: "text", maxLength: 32, default: "", help: "Wi-Fi network name" },
  { key: "wifi.password", pref: "pass", type: "text", maxLength: 63, default: "", secret: true, help: "Wi-Fi password (empty for an open network)" },
  { key: "wifi.ip", pref: "ip", type: "text", maxLength: 50, default: "", check: checkStaticIp, help: "battery wakes' static address/prefix,gateway[,dns] (e.g. 192.168.1.50/24,192.168.1.1); empty for DHCP" },
  { key: "server.url", pref: "url", type: "text", maxLength: 200, default: "", check: checkUrl, help: "server, ws://host:port or wss://host:port" },
  { key: "server.ntp", pref: "ntp", type: "text", maxLength: 63, default: "", check: checkHost, help: "SNTP server that sets the clock before a wss:// connection (certificates carry dates); empty for pool.ntp.org" },
  { key: "device.id", pref: "id", type: "text", maxLength: 32, default: "thermocast", check: checkDeviceId, help: "device id, as registered on the server" },
  { key: "device.token", pref: "token", type: "text", maxLength: 128, default: "", secret: true, help: "device token from the server" },
  { key: "sample.interval", pref: "interval", type: "int", unit: "s", min: 1, max: 86400, default: 60, pushable: true, help: "seconds between readings" },
  { key: "batch.size", pref: "batch", type: "int", unit: "readings", min: 1, max: 120, default: 10, pushable: true, help: "readings per upload frame" },
  { key: "batch.latency", pref: "latency", type: "int", unit: "s", min: 0, max: 86400, default: 900, pushable: true, help: "longest a reading waits before it is sent" },
  { key: "link.backoff.base", pref: "bo_base", type: "int", unit: "ms", min: 100, max: 60000, default: 1000, pushable: true, help: "first reconnect delay bound" },
  { key: "link.backoff.cap", pref: "bo_cap", type: "int", unit: "ms", min: 1000, max: 3600000, default: 60000, pushable: true, help: "longest reconnect delay bound" },
  { key: "link.ack.timeout", pref: "ack_to", type: "int", unit: "ms", min: 1000, max: 120000, default: 10000, pushable: true, help: "how long to wait for an ack before reconnecting" },
  { key: "link.heartbeat", pref: "heartbeat", type: "int", unit: "s", min: 0, max: 3600, default: 60, pushable: true, help: "seconds of silence while online before a ping to detect a dead connection; 0 for none" },
  { key: "mode", pref: "mode", type: "choice", choices: ["always-on", "battery"], default: "always-on", pushable: true, help: "always-on (mains) or battery (deep sleep)" },
  { key: "board", pref: "board", type: "choice", choices: BOARD_NAMES, default: "esp32-devkitc", help: "board, for the probes' default pins (config/boards)" },
  { key: "probe.type", pref: "probe", type: "choice", choices: ["simulated", "ds18b20", "tmp117", "tmp102", "ntc", "sht4x"], default: "simulated", help: "temperature probe (sht4x: and humidity)" },
  { key: "probe.pin", pref: "p_pin", type: "int", unit: "", min: -1, max: 48, default: -1, help: "probe GPIO (1-Wire data, or the NTC's analog input); -1 for the board's default" },
  { key: "probe.resolution", pref: "p_res", type: "int", unit: "bits", min: 9, max: 12, default: 12, pushable: true, help: "DS18B20 resolution: 9 bits converts in 94 ms, 12 bits in 750 ms" },
  { key: "probe.offset", pref: "p_offset", type: "int", unit: "hundredths of °C", min: -1000, max: 1000, default: 0, pushable: true, help: "calibration added to every reading, in hundredths of °C" },
  { key: "probe.address", pref: "p_addr", type: "int", unit: "", hex: true, min: 0, max: 0x77, default: 0, help: "I2C address of the probe chip; 0 for its own (TMP117/TMP102 0x48, SHT4x 0x44)" },
  { key: "probe.stuck", pref: "p_stuck", type: "int", unit: "readings", min: 0, max: 1000, default: 0, pushable: true, help: "identical readings in a row reported as a stuck probe; 0 = off" },
  { key: "probe.avg", pref: "p_avg", type: "int", unit: "conversions", values: [1, 8, 32, 64], min: 1, max: 64, default: 8, pushable: true, help: "TMP117 averaging: 1 converts in 16 ms, 8 in 125 ms, 32 in 500 ms, 64 in 1 s" },
  { key: "probe.ext", pref: "p_ext", type: "choice", choices: ["off", "on"], default: "off", pushable: true, help: "TMP102 extended mode (13 bits, up to 150 °C)" },
  { key: "ntc.side", pref: "ntc_side", type: "choice", choices: ["low", "high"], default: "low", help: "NTC on the low side (to ground) or the high side (to the supply) of the divider" },
  { key: "ntc.r25", pref: "ntc_r25", type: "int", unit: "ohms", min: 100, max: 1000000, default: 10000, help: "NTC resistance at 25 °C (Beta model)" },
  { key: "ntc.beta", pref: "ntc_beta", type: "int", unit: "K", min: 1000, max: 10000, default: 3950, help: "NTC thermistor B constant" },
  { key: "ntc.sh", pref: "ntc_sh", type: "text", maxLength: 60, default: "", check: checkSteinhartHart, help: "Steinhart-Hart instead of Beta: three points of the part's table, °C:ohms, e.g. 0:31770,25:10000,50:3592" },
  { key: "ntc.series", pref: "ntc_series", type: "int", unit: "ohms", min: 100, max: 1000000, default: 10000, help: "NTC divider's fixed resistor" },
  { key: "ntc.power", pref: "ntc_power", type: "int", unit: "", min: -1, max: 39, default: -1, help: "GPIO that powers the NTC divider only while sampling; -1 if it is always powered" },
] as Field[]).map((field) => {
  // Deep: the linker copies any unfrozen object reachable from a preloaded module into RAM.
  if ("choices" in field) Object.freeze(field.choices);
  if ("values" in field && field.values) Object.freeze(field.values);
  return Object.freeze(field);
}));

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
    const unit = field.unit ? ` of ${field.unit}` : "";
    let value: number;
    const text = typeof raw === "string" ? raw.trim() : "";
    if (typeof raw === "number") value = raw;
    else if (/^-?[0-9]+$/.test(text)) value = Number(text);
    else if (field.hex && /^0[xX][0-9A-Fa-f]{1,8}$/.test(text)) value = parseInt(text.slice(2), 16);
    else return { ok: false, error: `${key} must be a whole number${unit}` };
    if (!Number.isInteger(value)) return { ok: false, error: `${key} must be a whole number${unit}` };
    if (field.values && field.values.indexOf(value) < 0) return { ok: false, error: `${key} must be one of ${field.values.join(", ")}` };
    if (value < field.min || value > field.max) {
      const range = field.hex ? `0x${field.min.toString(16)} and 0x${field.max.toString(16)}` : `${field.min} and ${field.max}`;
      return { ok: false, error: `${key} must be between ${range}${field.unit ? " " + field.unit : ""}` };
    }
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
    if (c < 0x20 || (c >= 0x7f && c < 0xa0)) return { ok: false, error: `${key} must not contain control characters` };
    if (c >= 0xd800 && c < 0xe000) {
      // A surrogate is fine only as half of a pair: a lone one has no UTF-8 form to store.
      const next = raw.charCodeAt(i + 1);
      if (c >= 0xdc00 || !(next >= 0xdc00 && next < 0xe000)) return { ok: false, error: `${key} must be valid Unicode text` };
      i++;
    }
  }
  if (utf8Length(raw) > field.maxLength)
    return { ok: false, error: `${key} must be at most ${field.maxLength} bytes in UTF-8 (accented letters take 2 or more)` };
  const problem = field.check?.(raw);
  if (problem) return { ok: false, error: `${key} ${problem}` };
  return { ok: true, value: raw };
}

/** Rules that join fields; checked on every change, so that no combination is half-applied. */
export function checkTogether(values: Readonly<ConfigValues>): string | undefined {
  if ((values["link.backoff.base"] as number) > (values["link.backoff.cap"] as number))
    return "link.backoff.base must not be more than link.backoff.cap";
  return undefined;
}

/** Bytes `text` takes in UTF-8 (well-formed text: parseValue has refused lone surrogates). */
export function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c < 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

export function defaults(): ConfigValues {
  const values = {} as ConfigValues;
  for (const field of FIELDS) values[field.key] = field.default;
  return values;
}
