/*
 * The one place that imports Moddable host modules. Each method is a thin mapping; no logic lives here
 * that a test would need to reach.
 */
import Timer from "timer";
import Time from "time";
import WiFi from "wifi";
import Preference from "preference";
import { Client } from "websocket";
import manifestConfig from "mc/config";
import { parseWebSocketUrl, type Host, type TimerHandle, type WebSocketEvents, type WebSocketHandle, type WifiEvent, type WifiOptions } from "./host";
import type { PreferenceStore } from "../../config/settings";

const DOMAIN = "thermocast";

class ModdablePreferences implements PreferenceStore {
  get(key: string): string | number | undefined {
    const value = Preference.get(DOMAIN, key);
    return typeof value === "string" || typeof value === "number" ? value : undefined;
  }
  set(key: string, value: string | number): void {
    Preference.set(DOMAIN, key, value);
  }
  remove(key: string): void {
    Preference.delete(DOMAIN, key);
  }
}

export class ModdableHost implements Host {
  readonly manifest: Readonly<Record<string, unknown>>;
  readonly preferences: PreferenceStore = new ModdablePreferences();
  #wifi: WiFi | undefined;
  // Time.ticks is a 32-bit millisecond counter on the boards: unwrap it.
  #lastTicks = 0;
  #wraps = 0;

  constructor() {
    const config = manifestConfig as unknown as Record<string, unknown>;
    this.manifest = (config.thermocast ?? {}) as Record<string, unknown>;
  }

  ticks(): number {
    const ticks = Time.ticks >>> 0;
    if (ticks < this.#lastTicks) this.#wraps++;
    this.#lastTicks = ticks;
    return this.#wraps * 4294967296 + ticks;
  }

  random(): number {
    return Math.random();
  }

  setTimer(callback: () => void, ms: number): TimerHandle {
    return Timer.set(() => callback(), ms) as unknown as TimerHandle;
  }

  clearTimer(timer: TimerHandle | undefined): void {
    if (timer) Timer.clear(timer as unknown as ReturnType<typeof Timer.set>);
  }

  joinWifi(options: WifiOptions, onEvent: (event: WifiEvent) => void): void {
    this.leaveWifi();
    this.#wifi = new WiFi({ ssid: options.ssid, password: options.password }, (message) => {
      if (message === WiFi.gotIP) onEvent("connected");
      else if (message === WiFi.disconnected || message === WiFi.lostIP) onEvent("disconnected");
    });
  }

  leaveWifi(): void {
    if (!this.#wifi) return;
    this.#wifi.close();
    this.#wifi = undefined;
  }

  openWebSocket(url: string, headers: string[], events: WebSocketEvents): WebSocketHandle {
    const parts = parseWebSocketUrl(url);
    if (!parts || parts.secure) throw new Error(`cannot open ${url}`);
    const client = new Client({ host: parts.host, port: parts.port, path: parts.path, headers });
    let open = true;
    client.callback = (message: number, value?: unknown) => {
      if (!open) return;
      if (message === Client.handshake) events.onOpen();
      else if (message === Client.receive && typeof value === "string") events.onText(value);
      else if (message === Client.disconnect) {
        open = false;
        events.onClose();
      }
    };
    return {
      send(text: string) {
        client.write(text);
      },
      close() {
        if (!open) return;
        open = false;
        client.close();
      },
    };
  }

  log(text: string): void {
    trace(text, "\n");
  }

  resetReason(): string {
    return "unknown";
  }

  restart(): void {
    throw new Error("restart is not available on this platform");
  }
}
