/*
 * `host/tls` where the build has no TLS client: ESP8266 (the SDK's TLS needs more heap than its 32 KB XS
 * block leaves, docs/memory.md), and the desktop builds that do not test it. wss:// is refused up front
 * (modules/link/link.ts), so nothing here is ever asked to connect.
 */
import type { TlsState } from "../host";
import type { PlatformTls } from "./tls";

export default class NoTls implements PlatformTls {
  readonly Socket: unknown = undefined;
  get state(): TlsState {
    return "none";
  }
  secure(): object {
    throw new Error("tls: not in this build");
  }
  clockReady(_ntp: string, done: (error: string) => void): void {
    done("tls: not in this build");
  }
  cancel(): void {}
}
