/*
 * `host/tls` on esp32 (and lin, where mcsim tests it): the SDK's SecureSocket under the WebSocket client,
 * trusting the one CA the build carries, the resource `server-ca.der` (config/tls/README.md). A certificate
 * is only valid between two dates and the SDK checks them against `Date.now()`; a board boots with its
 * clock at 1970, so before the first wss:// connection the clock is set over SNTP (docs/tls.md).
 */
import SecureSocket from "securesocket";
import SNTP from "sntp";
import Time from "time";
import Timer from "timer";
import Resource from "Resource";
import type { TlsState } from "../host";
import type { PlatformTls } from "./tls";

const CA = "server-ca.der";
/** 2025-01-01: a clock before this was never set (the build is newer), so it cannot date a certificate. */
const CLOCK_SET = 1735689600000;
/**
 * How long SNTP may take: the SDK's client retries every 5 s; give up before the link's connect timeout
 * (10 s, modules/link/link.ts) so that the reason, not "connect timed out", is what the link reports.
 */
const SNTP_WAIT = 8000;
/** TLS 1.2: what the SDK's TLS client speaks. */
const TLS_1_2 = 0x0303;

export default class SecureTls implements PlatformTls {
  readonly Socket: unknown = SecureSocket;
  #sntp: SNTP | undefined;
  #timer: ReturnType<typeof Timer.set> | undefined;

  get state(): TlsState {
    return Resource.exists(CA) ? "ready" : "no-ca";
  }

  secure(): object {
    return { protocolVersion: TLS_1_2, certificate: new Resource(CA) };
  }

  clockReady(ntp: string, done: (error: string) => void): void {
    this.cancel();
    if (Date.now() >= CLOCK_SET) return done("");
    const finish = (error: string) => {
      this.cancel();
      done(error);
    };
    this.#timer = Timer.set(() => finish(`tls: the clock is not set (no answer from ${ntp} in ${SNTP_WAIT / 1000} s)`), SNTP_WAIT);
    try {
      this.#sntp = new SNTP({ host: ntp }, (message, value) => {
        if (message === SNTP.time) {
          Time.set(value!);
          // The SNTP client closes itself once it has the time.
          this.#sntp = undefined;
          finish(Date.now() >= CLOCK_SET ? "" : `tls: the clock is not set (${ntp} answered, the clock did not take it)`);
        } else if (message === SNTP.error) {
          // Returning nothing ends the client (it would try the host name returned instead).
          this.#sntp = undefined;
          Timer.set(() => finish(`tls: the clock is not set (${ntp}: ${value})`), 0);
        }
      });
    } catch {
      finish(`tls: the clock is not set (cannot ask ${ntp})`);
    }
  }

  cancel(): void {
    if (this.#timer) Timer.clear(this.#timer);
    this.#timer = undefined;
    const sntp = this.#sntp as unknown as { close(): void } | undefined;
    this.#sntp = undefined;
    try {
      sntp?.close();
    } catch {}
  }
}
