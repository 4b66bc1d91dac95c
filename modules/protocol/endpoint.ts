/*
 * The rules of the device endpoint that both sides apply (docs/protocol.md): the protocol version, what a
 * device id may be, and what a server URL may be. One definition, imported by the device (config schema,
 * link, uplink, host) and by the server, so the two cannot drift apart.
 */

/** The version a `hello` carries and the server speaks. */
export const PROTOCOL_VERSION = 1;

/**
 * A device id: 1 to 32 of [A-Za-z0-9_.-]. `.` and `..` are left out: a URL path normalises them away, so
 * such a device could never connect.
 */
export const DEVICE_ID = /^(?!\.\.?$)[A-Za-z0-9_.-]{1,32}$/;

/** Why `id` cannot be a device id, or undefined when it can. */
export function checkDeviceId(id: string): string | undefined {
  if (id === "") return "must not be empty";
  if (id.length > 32) return "must be at most 32 characters";
  if (id === "." || id === "..") return "must not be . or ..";
  return DEVICE_ID.test(id) ? undefined : "may use only letters, digits, '_', '.' and '-'";
}

/** A device connects to the server URL's path followed by this and its id. */
export const DEVICE_PATH = "/v1/device/";

export interface ServerUrl {
  secure: boolean;
  host: string;
  port: number;
  /** The path, "/" when none, without trailing slashes beyond the first. */
  path: string;
}

/**
 * The one parser of a server URL, ws://host[:port][/path] or wss://…: its parts, or why it is refused.
 * A query or a fragment is refused: the device path is appended to the URL, and would land inside them.
 */
export function parseServerUrl(url: string): ServerUrl | string {
  const secure = url.startsWith("wss://");
  if (!secure && !url.startsWith("ws://")) return "must start with ws:// or wss://";
  for (let i = 0; i < url.length; i++) if (url.charCodeAt(i) <= 0x20) return "must not contain spaces";
  if (url.indexOf("?") >= 0 || url.indexOf("#") >= 0) return "must not have a query (?) or a fragment (#)";
  const rest = url.slice(secure ? 6 : 5);
  const slash = rest.indexOf("/");
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  let path = slash < 0 ? "/" : rest.slice(slash);
  while (path.length > 1 && path.endsWith("/")) path = path.slice(0, -1);
  // An IPv6 literal is bracketed: its colons are not the port's.
  const bracket = authority.lastIndexOf("]");
  const colon = authority.lastIndexOf(":");
  const hasPort = colon > bracket;
  const host = hasPort ? authority.slice(0, colon) : authority;
  if (host === "" || host === "[]") return "has no host";
  let port = secure ? 443 : 80;
  if (hasPort) {
    const digits = authority.slice(colon + 1);
    if (!/^[0-9]{1,5}$/.test(digits) || Number(digits) < 1 || Number(digits) > 65535) return "has a bad port";
    port = Number(digits);
  }
  return { secure, host, port, path };
}

/** The URL device `id` connects to on the server at `url` (a URL parseServerUrl accepts). */
export function deviceUrl(url: string, id: string): string {
  let base = url;
  while (base.endsWith("/")) base = base.slice(0, -1);
  return base + DEVICE_PATH + id;
}
