/*
 * The admin credential: one secret that opens the dashboard and the HTTP API. A script sends it as
 * `Authorization: Bearer <token>`; a browser logs in once with it (POST /login) and then carries a session
 * cookie derived from it (HttpOnly, SameSite=Strict), so the token itself never sits in the browser.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

export const SESSION_COOKIE = "thermocast_session";
const SESSION_DAYS = 30;

export function newAdminToken(): string {
  return randomBytes(24).toString("base64url");
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/** Compares through fixed-length digests, so neither the length nor a prefix of the secret leaks. */
function same(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

export class AdminCredential {
  readonly #token: string;
  readonly #session: string;

  constructor(token: string) {
    if (token.length < 8) throw new Error("the admin token must be at least 8 characters");
    this.#token = token;
    // Changing the token ends every browser session made with the old one.
    this.#session = createHmac("sha256", token).update("thermocast dashboard session v1").digest("base64url");
  }

  get token(): string {
    return this.#token;
  }

  checkToken(given: string | undefined): boolean {
    return given !== undefined && same(given, this.#token);
  }

  /** A Bearer header with the token, or the session cookie. */
  authorized(req: IncomingMessage): boolean {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "")?.[1];
    if (bearer !== undefined) return this.checkToken(bearer);
    const cookie = cookies(req)[SESSION_COOKIE];
    return cookie !== undefined && same(cookie, this.#session);
  }

  /** The Set-Cookie header of a login. */
  loginCookie(secure: boolean): string {
    return `${SESSION_COOKIE}=${this.#session}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_DAYS * 86400}${secure ? "; Secure" : ""}`;
  }
}

export function logoutCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? "; Secure" : ""}`;
}

export function cookies(req: IncomingMessage): Record<string, string> {
  const jar: Record<string, string> = {};
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0) jar[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return jar;
}

/**
 * True when the request comes from a page of this server: its Origin is this server's own scheme and
 * host. A request without Origin (a script, curl) passes only when `required` is false.
 */
export function sameOrigin(req: IncomingMessage, secure: boolean, required: boolean): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return !required;
  const host = req.headers.host;
  return host !== undefined && origin === `${secure ? "https" : "http"}://${host}`;
}
