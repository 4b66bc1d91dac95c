/*
 * What the adapter (modules/host/moddable.ts) asks of a platform's TLS: one module per platform, chosen
 * by the manifest as `host/tls` (secure.ts where the SDK's TLS client fits, none.ts elsewhere).
 */
import type { TlsState } from "../host";

export interface PlatformTls {
  /** "none": no TLS client in the build; "no-ca": one, but no server CA to trust; "ready". */
  readonly state: TlsState;
  /** The socket class the WebSocket client builds its connection from, or undefined without TLS. */
  readonly Socket: unknown;
  /** The client's `secure` options (the CA to trust): only when `state` is "ready". */
  secure(): object;
  /**
   * Calls `done("")` once the clock can date a certificate (at once when it can), or `done(reason)` when it
   * could not be set; asks `ntp` (an SNTP server's host name or address) when it must.
   */
  clockReady(ntp: string, done: (error: string) => void): void;
  /** Forgets a clockReady() still waiting: `done` is not called. */
  cancel(): void;
}
